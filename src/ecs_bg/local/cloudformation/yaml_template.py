"""CloudFormation's YAML: a template in YAML read into the same document its JSON form is.

CloudFormation YAML writes intrinsic functions either in full (``Fn::Sub: ...``) or in short form, as
YAML tags: ``!Ref Name``, ``!GetAtt Res.Attr``, ``!Sub '${AWS::Region}'``, ``!If [cond, a, b]``...
(AWS CloudFormation User Guide, "Intrinsic function reference", each function's "Syntax for the short
form": https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
A tag becomes the one-key mapping JSON would have: ``!Ref X`` -> ``{"Ref": "X"}``, ``!Condition X`` ->
``{"Condition": "X"}``, any other ``!Name arg`` -> ``{"Fn::Name": arg}``; ``!GetAtt Res.Attr`` is
split at its first dot, as ``Fn::GetAtt: [Res, Attr]`` (a nested attribute such as
``Endpoint.Address`` stays whole).

Two things YAML would read differently from CloudFormation are turned off: a date-like scalar stays a
string (``AWSTemplateFormatVersion: 2010-09-09`` is the string CloudFormation compares, not a date),
and an unknown tag is an error naming its line instead of a silently wrong value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ecs_bg.local.cloudformation.errors import TemplateError

# Every function that has a short form (the intrinsic function reference, above).
SHORT_FORMS = frozenset(
    {
        "Ref",
        "Condition",
        "Base64",
        "Cidr",
        "FindInMap",
        "GetAtt",
        "GetAZs",
        "ImportValue",
        "Join",
        "Select",
        "Split",
        "Sub",
        "Transform",
        "And",
        "Equals",
        "If",
        "Not",
        "Or",
        "Length",
        "ToJsonString",
    }
)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader without dates, with CloudFormation's tags."""


_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _intrinsic(loader: _TemplateLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if suffix not in SHORT_FORMS:
        raise yaml.constructor.ConstructorError(
            None, None, f"!{suffix} is not a CloudFormation intrinsic function", node.start_mark
        )
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            logical_id, dot, attribute = str(value).partition(".")
            if not dot:
                raise yaml.constructor.ConstructorError(
                    None, None, f"!GetAtt {value} needs Resource.Attribute", node.start_mark
                )
            value = [logical_id, attribute]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_yaml(text: str, file: Path) -> Any:
    """The template document in ``text`` (YAML, or JSON, which is YAML too), as JSON would give it."""
    try:
        return yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 (a SafeLoader with CloudFormation's tags)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise TemplateError(file, (), f"is not valid CloudFormation YAML: {error.problem}{line}") from error
    except yaml.YAMLError as error:
        raise TemplateError(file, (), f"is not valid CloudFormation YAML: {error}") from error
