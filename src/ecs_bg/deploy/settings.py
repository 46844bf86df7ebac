"""One way to read a settings file: typed dataclasses, checked at every level, errors naming the key.

``simulation.yml``, ``ecspresso.yml`` and the CDK context each declare their settings as frozen
dataclasses; ``parse_settings`` builds one from the parsed document. Any unknown key (with the
closest known one), wrong type, out-of-range number or value outside a set of choices is a
``SettingsError`` that names the file (or ``context key``) and the key's dotted path:

    ecspresso/simulation.yml: load.rate must be a positive number, got -1
    context key hooksInVpc must be true or false, got 'ture'

CDK's ``-c key=value`` hands every value over as a string while cdk.json's are typed, so
``strings=True`` first reads a top-level string as the declared type, only when it spells it
exactly (``"8080"``, ``"true"``, JSON for lists and objects). Nothing here imports aws_cdk: the
simulator reads the stack's context through it too.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.hooks.config import camel

T = TypeVar("T")
INTEGER = re.compile(r"[+-]?[0-9]+")


class SettingsError(DefinitionError, ValueError):
    """A setting is wrong: ``where`` is the file (or ``context key``), ``path`` the dotted key."""

    def __init__(self, where: str, path: str, reason: str) -> None:
        super().__init__(f"{where} {path} {reason}" if path else f"{where} {reason}")
        self.where = where
        self.path = path
        self.reason = reason


def setting(
    *,
    key: str | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
    min_items: int | None = None,
    choices: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Field metadata: the key's spelling when not the camelCase of the field's name, bounds, and
    the choices of a string that may be written in any case (ecspresso's plugin names)."""
    return {
        "key": key,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "positive": positive,
        "min_items": min_items,
    }


def parse_settings(
    cls: type[T],
    document: object,
    where: str,
    *,
    key: Callable[[str], str] = camel,
    strings: bool = False,
    ignore: Callable[[str], bool] = lambda _key: False,
) -> T:
    """Build the dataclass ``cls`` from ``document``; every mistake is a ``SettingsError``.

    ``where`` starts each message (``"ecspresso/simulation.yml:"``, ``"context key"``); ``key``
    spells a field's key from its name; top-level keys for which ``ignore`` holds belong to someone
    else (CDK's own context) and are skipped; ``strings`` reads top-level strings as their types.
    """
    parser = _Parser(where, key, object_word="a JSON object" if strings else "a mapping")
    if not isinstance(document, Mapping):
        raise SettingsError(where, "", f"expected {parser.object_word} of settings, got {_shown(document)}")
    document = {k: v for k, v in document.items() if not ignore(str(k))}
    if strings:
        document = parser.from_strings(cls, document)
    return parser.dataclass(cls, document, "")


