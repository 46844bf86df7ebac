"""What the event does not say about the deployment, asked of the ECS API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ecs_bg.hooks.aws import call
from ecs_bg.hooks.errors import NotFound

if TYPE_CHECKING:
    from ecs_bg.hooks.event import HookEvent


def is_first_deployment(event: HookEvent) -> bool:
    """True when this service has no deployment before this one (ListServiceDeployments ≤ 1).

    Hooks also run when ECS creates the service; gates that compare against, or wait for a human
    to approve over, a previous revision must let that first deployment through.
    """
    response = call(
        "ecs",
        event.deployment.region,
        "ListServiceDeployments",
        cluster=event.cluster,
        service=event.service,
        maxResults=2,
    )
    return len(response["serviceDeployments"]) <= 1


def describe_target_revision(event: HookEvent) -> dict[str, Any]:
    """The green service revision: task definition, resolved load balancers, network configuration."""
    response = call(
        "ecs",
        event.deployment.region,
        "DescribeServiceRevisions",
        serviceRevisionArns=[event.target_revision_arn],
    )
    if not response["serviceRevisions"]:
        failure = (response.get("failures") or [{}])[0]
        raise NotFound(
            f"service revision {event.target_revision_arn} not found: {failure.get('reason', '?')}"
        )
    return dict(response["serviceRevisions"][0])


def describe_deployment(event: HookEvent) -> dict[str, Any]:
    """This service deployment: status, stage, and the target revision's requested/running counts."""
    response = call(
        "ecs",
        event.deployment.region,
        "DescribeServiceDeployments",
        serviceDeploymentArns=[event.deployment.arn],
    )
    if not response["serviceDeployments"]:
        failure = (response.get("failures") or [{}])[0]
        raise NotFound(f"service deployment {event.deployment.arn} not found: {failure.get('reason', '?')}")
    return dict(response["serviceDeployments"][0])


def green_target_groups(revision: dict[str, Any]) -> list[str]:
    """The target groups ECS resolved for green. ECS swaps the two groups on every deployment, so
    only the revision's ``resolvedConfiguration`` says which one green is behind; names never do."""
    resolved = revision.get("resolvedConfiguration") or {}
    return [lb["targetGroupArn"] for lb in resolved.get("loadBalancers", []) if lb.get("targetGroupArn")]
