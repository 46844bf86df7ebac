"""hookDetails as configuration: defaults, merging, and typed, validated check settings.

A hook's settings come from three layers, later ones winning key by key: the entry file's
defaults, the function's ``ECS_BG_HOOK_DETAILS`` environment variable (JSON, set by the stack),
and the ``hookDetails`` configured on the hook in ecs-service-def.json. Checks declare their
settings as frozen dataclasses with snake_case fields; hookDetails spells them in camelCase like
the ECS API. Anything unknown, mistyped or missing is a ``ConfigError`` naming the field.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import sys
import types
import typing
import weakref
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from ecs_bg.hooks.errors import ConfigError as ConfigError

HOOK_DETAILS_ENV: Final = "ECS_BG_HOOK_DETAILS"
# Where the runtime keeps its own state (waits in progress) inside hookDetails across IN_PROGRESS.
STATE_KEY: Final = "ecsBgState"
# hookDetails keys the runtime reads itself rather than passing to a check.
RUNTIME_KEYS: Final = frozenset({STATE_KEY, "runOnRollback"})
# Our bound on a hook's hookDetails, configured keys and runtime state together. ECS documents none;
# every IN_PROGRESS answer re-sends the configured keys with the state (handler.py's _carry_over says why).
MAX_HOOK_DETAILS_BYTES: Final = 64 * 1024
# What the runtime state may take of that: waits (a few fixed fields each) and the checks' own small
# records (the migration task's ARN, container and log names: at most about 1.6 KB).
STATE_BUDGET_BYTES: Final = 4 * 1024

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, kw_only=True)
class CheckSettings:
    """What every check accepts: ``dryRun`` evaluates and logs but never fails the deployment.

    A subclass's field types are resolved and checked when the class is declared: a type no
    hookDetails JSON can fill is a ``TypeError`` at import, not at the first invocation. The
    resolved types replace the annotations before ``@dataclass`` reads them, so a module declaring
    settings under ``from __future__ import annotations`` need not be in sys.modules (dataclasses
    looks string annotations up there).
    """

    dry_run: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        globalns, localns = _declaring_namespaces(cls)
        cls.__annotations__ = _resolve_own(cls, globalns, localns)
        _declare(cls, globalns, localns)


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two JSON objects; ``override`` wins, objects merge key by key."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = merge(current, value)
        else:
            merged[key] = value
    return merged


def layered_details(defaults: Mapping[str, Any], hook_details: Mapping[str, Any]) -> dict[str, Any]:
    """The entry file's defaults, then ECS_BG_HOOK_DETAILS, then the event's hookDetails."""
    raw = os.environ.get(HOOK_DETAILS_ENV, "").strip()
    env_details: Mapping[str, Any] = {}
    if raw:
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ConfigError(f"(env {HOOK_DETAILS_ENV})", f"not valid JSON: {error}") from None
        if not isinstance(parsed, Mapping):
            raise ConfigError(f"(env {HOOK_DETAILS_ENV})", "must be a JSON object")
        env_details = parsed
    return merge(merge(defaults, env_details), hook_details)


def json_size(value: object) -> int:
    """Bytes of ``value`` as JSON, the way the Lambda runtime serializes an answer."""
    return len(json.dumps(value, default=str).encode())


def parse_hook_details(value: object) -> dict[str, Any]:
    """A hook's hookDetails as an object; ``ValueError`` (naming no field: callers do) otherwise.

    ECS takes an object, but CloudFormation's ``HookDetails`` is a JSON string and Terraform users
    write ``jsonencode(...)``: a string holding an object is accepted as that object.
    """
    if value is None:  # absent and {} mean the same: nothing configured
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"a JSON string must hold an object, but it is not valid JSON: {error}"
            ) from None
        if not isinstance(value, Mapping):
            raise ValueError(f"a JSON string must hold an object, got {json_type(value)}")
    if not isinstance(value, Mapping):
        raise ValueError(f"expected an object (or a JSON string holding one), got {json_type(value)}")
    return dict(value)


def configured_size_problem(details: Mapping[str, Any]) -> str | None:
    """Why configured hookDetails cannot ride in an IN_PROGRESS answer beside the runtime state."""
    size = json_size(details)
    room = MAX_HOOK_DETAILS_BYTES - STATE_BUDGET_BYTES
    if size <= room:
        return None
    return (
        f"{size} bytes as JSON; every IN_PROGRESS answer re-sends them with up to "
        f"{STATE_BUDGET_BYTES} bytes of runtime state, so they must stay within {room} bytes "
        f"of the {MAX_HOOK_DETAILS_BYTES}-byte limit"
    )


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def parse_config(cls: type[T], data: object, path: str) -> T:
    """Build the dataclass ``cls`` from a hookDetails object, validating every field."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not isinstance(data, Mapping):
        raise ConfigError(path, f"expected an object, got {shown(data)}")
    hints = setting_types(cls)
    fields = {camel(f.name): f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - fields.keys())
    if unknown:
        raise ConfigError(f"{path}.{unknown[0]}", f"unknown setting; known: {', '.join(sorted(fields))}")
    values: dict[str, Any] = {}
    for key, spec in fields.items():
        if key in data:
            values[spec.name] = _coerce(data[key], hints[spec.name], f"{path}.{key}", spec.metadata)
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{path}.{key}", "missing (required)")
    try:
        return cls(**values)
    except ValueError as error:  # cross-field rules in __post_init__
        raise ConfigError(path, str(error)) from None


