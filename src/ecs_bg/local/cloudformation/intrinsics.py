"""CloudFormation's intrinsic functions, evaluated against local values.

``Resolver.resolve`` turns a template value into the one CloudFormation would deploy: every intrinsic
function in it evaluated, ``AWS::NoValue`` removing the property or list item that holds it. What a
name means (a parameter, a pseudo parameter, a resource's ``Ref`` or attribute, a condition, another
stack's export) is the ``Scope``'s to say: the stack (``template.Stack``).

Each function as the AWS CloudFormation User Guide's "Intrinsic function reference" defines it
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html and
its pages ``intrinsic-function-reference-<name>.html``):

- ``Ref``; ``Fn::GetAtt`` ``[LogicalId, Attribute]`` or ``"LogicalId.Attribute"`` (the attribute may be
  a ``Ref``); ``Fn::Join`` ``[delimiter, [values]]``; ``Fn::Select`` ``[index, list]``; ``Fn::Split``
  ``[delimiter, string]``; ``Fn::Base64``; ``Fn::GetAZs`` (``""`` is the stack's region; the zones in
  alphabetical order: here ``<region>a``, ``b`` and ``c``, three being what every commercial region has).
- ``Fn::Sub``: ``String`` or ``[String, {Var: Value}]``; ``${Name}`` is the variable, else ``Ref Name``;
  ``${Res.Attr}`` is ``Fn::GetAtt``; ``${!Literal}`` writes ``${Literal}``.
- ``Fn::FindInMap`` ``[MapName, TopLevelKey, SecondLevelKey]``, with the AWS::LanguageExtensions
  ``{"DefaultValue": ...}`` fourth item ("Fn::FindInMap enhancements").
- ``Fn::If`` ``[condition, value if true, value if false]``; only the chosen value is evaluated.
- Condition functions, only inside ``Conditions`` and each other: ``Fn::Equals``, ``Fn::Not``,
  ``Fn::And``, ``Fn::Or`` (2 to 10 conditions), ``Condition``.
- ``Fn::ImportValue``: an export of another stack.
- ``Fn::Cidr`` ``[ipBlock, count, cidrBits]``: ``count`` blocks of ``cidrBits`` host bits, in order.
- AWS::LanguageExtensions' ``Fn::Length`` (a list's length) and ``Fn::ToJsonString`` (compact JSON).

Anything else (``Fn::Transform``, ``Fn::ForEach``, the Rules-only functions) is an error naming the field.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, Protocol

from ecs_bg.local.cloudformation.errors import FieldPath, TemplateError

AVAILABILITY_ZONES: Final = ("a", "b", "c")
CONDITION_FUNCTIONS: Final = frozenset({"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"})
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class _NoValue:
    """``AWS::NoValue``: the property, or list item, that holds it is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Final = _NoValue()


class Scope(Protocol):
    """What the names in a template mean: the stack being resolved."""

    file: Path
    region: str
    mappings: Mapping[str, Any]

    def ref(self, name: str, at: FieldPath) -> Any: ...

    def get_att(self, logical_id: str, attribute: str, at: FieldPath) -> Any: ...

    def condition(self, name: str, at: FieldPath) -> bool: ...

    def import_value(self, name: str, at: FieldPath) -> Any: ...


def text(value: Any, file: Path, at: FieldPath, what: str = "the value") -> str:
    """A scalar as the string CloudFormation makes of it; a list or an object is an error."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    kind = "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else repr(value)
    raise TemplateError(
        file, at, f"{what} must be a string, got {kind}: {json.dumps(value, default=str)[:120]}"
    )


def integer(value: Any, file: Path, at: FieldPath, what: str = "the value") -> int:
    """An integer, or a string that spells one (CloudFormation passes parameters as strings)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
        return int(value)
    raise TemplateError(file, at, f"{what} must be an integer, got {value!r}")


