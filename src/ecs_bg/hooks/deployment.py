"""What the event does not say about the deployment, asked of the ECS API.

boto3 is imported here, on first use, never by the runtime itself: it costs ~400 ms of cold start.
Clients honour ``AWS_ENDPOINT_URL`` (the simulator's local AWS endpoint).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

    from ecs_bg.hooks.event import HookEvent


@cache
def ecs_client(region: str) -> ECSClient:
    import boto3

    client: ECSClient = boto3.client("ecs", region_name=region)
    return client


def is_first_deployment(event: HookEvent, client: ECSClient | None = None) -> bool:
    """True when this service has no deployment before this one (ListServiceDeployments ≤ 1).

    Hooks also run when ECS creates the service; gates that compare against, or wait for a human
    to approve over, a previous revision must let that first deployment through.
    """
    ecs = client or ecs_client(event.deployment.region)
    response = ecs.list_service_deployments(cluster=event.cluster, service=event.service, maxResults=2)
    return len(response["serviceDeployments"]) <= 1


def describe_target_revision(event: HookEvent, client: ECSClient | None = None) -> dict[str, Any]:
    """The green service revision: task definition, load balancers (resolved), network, counts."""
    ecs = client or ecs_client(event.deployment.region)
    response = ecs.describe_service_revisions(serviceRevisionArns=[event.target_revision_arn])
    revisions = response["serviceRevisions"]
    if not revisions:
        failures = response.get("failures") or [{}]
        raise LookupError(
            f"service revision {event.target_revision_arn} not found: {failures[0].get('reason', '?')}"
        )
    return dict(revisions[0])
