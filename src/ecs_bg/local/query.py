"""AWS's query protocol (Elastic Load Balancing v2, CloudFormation), driven by botocore's model.

A request's form parameters (``Action=...&Version=...&Name.member.1=...``) are parsed against the
operation's input shape with moto's ``QueryParser``, checked against that shape as AWS checks it
(required members, enums, lengths, ranges, patterns: the messages are AWS's own form, "1 validation
error detected: Value ... at ... failed to satisfy constraint: ..."), handed to the operation as a dict,
and its dict answer is serialized from the output shape with moto's ``QuerySerializer``. Nothing here
writes XML by hand.

Errors are raised as ``AwsError``; the endpoint answers them as the query protocol's ErrorResponse
(HTTP 400 unless the error says otherwise).

moto's model code and the services' models take up to a second to load: ``load`` does it ahead, off
the event loop (``ecs-bg local`` calls it once it serves), so no request waits for it.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Mapping
from functools import cache
from types import SimpleNamespace
from typing import Any

from ecs_bg.local.endpoint import QueryAnswer
from ecs_bg.local.errors import AwsError

Operation = Callable[[dict[str, Any]], dict[str, Any]]
MAX_PARAMETERS = 10_000  # a form this large is no client's request


class QueryService:
    """One query-protocol service's operations: ``answers()`` is what the endpoint routes to."""

    def __init__(self, service: str, operations: Mapping[str, Operation]) -> None:
        self.service = service  # botocore's name: "elbv2", "cloudformation"
        self.operations = dict(operations)

    def answers(self) -> dict[str, QueryAnswer]:
        return {name: self._answer(name, operation) for name, operation in self.operations.items()}

    def _answer(self, name: str, operation: Operation) -> QueryAnswer:
        def answer(params: dict[str, str]) -> str:
            return self.call(name, operation, params)

        return answer

    def call(self, name: str, operation: Operation, params: Mapping[str, str]) -> str:
        model = _operation_model(self.service, name)
        version = params.get("Version")
        api_version = model.service_model.api_version
        if version is not None and version != api_version:
            # The endpoint routes by Action alone; another service's action of the same name (Classic
            # Load Balancing's DescribeLoadBalancers, 2012-06-01) is not this one.
            raise AwsError(
                "InvalidAction",
                f"ecs-bg local answers {name} of {model.service_model.service_name} {api_version} "
                f"only, not of API version {_shown(version)}",
            )
        if len(params) > MAX_PARAMETERS:
            raise AwsError("ValidationError", f"More than {MAX_PARAMETERS} request parameters")
        request = parse(model, params)
        problems = validate(model.input_shape, request) if model.input_shape is not None else []
        if problems:
            plural = "s" if len(problems) > 1 else ""
            raise AwsError(
                "ValidationError", f"{len(problems)} validation error{plural} detected: {'; '.join(problems)}"
            )
        return serialize(model, operation(request))


# moto's modules import one another in a circle: imported from two threads at once, one of them meets
# a module half made. So one thread imports them, once.
_IMPORTING = threading.Lock()


@cache
def _moto() -> Any:
    """moto's query-protocol parser (as Parser: see below), serializer and service models."""
    with _IMPORTING:
        from moto.core import parse, serialize, utils

    class Parser(parse.QueryParser):
        """moto's, refusing a value that is not of its member's type instead of failing on it."""

        def _scalar(self, shape: Any, query_params: Any, prefix: str, kind: str, convert: Any) -> Any:
            value = self._default_handle(shape, query_params, prefix)  # type: ignore[no-untyped-call]
            if value is parse.UNDEFINED or not isinstance(value, str):
                return value
            try:
                return convert(value)
            except (ValueError, OverflowError):
                # The wire's Name.member.1 is AWS's name.1.member in messages.
                where = _camel(re.sub(r"\.member\.(\d+)", r".\1.member", prefix))
                raise AwsError(
                    "ValidationError", f"Value {_shown(value)} at '{where}' is not a valid {kind}"
                ) from None

        def _parse_integer(self, shape: Any, query_params: Any, prefix: str = "") -> Any:
            return self._scalar(shape, query_params, prefix, "integer", int)

        _parse_long = _parse_integer

        def _parse_float(self, shape: Any, query_params: Any, prefix: str = "") -> Any:
            return self._scalar(shape, query_params, prefix, "number", float)

        _parse_double = _parse_float

        def _parse_boolean(self, shape: Any, query_params: Any, prefix: str = "") -> Any:
            return self._scalar(shape, query_params, prefix, "boolean", _boolean)

        def _parse_timestamp(self, shape: Any, query_params: Any, prefix: str = "") -> Any:
            return self._scalar(shape, query_params, prefix, "timestamp", self._timestamp_parser)

    return SimpleNamespace(
        Parser=Parser,
        QuerySerializer=serialize.QuerySerializer,
        SerializationContext=serialize.SerializationContext,
        get_service_model=utils.get_service_model,
    )


