"""Resource scopes for IAM statements, and the cdk-nag acknowledgements their wildcards need.

A ``ResourceScope`` is this stack's ARNs for one kind of resource, plus why they end in a wildcard
when they do. cdk-nag 3 names every wildcard resource of a policy as its own finding,
``AwsSolutions-IAM5[Resource::<arn as cdk-nag writes it>]``, and acknowledgements must match that id
exactly. ``nag_resource`` writes an ARN the way cdk-nag does, so the acknowledgement is derived from
the very ARN that was granted instead of being copied by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


@dataclass(frozen=True)
class ResourceScope:
    """ARNs to grant on. ``wildcard_reason`` is the cdk-nag acknowledgement's reason when the ARNs
    end in a wildcard; an empty ``arns`` means the stack has no such resource, so nothing is granted."""

    arns: Sequence[str]
    conditions: Mapping[str, Any] | None = None
    wildcard_reason: str | None = None


def nag_resource(scope: IConstruct, arn: str) -> str:
    """``arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/c/*``, ``<Bucket.Arn>/*``."""
    resolved = Stack.of(scope).resolve(arn)
    if isinstance(resolved, str):
        return resolved
    if set(resolved) != {"Fn::Join"} or resolved["Fn::Join"][0] != "":
        raise ValueError(f"cannot write {resolved} as cdk-nag does")
    return "".join(_part(part) for part in resolved["Fn::Join"][1])


def _part(part: str | dict[str, object]) -> str:
    if isinstance(part, str):
        return part
    if "Ref" in part:
        return f"<{part['Ref']}>"
    attribute = part["Fn::GetAtt"]
    assert isinstance(attribute, list)
    return f"<{'.'.join(attribute)}>"


def acknowledge_wildcards(construct: IConstruct, reasons: Mapping[str, str]) -> None:
    """Acknowledge AwsSolutions-IAM5 for each wildcard ARN in ``reasons`` (ARN -> why) on ``construct``."""
    Validations.of(construct).acknowledge(
        *(
            Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{nag_resource(construct, arn)}]", reason=why)
            for arn, why in reasons.items()
        )
    )


def wildcard_reasons(scopes: Iterable[ResourceScope]) -> dict[str, str]:
    """ARN -> reason for the ARNs of ``scopes`` that contain a wildcard."""
    return {
        arn: scope.wildcard_reason
        for scope in scopes
        if scope.wildcard_reason
        for arn in scope.arns
        if "*" in arn
    }


def acknowledge_actions(construct: IConstruct, actions: Iterable[str], reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for wildcard actions (``s3:GetObject*``) granted by CDK itself."""
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=f"AwsSolutions-IAM5[Action::{action}]", reason=reason) for action in actions)
    )
