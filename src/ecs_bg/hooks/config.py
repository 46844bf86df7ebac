"""hookDetails as configuration: defaults, merging, and typed, validated check settings.

A hook's settings come from three layers, later ones winning key by key: the entry file's
defaults, the function's ``ECS_BG_HOOK_DETAILS`` environment variable (JSON, set by the stack),
and the ``hookDetails`` configured on the hook in ecs-service-def.json. Checks declare their
settings as frozen dataclasses with snake_case fields; hookDetails spells them in camelCase like
the ECS API. Anything unknown, mistyped or missing is a ``ConfigError`` naming the field.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from ecs_bg.hooks.errors import ConfigError as ConfigError

HOOK_DETAILS_ENV: Final = "ECS_BG_HOOK_DETAILS"
# Where the runtime keeps its own state (waits in progress) inside hookDetails across IN_PROGRESS.
STATE_KEY: Final = "ecsBgState"
# hookDetails keys the runtime reads itself rather than passing to a check.
RUNTIME_KEYS: Final = frozenset({STATE_KEY, "runOnRollback"})
# Our bound on a hook's hookDetails, configured keys and runtime state together. ECS documents none;
# every IN_PROGRESS answer re-sends the configured keys with the state (runtime.py says why).
MAX_HOOK_DETAILS_BYTES: Final = 64 * 1024
# What the runtime state may take of that: waits (a few fixed fields each) and the checks' own small
# records (the migration task's ARN, container and log names: at most about 1.6 KB).
STATE_BUDGET_BYTES: Final = 4 * 1024

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, kw_only=True)
class CheckSettings:
    """What every check accepts: ``dryRun`` evaluates and logs but never fails the deployment."""

    dry_run: bool = False


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
        raise ConfigError(path, f"expected an object, got {json_type(data)}")
    hints = typing.get_type_hints(cls)
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
        if value is None and type(None) in args:
            return None
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _coerce(value, inner, path, metadata)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(path, f"expected an array, got {json_type(value)}")
        return tuple(_coerce(item, args[0], f"{path}[{i}]", metadata) for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(path, f"expected an object, got {json_type(value)}")
        return {str(k): _coerce(v, args[1], f"{path}.{k}", {}) for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return parse_config(typing.cast(type[Any], hint), value, path)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"expected true or false, got {json_type(value)}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected a string, got {json_type(value)}")
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
