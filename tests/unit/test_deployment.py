"""First-deployment detection and revision lookups, against botocore's ECS model.

moto does not implement ListServiceDeployments or DescribeServiceRevisions, so botocore's Stubber
stands in for ECS: it checks every request against the API's own schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from ecs_bg.hooks.deployment import describe_target_revision, is_first_deployment
from ecs_bg.hooks.event import parse_event
from ecs_bg.sim.events import ServiceIds, lifecycle_event

IDS = ServiceIds()
EVENT = parse_event(lifecycle_event("POST_SCALE_UP", ids=IDS))


@pytest.fixture
def ecs() -> Iterator[tuple[object, Stubber]]:
    client = boto3.client("ecs", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def deployment(deployment_id: str, status: str) -> dict[str, object]:
    return {
        "serviceDeploymentArn": IDS.deployment_arn.replace(IDS.deployment_id, deployment_id),
        "serviceArn": IDS.service_arn,
        "clusterArn": f"arn:aws:ecs:us-west-2:{IDS.account}:cluster/{IDS.cluster}",
        "status": status,
        "createdAt": datetime(2026, 11, 26, tzinfo=UTC),
    }


@pytest.mark.parametrize(
    ("existing", "first"),
    [
        ([deployment(IDS.deployment_id, "IN_PROGRESS")], True),
        ([deployment(IDS.deployment_id, "IN_PROGRESS"), deployment("older", "SUCCESSFUL")], False),
    ],
)
def test_first_deployment_is_the_only_one_ecs_lists(
    ecs: tuple[object, Stubber], existing: list, first: bool
) -> None:
    client, stubber = ecs
    stubber.add_response(
        "list_service_deployments",
        {"serviceDeployments": existing},
        {"cluster": "my-cluster", "service": "my-service", "maxResults": 2},
    )
    assert is_first_deployment(EVENT, client) is first  # type: ignore[arg-type]


def test_describe_target_revision_returns_the_green_revision(ecs: tuple[object, Stubber]) -> None:
    client, stubber = ecs
    revision = {
        "serviceRevisionArn": IDS.green_arn,
        "taskDefinition": "arn:aws:ecs:us-west-2:1:task-definition/app:7",
    }
    stubber.add_response(
        "describe_service_revisions",
        {"serviceRevisions": [revision], "failures": []},
        {"serviceRevisionArns": [IDS.green_arn]},
    )
    assert describe_target_revision(EVENT, client)["taskDefinition"].endswith("app:7")  # type: ignore[arg-type]


def test_a_missing_revision_is_a_clear_lookup_error(ecs: tuple[object, Stubber]) -> None:
    client, stubber = ecs
    stubber.add_response(
        "describe_service_revisions",
        {"serviceRevisions": [], "failures": [{"arn": IDS.green_arn, "reason": "MISSING"}]},
        {"serviceRevisionArns": [IDS.green_arn]},
    )
    with pytest.raises(LookupError, match="not found: MISSING"):
        describe_target_revision(EVENT, client)  # type: ignore[arg-type]