class Resolver:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.functions: dict[str, Callable[[Any, FieldPath], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Join": self._join,
            "Fn::Sub": self._sub,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::GetAZs": self._get_azs,
            "Fn::FindInMap": self._find_in_map,
            "Fn::If": self._if,
            "Fn::ImportValue": self._import_value,
            "Fn::Base64": self._base64,
            "Fn::Cidr": self._cidr,
            "Fn::Length": self._length,
            "Fn::ToJsonString": self._to_json_string,
        }

    @property
    def file(self) -> Path:
        return self.scope.file

    def error(self, at: FieldPath, reason: str) -> TemplateError:
        return TemplateError(self.file, at, reason)

    def resolve(self, value: Any, at: FieldPath) -> Any:
        """``value`` with every intrinsic function evaluated; ``NO_VALUE`` if it is ``AWS::NoValue``."""
        if isinstance(value, dict):
            function = self._function_of(value, at)
            if function is not None:
                if function in CONDITION_FUNCTIONS:
                    raise self.error(
                        (*at, function),
                        f"{function} is a condition function: it belongs in Conditions (or Fn::If names a "
                        "condition)",
                    )
                if function not in self.functions:
                    raise self.error(
                        (*at, function),
                        f"{function} is not an intrinsic function ecs-bg can evaluate (it evaluates "
                        f"{', '.join(sorted(self.functions))})",
                    )
                return self.functions[function](value[function], (*at, function))
            resolved = {key: self.resolve(item, (*at, key)) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(item, (*at, index)) for index, item in enumerate(value)]
            return [item for item in items if item is not NO_VALUE]
        return value

    def _function_of(self, value: dict[str, Any], at: FieldPath) -> str | None:
        functions = [key for key in value if key == "Ref" or key.startswith("Fn::")]
        if not functions:
            return None
        if len(value) > 1:
            raise self.error((*at, functions[0]), f"{functions[0]} must be the only key of its object")
        return functions[0]

    def condition(self, expression: Any, at: FieldPath) -> bool:
        """A condition's value: ``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or`` or ``Condition``."""
        function = self._function_of(expression, at) if isinstance(expression, dict) else None
        if function is None and isinstance(expression, dict) and list(expression) == ["Condition"]:
            function = "Condition"
        if function not in CONDITION_FUNCTIONS:
            raise self.error(at, "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition")
        argument = expression[function]
        at = (*at, function)
        if function == "Condition":
            if not isinstance(argument, str):
                raise self.error(at, "Condition takes the name of a condition")
            return bool(self.scope.condition(argument, at))
        if function == "Fn::Equals":
            left, right = self._arguments(argument, 2, at, "[value, value]")
            return bool(
                _comparable(self.resolve(left, (*at, 0))) == _comparable(self.resolve(right, (*at, 1)))
            )
        if function == "Fn::Not":
            (inner,) = self._arguments(argument, 1, at, "[condition]")
            return not self.condition(inner, (*at, 0))
        if not isinstance(argument, list) or not 2 <= len(argument) <= 10:
            raise self.error(at, f"{function} takes 2 to 10 conditions")
        values = [self.condition(inner, (*at, index)) for index, inner in enumerate(argument)]
        return all(values) if function == "Fn::And" else any(values)

    def _arguments(self, argument: Any, count: int, at: FieldPath, shape: str) -> list[Any]:
        if not isinstance(argument, list) or len(argument) != count:
            raise self.error(at, f"takes {shape}, got {json.dumps(argument, default=str)[:120]}")
        return argument

    def _text(self, value: Any, at: FieldPath, what: str = "the value") -> str:
        return text(self.resolve(value, at), self.file, at, what)

    def _ref(self, argument: Any, at: FieldPath) -> Any:
        if not isinstance(argument, str):
            raise self.error(at, "Ref takes the name of a parameter, pseudo parameter or resource")
        return self.scope.ref(argument, at)

    def _get_att(self, argument: Any, at: FieldPath) -> Any:
        if isinstance(argument, str) and "." in argument:
            logical_id, attribute = argument.split(".", 1)
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            logical_id, attribute = argument[0], self._text(argument[1], (*at, 1), "the attribute name")
        else:
            raise self.error(at, "Fn::GetAtt takes [LogicalId, AttributeName] or 'LogicalId.AttributeName'")
        return self.scope.get_att(logical_id, attribute, at)

    def _join(self, argument: Any, at: FieldPath) -> str:
        delimiter, values = self._arguments(argument, 2, at, "[delimiter, [values]]")
        if not isinstance(delimiter, str):
            raise self.error((*at, 0), "the delimiter must be a string")
        items = self.resolve(values, (*at, 1))
        if not isinstance(items, list):
            raise self.error((*at, 1), "Fn::Join joins a list")
        return delimiter.join(text(item, self.file, (*at, 1, index)) for index, item in enumerate(items))

    def _sub(self, argument: Any, at: FieldPath) -> str:
        if isinstance(argument, str):
            template, variables, template_at = argument, {}, at
        elif (
            isinstance(argument, list)
            and len(argument) == 2
            and isinstance(argument[0], str)
            and isinstance(argument[1], dict)
        ):
            template, variables, template_at = argument[0], argument[1], (*at, 0)
        else:
            raise self.error(at, "Fn::Sub takes a string or [string, {variable: value}]")

        def value_of(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + match.group(1)[1:] + "}"
            if not name:
                raise self.error(template_at, "${} names no variable")
            if name in variables:
                return self._text(variables[name], (*at, 1, name), f"variable {name}")
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return text(self.scope.get_att(logical_id, attribute, template_at), self.file, template_at)
            return text(self.scope.ref(name, template_at), self.file, template_at, "${" + name + "}")

        return _SUB_VARIABLE.sub(value_of, template)

    def _select(self, argument: Any, at: FieldPath) -> Any:
        index_value, values = self._arguments(argument, 2, at, "[index, list]")
        index = integer(self.resolve(index_value, (*at, 0)), self.file, (*at, 0), "the index")
        items = self.resolve(values, (*at, 1))
        if not isinstance(items, list):
            raise self.error((*at, 1), "Fn::Select selects from a list")
        if not 0 <= index < len(items):
            raise self.error(at, f"index {index} is out of range for a list of {len(items)}")
        return items[index]

    def _split(self, argument: Any, at: FieldPath) -> list[str]:
        delimiter, source = self._arguments(argument, 2, at, "[delimiter, string]")
        if not isinstance(delimiter, str) or not delimiter:
            raise self.error((*at, 0), "the delimiter must be a non-empty string")
        return self._text(source, (*at, 1), "the string to split").split(delimiter)

    def _get_azs(self, argument: Any, at: FieldPath) -> list[str]:
        region = self._text(argument, at, "the region") or self.scope.region
        return [region + zone for zone in AVAILABILITY_ZONES]

    def _find_in_map(self, argument: Any, at: FieldPath) -> Any:
        if not isinstance(argument, list) or len(argument) not in (3, 4):
            raise self.error(
                at, "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey(, {DefaultValue})]"
            )
        keys = [self._text(key, (*at, index), "a key") for index, key in enumerate(argument[:3])]
        default = argument[3] if len(argument) == 4 else None
        if default is not None and (not isinstance(default, dict) or list(default) != ["DefaultValue"]):
            raise self.error((*at, 3), "the fourth item must be {DefaultValue: value}")
        found: Any = self.scope.mappings
        for depth, key in enumerate(keys):
            if not isinstance(found, dict) or key not in found:
                if default is not None:
                    return self.resolve(default["DefaultValue"], (*at, 3, "DefaultValue"))
                where = "Mappings" + "".join(f".{k}" for k in keys[:depth])
                raise self.error(at, f"{where} has no key {key!r}")
            found = found[key]
        return found

    def _if(self, argument: Any, at: FieldPath) -> Any:
        name, when_true, when_false = self._arguments(
            argument, 3, at, "[condition, value if true, value if false]"
        )
        if not isinstance(name, str):
            raise self.error((*at, 0), "Fn::If takes the name of a condition")
        if self.scope.condition(name, (*at, 0)):
            return self.resolve(when_true, (*at, 1))
        return self.resolve(when_false, (*at, 2))

    def _import_value(self, argument: Any, at: FieldPath) -> Any:
        return self.scope.import_value(self._text(argument, at, "the export name"), at)

    def _base64(self, argument: Any, at: FieldPath) -> str:
        return base64.b64encode(self._text(argument, at).encode()).decode()

    def _cidr(self, argument: Any, at: FieldPath) -> list[str]:
        block, count_value, bits_value = self._arguments(argument, 3, at, "[ipBlock, count, cidrBits]")
        try:
            network = ipaddress.ip_network(self._text(block, (*at, 0), "ipBlock"), strict=False)
        except ValueError as error:
            raise self.error((*at, 0), f"is not a CIDR block: {error}") from error
        count = integer(self.resolve(count_value, (*at, 1)), self.file, (*at, 1), "count")
        bits = integer(self.resolve(bits_value, (*at, 2)), self.file, (*at, 2), "cidrBits")
        prefix = network.max_prefixlen - bits
        if not 1 <= count <= 256 or not network.prefixlen <= prefix <= network.max_prefixlen:
            raise self.error(at, f"cannot cut {count} blocks of {bits} host bits from {network}")
        blocks = []
        for subnet in network.subnets(new_prefix=prefix):
            blocks.append(str(subnet))
            if len(blocks) == count:
                return blocks
        raise self.error(at, f"{network} holds only {len(blocks)} blocks of {bits} host bits, not {count}")

    def _length(self, argument: Any, at: FieldPath) -> int:
        items = self.resolve(argument, at)
        if not isinstance(items, list):
            raise self.error(at, "Fn::Length takes a list")
        return len(items)

    def _to_json_string(self, argument: Any, at: FieldPath) -> str:
        value = self.resolve(argument, at)
        if not isinstance(value, dict | list):
            raise self.error(at, "Fn::ToJsonString takes an object or a list")
        return json.dumps(value, separators=(",", ":"))


def _comparable(value: Any) -> Any:
    """Fn::Equals compares what the values say: ``"true"`` equals ``true`` and ``"8080"`` equals ``8080``."""
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    if isinstance(value, bool | int | float):
        return text(value, Path(), ())
    return value