@cache
def _service_model(service: str) -> Any:
    return _moto().get_service_model(service)


def load(*services: str) -> None:
    """Import moto's model code and read these services' models now (a second or so, off the event
    loop, once), not with their first request."""
    for service in services:
        _service_model(service)


def _operation_model(service: str, name: str) -> Any:
    return _service_model(service).operation_model(name)


def parse(model: Any, params: Mapping[str, str]) -> dict[str, Any]:
    """The request as botocore would have built it: members by name, lists, numbers and booleans."""
    values = {key: value for key, value in params.items() if key not in ("Action", "Version")}
    parsed: dict[str, Any] = _moto().Parser(model).parse({"values": values})
    return parsed


def _boolean(value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise ValueError(value)
    return value.lower() == "true"


def _camel(path: str) -> str:
    """AWS names a member in a validation message by its lowerCamel name (``actions.1.member.type``)."""
    return ".".join(part[:1].lower() + part[1:] for part in path.split("."))


def validate(shape: Any, value: Any, path: str = "") -> list[str]:
    """What AWS's own validation says of ``value`` against ``shape``, one message per problem."""
    where = f"at '{path}'" if path else ""
    problems = []
    kind = shape.type_name
    metadata = shape.metadata
    if kind == "structure":
        for name, member in shape.members.items():
            member_path = f"{path}.{_camel(name)}" if path else _camel(name)
            if name not in value:
                if name in shape.required_members:
                    problems.append(f"Value null at '{member_path}' {_FAILED} must not be null")
                continue
            problems += validate(member, value[name], member_path)
        return problems
    if kind == "list":
        for index, item in enumerate(value, 1):
            problems += validate(shape.member, item, f"{path}.{index}.member")
        size, unit = len(value), "length"
    elif kind == "map":
        for key, item in value.items():
            problems += validate(shape.value, item, f"{path}.{key}")
        size, unit = len(value), "length"
    elif kind == "string":
        if _NOT_XML.search(value):
            # A character XML cannot carry could never be answered back (DescribeRules, an error).
            problems.append(f"Value {_shown(value)} {where} {_FAILED} must not contain control characters")
            return problems
        enum = metadata.get("enum")
        if enum and value not in enum:
            problems.append(
                f"Value {_shown(value)} {where} {_FAILED} must satisfy enum value set: [{', '.join(enum)}]"
            )
        pattern = metadata.get("pattern")
        if pattern and not _matches(pattern, value):
            problems.append(
                f"Value {_shown(value)} {where} {_FAILED} must satisfy regular expression pattern: {pattern}"
            )
        size, unit = len(value), "length"
    elif kind in ("integer", "long", "float", "double"):
        size, unit = value, "value"
    else:
        return problems
    low, high = metadata.get("min"), metadata.get("max")
    shown = _shown(value) if kind in ("string", "integer", "long", "float", "double") else "the value"
    if low is not None and size < low:
        bound = "length greater than or equal to" if unit == "length" else "value greater than or equal to"
        problems.append(f"Value {shown} {where} {_FAILED} must have {bound} {low}")
    if high is not None and size > high:
        bound = "length less than or equal to" if unit == "length" else "value less than or equal to"
        problems.append(f"Value {shown} {where} {_FAILED} must have {bound} {high}")
    return problems


_FAILED = "failed to satisfy constraint: Member"
# What XML 1.0 cannot hold: control characters but tab, newline and carriage return; surrogates.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _shown(value: object, limit: int = 100) -> str:
    """A value as a message quotes it: what XML cannot hold escaped, a long one cut short."""
    text = _NOT_XML.sub(lambda found: found.group().encode("unicode_escape").decode(), str(value))
    return f"'{text[:limit]}...'" if len(text) > limit else f"'{text}'"


@cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None  # a pattern in a syntax Python does not read (Java's \p{...}) is not checked here


def _matches(pattern: str, value: str) -> bool:
    compiled = _pattern(pattern)
    return compiled is None or compiled.fullmatch(value) is not None


def serialize(model: Any, result: Mapping[str, Any]) -> str:
    moto = _moto()
    serializer = moto.QuerySerializer(model, moto.SerializationContext(request_id=str(uuid.uuid4())))
    body = serializer.serialize(result)["body"]
    return body if isinstance(body, str) else body.decode()
