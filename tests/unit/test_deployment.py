"""First-deployment detection and revision lookups, against botocore's ECS model."""

from __future__ import annotations

import pytest

from ecs_bg.hooks import aws
from ecs_bg.hooks.deployment import (
    describe_deployment,
    describe_target_revision,
    green_target_groups,
    is_first_deployment,
)
from ecs_bg.hooks.event import parse_event
from ecs_bg.lifecycle.events import ServiceIds, lifecycle_event
from tests.ecs_apis import ServiceDeploymentApis

IDS = ServiceIds()
EVENT = parse_event(lifecycle_event("POST_SCALE_UP", ids=IDS))


@pytest.mark.parametrize(("previous", "first"), [(0, True), (1, False), (5, False)])
def test_first_deployment_is_the_only_one_ecs_lists(previous: int, first: bool) -> None:
    ServiceDeploymentApis(IDS, previous_deployments=previous).attach(aws.client("ecs", "us-west-2"))
    assert is_first_deployment(EVENT) is first


def test_the_green_revision_and_its_resolved_target_group() -> None:
    green_tg = "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/tg-b/2222"
    revision = {
        "taskDefinition": "arn:aws:ecs:us-west-2:123456789012:task-definition/app:7",
        # The configured primary is tg-a; ECS resolved green to tg-b for this deployment.
        "loadBalancers": [{"targetGroupArn": green_tg.replace("tg-b/2222", "tg-a/1111")}],
        "resolvedConfiguration": {"loadBalancers": [{"targetGroupArn": green_tg}]},
    }
    ServiceDeploymentApis(IDS, revision=revision).attach(aws.client("ecs", "us-west-2"))
    found = describe_target_revision(EVENT)
    assert found["taskDefinition"].endswith("app:7")
    assert green_target_groups(found) == [green_tg]


def test_the_deployment_counts() -> None:
    ServiceDeploymentApis(IDS, requested=3, running=1).attach(aws.client("ecs", "us-west-2"))
    target = describe_deployment(EVENT)["targetServiceRevision"]
    assert (target["requestedTaskCount"], target["runningTaskCount"]) == (3, 1)


def test_a_missing_revision_is_a_clear_lookup_error() -> None:
    other = parse_event(lifecycle_event("POST_SCALE_UP", ids=ServiceIds(green_revision="42")))
    ServiceDeploymentApis(IDS).attach(aws.client("ecs", "us-west-2"))
    with pytest.raises(LookupError, match="not found: MISSING"):
        describe_target_revision(other)