def setting_types(cls: type[Any]) -> Mapping[str, Any]:
    """The resolved and checked type of every field of the settings dataclass ``cls``.

    ``CheckSettings`` subclasses are resolved when declared, against the namespace they were
    declared in, so an entry file loaded without a ``sys.modules`` entry works too; any other
    dataclass is resolved on first use against its module.
    """
    known = _SETTING_TYPES.get(cls)
    if known is None:
        module = sys.modules.get(cls.__module__)
        known = _declare(cls, vars(module) if module is not None else {}, None)
    return known


# Settings classes' resolved field types, by class; weak so classes made at run time can go.
_SETTING_TYPES: weakref.WeakKeyDictionary[type[Any], Mapping[str, Any]] = weakref.WeakKeyDictionary()
_JSON_SCALARS: Final = (bool, int, float, str)
_SUPPORTED: Final = (
    "bool, int, float, str, Any, Literal[...] of those, list[T], tuple[T, ...], dict[str, T], "
    "a dataclass, or a union of these (T | None, int | str)"
)


def _declaring_namespaces(cls: type[Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The globals and locals of the code running the ``class`` statement that made ``cls``.

    Found on the stack while the class is being made: the module may not be in sys.modules (an
    entry file loaded with spec_from_file_location), and a class made in a function sees its locals.
    """
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") != cls.__module__:
        frame = frame.f_back
    if frame is None:
        module = sys.modules.get(cls.__module__)
        return (vars(module) if module is not None else {}), None
    localns = None if frame.f_locals is frame.f_globals else dict(frame.f_locals)
    return frame.f_globals, localns


def _resolve_own(cls: type[Any], globalns: dict[str, Any], localns: dict[str, Any] | None) -> dict[str, Any]:
    """``cls``'s own annotations (not its bases'), resolved in the namespace they were written in."""
    shim = type(
        cls.__name__, (), {"__annotations__": inspect.get_annotations(cls), "__module__": cls.__module__}
    )
    try:
        return typing.get_type_hints(shim, globalns=globalns, localns={**(localns or {}), **vars(cls)})
    except (NameError, TypeError, SyntaxError) as error:
        raise TypeError(f"{cls.__qualname__}: cannot resolve the setting types: {error}") from None


def _declare(cls: type[Any], globalns: dict[str, Any], localns: dict[str, Any] | None) -> Mapping[str, Any]:
    """Resolve ``cls``'s field types (its bases' as they resolved), check them, and remember them."""
    hints: dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:]):
        if dataclasses.is_dataclass(base):
            hints.update(setting_types(base))
    for name, hint in _resolve_own(cls, globalns, localns).items():
        if typing.get_origin(hint) is typing.ClassVar or isinstance(hint, dataclasses.InitVar):
            continue
        _check_type(hint, f"{cls.__qualname__}.{name}", globalns, localns)
        hints[name] = hint
    _SETTING_TYPES[cls] = hints
    return hints


def _check_type(hint: Any, where: str, globalns: dict[str, Any], localns: dict[str, Any] | None) -> None:
    """``TypeError`` naming ``where`` unless hookDetails JSON can fill a field of type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or hint in _JSON_SCALARS:
        return
    if origin is typing.Literal:
        if all(arg is None or isinstance(arg, _JSON_SCALARS) for arg in args):
            return
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is not type(None):
                _check_type(arg, where, globalns, localns)
        return
    elif hint in (list, tuple, dict):
        return
    elif origin in (list, tuple):
        for arg in args:
            if arg is not Ellipsis:
                _check_type(arg, where, globalns, localns)
        return
    elif origin is dict:
        if args[0] is str:
            _check_type(args[1], where, globalns, localns)
            return
    elif dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if hint not in _SETTING_TYPES and hint not in _DECLARING:
            module = sys.modules.get(hint.__module__)
            _DECLARING.add(hint)  # a dataclass that holds itself (a tree) checks once
            try:
                _declare(hint, vars(module) if module is not None else globalns, localns)
            finally:
                _DECLARING.discard(hint)
        return
    raise TypeError(f"{where}: unsupported setting type {hint!r}; settings take {_SUPPORTED}")