@dataclasses.dataclass(frozen=True)
class _Parser:
    where: str
    key: Callable[[str], str]
    object_word: str

    def fail(self, path: str, reason: str) -> SettingsError:
        return SettingsError(self.where, path, reason)

    def keys(self, cls: type[Any]) -> dict[str, dataclasses.Field[Any]]:
        return {(f.metadata.get("key") or self.key(f.name)): f for f in dataclasses.fields(cls) if f.init}

    def dataclass(self, cls: type[T], data: Mapping[str, Any], path: str) -> T:
        hints = typing.get_type_hints(cls)
        fields = self.keys(cls)
        for name in data:
            if name not in fields:
                close = difflib.get_close_matches(str(name), list(fields), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.fail(
                    "", f"unknown key {_join(path, name)!r}{hint} (known: {', '.join(sorted(fields))})"
                )
        values: dict[str, Any] = {}
        for name, spec in fields.items():
            where = _join(path, name)
            if name in data:
                values[spec.name] = self.value(data[name], hints[spec.name], where, spec.metadata)
            elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise self.fail(where, f"is required ({_describe(hints[spec.name], spec.metadata, self)})")
        try:
            return cls(**values)
        except ValueError as error:  # cross-field rules in __post_init__
            raise self.fail(path, str(error)) from None

    def value(self, value: object, hint: Any, path: str, metadata: Mapping[str, Any]) -> Any:
        origin, args = typing.get_origin(hint), typing.get_args(hint)

        def wrong() -> SettingsError:
            return self.fail(path, f"must be {_describe(hint, metadata, self)}, got {_shown(value)}")

        if hint is Any:
            return value
        if origin is typing.Literal:
            if isinstance(value, bool) or value not in args:
                raise wrong()
            return value
        if origin in (typing.Union, types.UnionType):
            if value is None and type(None) in args:
                return None
            inners = [arg for arg in args if arg is not type(None)]
            if len(inners) == 1:
                return self.value(value, inners[0], path, metadata)
            for inner in inners:
                try:
                    return self.value(value, inner, path, metadata)
                except SettingsError:
                    pass
            raise wrong()
        if origin is tuple:
            if not isinstance(value, list) or len(value) < (metadata.get("min_items") or 0):
                raise wrong()
            return tuple(self.value(item, args[0], f"{path}[{i}]", {}) for i, item in enumerate(value))
        if origin is dict:
            if not isinstance(value, Mapping):
                raise wrong()
            return {str(k): self.value(v, args[1], _join(path, str(k)), {}) for k, v in value.items()}
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                raise wrong()
            return self.dataclass(typing.cast(type[Any], hint), value, path)
        if hint is bool or hint is str:
            if not isinstance(value, hint):
                raise wrong()
            choices = metadata.get("choices")
            if isinstance(value, str) and choices and value.upper() not in map(str.upper, choices):
                raise wrong()
            return value
        if hint in (int, float):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise wrong()
            if hint is int and value != int(value):
                raise wrong()
            number = hint(value)
            low, high = metadata.get("minimum"), metadata.get("maximum")
            if (
                (metadata.get("positive") and number <= 0)
                or (low is not None and number < low)
                or (high is not None and number > high)
            ):
                raise wrong()
            return number
        raise TypeError(f"{path}: unsupported setting type {hint!r}")

    def from_strings(self, cls: type[Any], document: Mapping[str, Any]) -> dict[str, Any]:
        """Top-level strings (``-c key=value``) read as the declared type, when they spell it."""
        hints = typing.get_type_hints(cls)
        fields = self.keys(cls)
        read = dict(document)
        for name, value in document.items():
            spec = fields.get(name)
            if spec is not None and isinstance(value, str):
                read[name] = self.string(value, hints[spec.name], name, spec.metadata)
        return read

    def string(self, text: str, hint: Any, path: str, metadata: Mapping[str, Any]) -> Any:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            if text == "" and type(None) in args:
                return None  # `-c certificateArn=` unsets it
            inners = [arg for arg in args if arg is not type(None)]
            if str in inners:
                return text
            (hint,) = inners  # a string spells one of several other types ambiguously
            origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint is str or hint is Any or origin is typing.Literal:
            return text
        if hint is bool and text in ("true", "false"):
            return text == "true"
        if hint is int and INTEGER.fullmatch(text.strip()):
            return int(text)
        if hint is float:
            try:
                return float(text)
            except ValueError:
                pass
        if origin is tuple and not text.lstrip().startswith("[") and args[0] is str:
            return [part.strip() for part in text.split(",") if part.strip()]  # a,b,c
        if origin in (tuple, dict) or dataclasses.is_dataclass(hint):
            try:
                return json.loads(text)
            except json.JSONDecodeError as error:
                raise self.fail(
                    path, f"must be {_describe(hint, metadata, self)}, got {text!r} (not valid JSON: {error})"
                ) from None
        raise self.fail(path, f"must be {_describe(hint, metadata, self)}, got {text!r}")


def _describe(hint: Any, metadata: Mapping[str, Any], parser: _Parser) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        choices = [str(arg) for arg in args]
        return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"
    if origin in (typing.Union, types.UnionType):
        inners = [arg for arg in args if arg is not type(None)]
        return " or ".join(_describe(inner, metadata, parser) for inner in inners)
    if origin is tuple:
        items = _describe(args[0], {}, parser)
        plural = {
            "a string": "strings",
            "an integer": "integers",
            "a number": "numbers",
            "a mapping": "mappings",
            "a JSON object": "JSON objects",
        }.get(items, items)
        least = metadata.get("min_items")
        return f"a list of {plural}" + (f" (at least {least})" if least else "")
    if origin is dict or dataclasses.is_dataclass(hint):
        return parser.object_word
    if hint is bool:
        return "true or false"
    if hint is str:
        if spelled := metadata.get("choices"):
            return f"{', '.join(spelled[:-1])} or {spelled[-1]} (any case)"
        return "a string"
    if hint in (int, float):
        kind = "an integer" if hint is int else "a number"
        if metadata.get("positive"):
            return f"a positive {kind.split()[-1]}"
        low, high = metadata.get("minimum"), metadata.get("maximum")
        if low is not None and high is not None:
            return f"{kind} from {low:g} to {high:g}"
        if low is not None:
            return f"{kind} of at least {low:g}"
        if high is not None:
            return f"{kind} of at most {high:g}"
        return kind
    return repr(hint)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _shown(value: object) -> str:
    shown = repr(value)
    if len(shown) <= 60:
        return shown
    return (
        "a list"
        if isinstance(value, list)
        else "a mapping"
        if isinstance(value, Mapping)
        else shown[:57] + "..."
    )
