"""The event model against ECS's real payloads (docs/aws-facts.md §1), every stage, forward and rollback."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.hooks.config import MAX_HOOK_DETAILS_BYTES
from ecs_bg.hooks.event import EventError, Stage, parse_event
from ecs_bg.lifecycle.events import ServiceIds, lifecycle_event

EVENTS = Path(__file__).parent.parent / "fixtures" / "events"
GREEN = "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/9313423515462893900"
BLUE = "arn:aws:ecs:us-west-2:123456789012:service-revision/my-cluster/my-service/1920498462936580504"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def test_the_aws_documentation_example_parses_with_every_field() -> None:
    event = parse_event(fixture("aws-doc-example"))
    assert event.execution_id == "f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5"
    assert event.stage is Stage.PRODUCTION_TRAFFIC_SHIFT
    assert event.deployment.region == "us-west-2"
    assert event.deployment.account == "123456789012"
    assert event.cluster == "my-cluster"
    assert event.service == "my-service"
    assert event.deployment.deployment_id == "EZe5RNVLH6PPzHXINuP28"
    assert event.service_arn == "arn:aws:ecs:us-west-2:123456789012:service/my-cluster/my-service"
    assert event.green_revision_arn == GREEN
    assert event.blue_revision_arn == BLUE
    assert event.production_traffic_weights == {GREEN: 100, BLUE: 0}
    assert event.test_traffic_weights == {}
    assert event.hook_details == {
        "anything": "configured on the hook, plus what an earlier IN_PROGRESS returned"
    }
    assert not event.is_rollback
    assert event.log_keys() == {
        "executionId": "f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5",
        "stage": "PRODUCTION_TRAFFIC_SHIFT",
        "cluster": "my-cluster",
        "service": "my-service",
        "revision": "9313423515462893900",
    }


def test_the_event_factory_reproduces_the_aws_example_exactly() -> None:
    example = fixture("aws-doc-example")
    made = lifecycle_event(
        "PRODUCTION_TRAFFIC_SHIFT", execution_id=example["executionId"], hook_details=example["hookDetails"]
    )
    assert made == example


@pytest.mark.parametrize("stage", list(Stage))
def test_every_stage_forward(stage: Stage) -> None:
    event = parse_event(fixture(stage.value.lower()))
    assert event.stage is stage
    assert not event.is_rollback
    assert event.hook_details == {}  # absent hookDetails reads as {}
    # Weights only at the shift stages (docs/aws-facts.md §1); green gets all test traffic at the test shift.
    expected_test = {GREEN: 100, BLUE: 0} if stage is Stage.TEST_TRAFFIC_SHIFT else {}
    expected_production = {
        Stage.PRE_PRODUCTION_TRAFFIC_SHIFT: {GREEN: 0, BLUE: 100},
        Stage.PRODUCTION_TRAFFIC_SHIFT: {GREEN: 100, BLUE: 0},
    }.get(stage, {})
    assert event.test_traffic_weights == expected_test
    assert event.production_traffic_weights == expected_production


@pytest.mark.parametrize("stage", [Stage.TEST_TRAFFIC_SHIFT, Stage.PRODUCTION_TRAFFIC_SHIFT])
def test_rollback_reinvocations_are_recognised(stage: Stage) -> None:
    event = parse_event(fixture(f"{stage.value.lower()}-rollback"))
    assert event.is_rollback
    assert event.green_revision_arn == GREEN  # the target stays green during a rollback
    assert event.blue_revision_arn == BLUE


def test_linear_steps_are_never_mistaken_for_rollbacks() -> None:
    for step in range(1, 11):
        for stage in (Stage.PRE_PRODUCTION_TRAFFIC_SHIFT, Stage.PRODUCTION_TRAFFIC_SHIFT):
            event = parse_event(lifecycle_event(stage, strategy="LINEAR", step=step, percent=10))
            assert not event.is_rollback, (stage, step)
    third = parse_event(
        lifecycle_event(Stage.PRODUCTION_TRAFFIC_SHIFT, strategy="LINEAR", step=3, percent=10)
    )
    assert third.production_traffic_weights == {GREEN: 30, BLUE: 70}
    canary = parse_event(
        lifecycle_event(Stage.PRODUCTION_TRAFFIC_SHIFT, strategy="CANARY", step=1, percent=5)
    )
    assert canary.production_traffic_weights == {GREEN: 5, BLUE: 95}


def test_first_deployment_has_no_blue() -> None:
    event = parse_event(lifecycle_event(Stage.PRODUCTION_TRAFFIC_SHIFT, first_deployment=True))
    assert event.blue_revision_arn is None
    assert not event.is_rollback


def test_the_seed_flat_shape_is_accepted() -> None:
    event = parse_event(fixture("seed-flat-shape"))
    assert event.service == "myService"
    assert event.target_revision_arn.endswith("/01275892")
    assert event.blue_revision_arn is not None
    assert event.blue_revision_arn.endswith("/78652123")


def test_other_partitions_and_regions() -> None:
    ids = ServiceIds(region="cn-north-1", cluster="prod_cluster-1", service="web")
    raw = lifecycle_event(Stage.PRE_SCALE_UP, ids=ids)
    raw = json.loads(json.dumps(raw).replace("arn:aws:", "arn:aws-cn:"))
    event = parse_event(raw)
    assert (event.deployment.partition, event.deployment.region, event.cluster) == (
        "aws-cn",
        "cn-north-1",
        "prod_cluster-1",
    )


def _without(path: str) -> dict[str, Any]:
    event = copy.deepcopy(fixture("aws-doc-example"))
    *parents, last = path.split(".")
    target = event
    for key in parents:
        target = target[key]
    del target[last]
    return event


def _with(path: str, value: object) -> dict[str, Any]:
    event = copy.deepcopy(fixture("aws-doc-example"))
    *parents, last = path.split(".")
    target = event
    for key in parents:
        target = target[key]
    target[last] = value
    return event


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        ([], "event", "expected a JSON object, got array"),
        ("PRE_SCALE_UP", "event", "expected a JSON object, got string"),
        (None, "event", "expected a JSON object, got null"),
        (_without("executionDetails"), "executionDetails", "missing"),
        (_with("executionDetails", "x"), "executionDetails", "expected an object, got string"),
        (_without("executionId"), "executionId", "missing"),
        (_with("executionId", 7), "executionId", "expected a non-empty string, got number"),
        (_without("lifecycleStage"), "lifecycleStage", "missing"),
        (_with("lifecycleStage", "SCALE_UP"), "lifecycleStage", "'SCALE_UP' is not a hookable stage"),
        (_with("lifecycleStage", "BAKE_TIME"), "lifecycleStage", "'BAKE_TIME' is not a hookable stage"),
        (
            _with("resourceArn", "arn:aws:ecs:us-west-2:123456789012:service/c/s"),
            "resourceArn",
            "not a service-deployment ARN",
        ),
        (_without("executionDetails.serviceArn"), "executionDetails.serviceArn", "missing"),
        (
            _with("executionDetails.serviceArn", "my-service"),
            "executionDetails.serviceArn",
            "not an ECS service ARN",
        ),
        (
            _with("executionDetails.targetServiceRevisionArn", ["x"]),
            "executionDetails.targetServiceRevisionArn",
            "expected a non-empty string, got array",
        ),
        (
            _with("executionDetails.productionTrafficWeights", [100, 0]),
            "executionDetails.productionTrafficWeights",
            "expected an object",
        ),
        (
            _with("executionDetails.productionTrafficWeights", {GREEN: "100"}),
            f"executionDetails.productionTrafficWeights[{GREEN}]",
            "expected a weight from 0 to 100, got '100'",
        ),
        (
            _with("executionDetails.testTrafficWeights", {GREEN: 101}),
            f"executionDetails.testTrafficWeights[{GREEN}]",
            "expected a weight from 0 to 100, got 101",
        ),
        (
            _with("executionDetails.testTrafficWeights", {"blue": 100}),
            "executionDetails.testTrafficWeights",
            "key 'blue' is not a service-revision ARN",
        ),
        (
            _with("hookDetails", "smokeTest"),
            "hookDetails",
            "a JSON string must hold an object, but it is not valid JSON",
        ),
        (
            _with("hookDetails", '["smokeTest"]'),
            "hookDetails",
            "a JSON string must hold an object, got array",
        ),
        (
            _with("hookDetails", 3),
            "hookDetails",
            "expected an object (or a JSON string holding one), got number",
        ),
        (
            _with("hookDetails", {"x": "y" * MAX_HOOK_DETAILS_BYTES}),
            "hookDetails",
            "exceeds the 65536-byte limit",
        ),
    ],
)
def test_malformed_events_name_the_field_at_fault(raw: object, field: str, reason: str) -> None:
    with pytest.raises(EventError) as caught:
        parse_event(raw)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_hook_details_as_a_json_string_holding_an_object_are_that_object() -> None:
    # CloudFormation's HookDetails is a JSON string; Terraform users write jsonencode(...).
    assert parse_event(_with("hookDetails", '{"smokeTest": {"path": "/health"}}')).hook_details == {
        "smokeTest": {"path": "/health"}
    }


def test_null_hook_details_read_as_empty() -> None:
    assert parse_event(_with("hookDetails", None)).hook_details == {}
