"""Typed reads of a template's objects, each error naming the file and the field's path.

A ``Node`` is a resolved object of the template and where it is (``extract.Properties``, a resource's
Properties, resolves each value only when it is read, so only what is read must resolve). Scalars are
read as CloudFormation reads them: a property of type Integer, Double or Boolean also takes the string
that spells one (``"80"``, ``"true"``), which is what a parameter's ``Ref`` gives.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ecs_bg.local.cloudformation.errors import FieldPath, TemplateError
from ecs_bg.local.cloudformation.intrinsics import NO_VALUE, integer, text

_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


class Node:
    def __init__(self, value: Any, file: Path, path: FieldPath) -> None:
        if not isinstance(value, dict):
            raise TemplateError(file, path, f"must be an object, got {type(value).__name__}")
        self.value = value
        self.file = file
        self.path = path

    def error(self, key: str | None, reason: str) -> TemplateError:
        return TemplateError(self.file, self.path if key is None else (*self.path, key), reason)

    def get(self, key: str) -> Any:
        """The value at ``key``; None when absent (or ``AWS::NoValue``)."""
        value = self.value.get(key)
        return None if value is NO_VALUE else value

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def _required(self, key: str, what: str) -> Any:
        value = self.get(key)
        if value is None:
            raise self.error(key, f"is missing ({what})")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self.get(key)
        if value is None:
            if default is None:
                raise self.error(key, "is missing")
            return default
        return text(value, self.file, (*self.path, key))

    def maybe_text(self, key: str) -> str | None:
        return None if self.get(key) is None else self.text(key)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.get(key)
        if value is None:
            if default is None:
                raise self.error(key, "is missing")
            return default
        return integer(value, self.file, (*self.path, key))

    def maybe_integer(self, key: str) -> int | None:
        return None if self.get(key) is None else self.integer(key)

    def number(self, key: str, default: float | None = None) -> float:
        value = self.get(key)
        if value is None:
            if default is None:
                raise self.error(key, "is missing")
            return default
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            return float(value)
        raise self.error(key, f"must be a number, got {value!r}")

    def maybe_number(self, key: str) -> float | None:
        return None if self.get(key) is None else self.number(key)

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.error(key, f"must be true or false, got {value!r}")

    def node(self, key: str) -> Node | None:
        value = self.get(key)
        return None if value is None else Node(value, self.file, (*self.path, key))

    def nodes(self, key: str) -> list[Node]:
        """A list of objects; none when absent."""
        return [Node(item, self.file, (*self.path, key, index)) for index, item in enumerate(self._list(key))]

    def texts(self, key: str) -> tuple[str, ...]:
        """A list of strings; none when absent."""
        return tuple(
            text(item, self.file, (*self.path, key, index)) for index, item in enumerate(self._list(key))
        )

    def text_map(self, key: str) -> dict[str, str]:
        """An object of strings (environment variables, tags by key); empty when absent."""
        node = self.node(key)
        return {} if node is None else {name: node.text(name) for name in node.value}

    def _list(self, key: str) -> list[Any]:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, got {type(value).__name__}")
        return value