_DECLARING: set[type[Any]] = set()


def bounded(minimum: float | None = None, maximum: float | None = None) -> dict[str, float | None]:
    """Field metadata: the number must lie within [minimum, maximum]."""
    return {"min": minimum, "max": maximum}


def _coerce(value: object, hint: Any, path: str, metadata: Mapping[str, Any]) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(path, f"must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(value, args, path, metadata)
    if hint in (list, tuple, dict):  # unparameterized: any JSON inside
        origin, args = hint, ()
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(path, f"expected an array, got {shown(value)}")
        if origin is tuple and args and args[-1] is not Ellipsis:  # fixed length: tuple[int, str]
            if len(value) != len(args):
                raise ConfigError(path, f"expected an array of {len(args)} items, got {len(value)}")
            pairs = enumerate(zip(value, args, strict=True))
            items = [_coerce(item, arg, f"{path}[{i}]", metadata) for i, (item, arg) in pairs]
        else:
            item_hint = args[0] if args else Any
            items = [_coerce(item, item_hint, f"{path}[{i}]", metadata) for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(path, f"expected an object, got {shown(value)}")
        value_hint = args[1] if args else Any
        return {str(k): _coerce(v, value_hint, f"{path}.{k}", {}) for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return parse_config(typing.cast(type[Any], hint), value, path)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"expected true or false, got {shown(value)}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected a string, got {shown(value)}")
        return value
    if hint in (int, float):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (hint is int and value != int(value))
        ):
            raise ConfigError(path, f"expected {'an integer' if hint is int else 'a number'}, got {value!r}")
        number = hint(value)
        low, high = metadata.get("min"), metadata.get("max")
        if (low is not None and number < low) or (high is not None and number > high):
            raise ConfigError(path, f"{value!r} is out of range [{low}, {high}]")
        return number
    if hint is Any:
        return value
    raise TypeError(f"{path}: unsupported setting type {hint!r}")


def _coerce_union(value: object, members: tuple[Any, ...], path: str, metadata: Mapping[str, Any]) -> Any:
    """The first member that takes ``value``, trying those of its exact JSON kind first."""
    if value is None and type(None) in members:
        return None
    exact = [hint for hint in members if _is_kind_of(value, hint)]
    errors: list[ConfigError] = []
    for hint in [*exact, *(hint for hint in members if hint not in exact and hint is not type(None))]:
        try:
            return _coerce(value, hint, path, metadata)
        except ConfigError as error:
            errors.append(error)
    if exact:  # the member of its kind says best what is wrong (out of range, not one of ...)
        raise errors[0]
    wanted = " or ".join(_kind_name(hint) for hint in members)
    raise ConfigError(path, f"expected {wanted}, got {shown(value)}")


def _is_kind_of(value: object, hint: Any) -> bool:
    """Whether ``value`` is of the JSON kind ``hint`` reads, with no conversion (5 for int, not str)."""
    origin = typing.get_origin(hint) or hint
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if isinstance(value, bool):
        return hint is bool
    if isinstance(value, int):
        return hint is int
    if isinstance(value, float):
        return hint is float
    if isinstance(value, str):
        return hint is str
    if isinstance(value, list):
        return origin in (list, tuple)
    if isinstance(value, Mapping):
        return origin is dict or dataclasses.is_dataclass(hint)
    return False


def _kind_name(hint: Any) -> str:
    origin = typing.get_origin(hint) or hint
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, typing.get_args(hint)))
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", list: "an array"}
    names |= {tuple: "an array", dict: "an object", type(None): "null"}
    return names.get(origin, "an object" if dataclasses.is_dataclass(hint) else repr(hint))


def shown(value: object) -> str:
    """A hookDetails value as an error names it: its JSON kind, and a scalar's JSON text, cut short
    (``number 7``, ``string "5"``); an array or object only by its kind, which may be large."""
    kind = json_type(value)
    if not isinstance(value, bool | int | float | str):
        return kind
    text = json.dumps(value)
    return f"{kind} {text[:_SHOWN_CHARS]}{'…' if len(text) > _SHOWN_CHARS else ''}"


_SHOWN_CHARS: Final = 60


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, Mapping) else type(value).__name__
