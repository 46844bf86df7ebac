"""AWS's JSON protocol (``application/x-amz-json-1.1``) driven by botocore's service model: a request
is read and checked against its operation's input shape before anything acts on it, and an answer is
written from its output shape, member by member, so it carries exactly what the model names.

Checking is botocore's own ``ParamValidator`` (what every SDK runs before sending). Writing walks the
output shape here: moto ships a serializer too (``moto.core.serialize``), but importing it loads
``moto.core`` (0.6 s) into a process that must answer within a second of its start, while moto itself
runs as a separate process behind the endpoint.
"""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.validate import ParamValidator

# Jackson's names for JSON tokens, as AWS's own answers use them ("STRING_VALUE cannot be converted to
# Integer"), and the Java types botocore's shape types stand for.
_TOKENS: dict[type, str] = {
    str: "STRING_VALUE",
    bool: "VALUE_BOOLEAN",
    int: "NUMBER_VALUE",
    float: "NUMBER_VALUE",
    list: "START_ARRAY",
    dict: "START_OBJECT",
}
_NUMBERS = frozenset({"integer", "long", "double", "float"})
_TYPES = {
    "integer": "Integer",
    "long": "Long",
    "double": "Double",
    "float": "Float",
    "boolean": "Boolean",
    "string": "String",
    "timestamp": "Date",
    "blob": "ByteBuffer",
    "list": "List",
    "map": "Map",
    "structure": "Structure",
}


class RequestError(Exception):
    """What is wrong with a request: ``kind`` is ``serialization`` (not JSON of the shape's types) or
    ``parameter`` (a value the model does not admit); ``message`` names the member."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


def read_request(body: bytes, operation: OperationModel) -> dict[str, Any]:
    """The request's members, checked against the operation's input shape. JSON nulls are absent
    members; members the model does not name are dropped, as AWS's JSON services ignore them (a
    newer SDK may send members an older model lacks)."""
    try:
        document = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise RequestError("serialization", f"the body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise RequestError("serialization", f"the body must be a JSON object, not {_token(document)}")
    shape = operation.input_shape
    if shape is None:
        return {}
    request: dict[str, Any] = _known(document, shape)
    report = ParamValidator().validate(request, shape)
    for kind, name, details in report._errors:  # botocore's report, item by item
        where = name.lstrip(".") or "the request"
        if kind in ("invalid type", "invalid type for document"):
            member = _shape_at(shape, where)
            wanted = _TYPES.get(member.type_name, member.type_name) if member is not None else "its type"
            raise RequestError(
                "serialization", f"{_token(details['param'])} cannot be converted to {wanted} ({where})"
            )
        if kind == "missing required field":
            raise RequestError("parameter", f"{details['required_name']} must be specified ({where})")
        if kind == "invalid range":
            raise RequestError(
                "parameter", f"{where} must be at least {details['min_allowed']}, got {details['param']}"
            )
        if kind == "invalid length":
            raise RequestError(
                "parameter", f"{where} must have at least {details['min_allowed']} items or characters"
            )
        raise RequestError("parameter", f"{where}: {kind}")
    return request


def write_answer(value: Any, operation: OperationModel) -> bytes:
    shape = operation.output_shape
    return json.dumps(_write(value, shape) if shape is not None else {}).encode()


def _known(value: Any, shape: Shape, path: str = "") -> Any:
    """``value`` without JSON nulls and without members ``shape`` does not name. A JSON true or false
    where the model wants a number is refused here: Python's bool is an int to botocore's checks."""
    if isinstance(value, bool) and shape.type_name in _NUMBERS:
        raise RequestError(
            "serialization", f"VALUE_BOOLEAN cannot be converted to {_TYPES[shape.type_name]} ({path})"
        )
    if isinstance(shape, StructureShape) and not shape.metadata.get("document") and isinstance(value, dict):
        return {
            key: _known(item, shape.members[key], f"{path}.{key}".lstrip("."))
            for key, item in value.items()
            if key in shape.members
        }
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [
            _known(item, shape.member, f"{path}[{i}]") for i, item in enumerate(value) if item is not None
        ]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {k: _known(item, shape.value, f"{path}.{k}") for k, item in value.items() if item is not None}
    return value


def _write(value: Any, shape: Shape) -> Any:
    writer = _WRITERS.get(shape.type_name)
    return writer(value, shape) if writer is not None else value


def _structure(value: Any, shape: Shape) -> Any:
    assert isinstance(shape, StructureShape)
    if shape.metadata.get("document"):
        return value
    return {
        name: _write(value[name], member)
        for name, member in shape.members.items()
        if value.get(name) is not None
    }


def _list(value: Any, shape: Shape) -> Any:
    assert isinstance(shape, ListShape)
    return [_write(item, shape.member) for item in value]


def _map(value: Any, shape: Shape) -> Any:
    assert isinstance(shape, MapShape)
    return {str(key): _write(item, shape.value) for key, item in value.items()}


def _timestamp(value: Any, shape: Shape) -> float:
    """Epoch seconds, the JSON protocol's form."""
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return float(value)


def _blob(value: Any, shape: Shape) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()


_WRITERS: dict[str, Callable[[Any, Shape], Any]] = {
    "structure": _structure,
    "list": _list,
    "map": _map,
    "timestamp": _timestamp,
    "blob": _blob,
    "integer": lambda value, shape: int(value),
    "long": lambda value, shape: int(value),
    "double": lambda value, shape: float(value),
    "float": lambda value, shape: float(value),
    "boolean": lambda value, shape: bool(value),
    "string": lambda value, shape: str(value),
}


def _token(value: object) -> str:
    return "VALUE_NULL" if value is None else _TOKENS.get(type(value), type(value).__name__)


def _shape_at(shape: Shape, path: str) -> Shape | None:
    """The member shape at botocore's path ``a.b[0].c``."""
    for part in path.replace("]", "").replace("[", ".").split("."):
        if isinstance(shape, StructureShape) and part in shape.members:
            shape = shape.members[part]
        elif isinstance(shape, ListShape) and part.isdigit():
            shape = shape.member
        elif isinstance(shape, MapShape):
            shape = shape.value
        else:
            return None
    return shape
