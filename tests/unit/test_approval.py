"""approval against moto's SSM and S3: approved, rejected, nothing yet, first deployment, errors."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from ecs_bg.hooks import LifecycleHook, Stage, aws
from ecs_bg.lifecycle.events import ServiceIds, lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.conftest import VirtualClock, log_lines
from tests.ecs_apis import ServiceDeploymentApis
from tests.faults import fail
from tests.readings import READINGS, Reading

_names = itertools.count()
IDS = ServiceIds()
PARAMETER = f"/ecs-bg/dev/approvals/{IDS.service}/{IDS.green_revision}"
BUCKET = "approvals-bucket"


@pytest.fixture
def ssm(moto: None) -> Any:
    ServiceDeploymentApis(IDS, previous_deployments=1).attach(aws.client("ecs", IDS.region))
    return boto3.client("ssm", region_name=IDS.region)


@pytest.fixture
def s3(moto: None) -> Any:
    ServiceDeploymentApis(IDS, previous_deployments=1).attach(aws.client("ecs", IDS.region))
    client = boto3.client("s3", region_name=IDS.region)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": IDS.region})
    return client


class Gate:
    """The approval hook at POST_TEST_TRAFFIC_SHIFT, invoked as ECS invokes it on a virtual clock."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock, self.stream = clock, io.StringIO()
        self.hook = LifecycleHook(f"approval-{next(_names)}", clock=clock, log_stream=self.stream)
        self.hook.stage(Stage.POST_TEST_TRAFFIC_SHIFT)(lambda ctx: ctx.run_checks("approval") and None)

    def run(
        self,
        settings: dict[str, Any],
        between: Callable[[int], None] = lambda n: None,
        reading: Reading = READINGS["deep-merge"],
    ) -> list[str]:
        details: dict[str, Any] = {"approval": settings}
        statuses = []
        for invocation in range(1, 30):
            context = LocalLambdaContext("approval", timeout_seconds=30, monotonic=self.clock.monotonic)
            event = lifecycle_event(Stage.POST_TEST_TRAFFIC_SHIFT, hook_details=details)
            response = self.hook.handler(event, context)
            statuses.append(response["hookStatus"])
            if response["hookStatus"] != "IN_PROGRESS":
                return statuses
            self.clock.sleep(response["callBackDelay"])
            details = reading(details, response.get("hookDetails", {}))
            between(invocation)
        raise AssertionError("never finished")

    def lines(self) -> list[dict[str, Any]]:
        return log_lines(self.stream)

    def reason(self) -> str:
        return str(self.lines()[-1]["reason"])


@pytest.fixture
def gate(clock: VirtualClock) -> Gate:
    return Gate(clock)


def test_an_approval_written_while_waiting_lets_the_deployment_go_on(
    ssm: Any, gate: Gate, reading: Reading
) -> None:
    def approve(invocation: int) -> None:
        if invocation == 2:  # the value's case and surrounding blanks do not matter
            ssm.put_parameter(Name=PARAMETER, Value=" Approved\n", Type="String")

    statuses = gate.run({"intervalSeconds": 5}, between=approve, reading=reading)
    assert statuses == ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"]
    assert f"approval: approved in SSM parameter {PARAMETER}" in gate.reason()


def test_a_rejection_fails_at_once(ssm: Any, gate: Gate) -> None:
    ssm.put_parameter(Name=PARAMETER, Value="rejected", Type="String")
    assert gate.run({}) == ["FAILED"]
    assert gate.clock.sleeps == []
    assert f"approval: rejected in SSM parameter {PARAMETER}" in gate.reason()


def test_no_decision_before_the_deadline_fails_and_says_where_to_write(
    ssm: Any, gate: Gate, reading: Reading
) -> None:
    # Under every reading of how ECS passes hookDetails on: a pending approval never passes.
    statuses = gate.run({"timeoutSeconds": 60, "intervalSeconds": 10}, reading=reading)
    assert statuses[-1] == "FAILED"
    assert len(statuses) > 1
    expected = f"no decision yet: write 'approved' or 'rejected' to SSM parameter {PARAMETER}"
    assert f"still not met after 60s: {expected}" in gate.reason()


def test_a_value_neither_approved_nor_rejected_waits_with_one_warning(ssm: Any, gate: Gate) -> None:
    ssm.put_parameter(Name=PARAMETER, Value="maybe", Type="String")
    statuses = gate.run({"timeoutSeconds": 30, "intervalSeconds": 5})
    assert statuses == ["IN_PROGRESS", "FAILED"]
    warnings = [line for line in gate.lines() if line["message"] == "approval value not understood"]
    assert [w["value"] for w in warnings] == ["maybe", "maybe"]  # once per invocation, not per poll
    assert "holds 'maybe', neither 'approved' nor 'rejected'" in gate.reason()


def test_the_first_deployment_is_not_blocked(moto: None, gate: Gate) -> None:
    apis = ServiceDeploymentApis(IDS, previous_deployments=0).attach(aws.client("ecs", IDS.region))
    assert gate.run({}) == ["SUCCEEDED"]  # nothing was ever written anywhere
    assert apis.calls == ["ListServiceDeployments"]
    assert "approval: first deployment of the service" in gate.reason()


def test_placeholders_name_the_parameter(ssm: Any, gate: Gate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECS_BG_ENV", "prod")
    name = f"/deploys/prod/{IDS.cluster}/{IDS.service}/{IDS.deployment_id}/{IDS.green_revision}"
    ssm.put_parameter(Name=name, Value="approved", Type="String")
    template = "/deploys/{env}/{cluster}/{service}/{deploymentId}/{revision}"
    assert gate.run({"parameterName": template}) == ["SUCCEEDED"]


def test_an_s3_object_approves_once_it_exists(s3: Any, gate: Gate) -> None:
    key = f"approvals/{IDS.service}/{IDS.green_revision}"

    def approve(invocation: int) -> None:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"APPROVED")

    statuses = gate.run({"s3Uri": f"s3://{BUCKET}/approvals/{{service}}/{{revision}}"}, between=approve)
    assert statuses == ["IN_PROGRESS", "SUCCEEDED"]
    assert f"approved in S3 object {key} in bucket {BUCKET}" in gate.reason()


def test_an_s3_rejection_fails(s3: Any, gate: Gate) -> None:
    s3.put_object(Bucket=BUCKET, Key="approvals/my-service", Body=b"rejected")
    assert gate.run({"s3Uri": f"s3://{BUCKET}/approvals/{{service}}"}) == ["FAILED"]
    assert f"rejected in S3 object approvals/my-service in bucket {BUCKET}" in gate.reason()


def test_dry_run_lets_a_rejection_through(ssm: Any, gate: Gate) -> None:
    ssm.put_parameter(Name=PARAMETER, Value="rejected", Type="String")
    assert gate.run({"dryRun": True}) == ["SUCCEEDED"]


def test_access_denied_fails_naming_the_permission(ssm: Any, gate: Gate) -> None:
    fail(aws.client("ssm", IDS.region), "GetParameter", "AccessDeniedException")
    assert gate.run({}) == ["FAILED"]
    assert (
        "approval: AccessDeniedException calling ssm:GetParameter: the hook function's role lacks"
        in gate.reason()
    )


def test_throttling_is_retried(ssm: Any, gate: Gate) -> None:
    ssm.put_parameter(Name=PARAMETER, Value="approved", Type="String")
    throttled = fail(aws.client("ssm", IDS.region), "GetParameter", "ThrottlingException", times=2)
    assert gate.run({}) == ["SUCCEEDED"]
    assert throttled.hits == 3  # two throttled answers, then moto's


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"parameterName": "/a", "s3Uri": "s3://b/k"},
            "hookDetails.approval: set parameterName or s3Uri, not both",
        ),
        ({"s3Uri": "https://b/k"}, "hookDetails.approval: s3Uri must name a bucket and a key"),
        ({"s3Uri": "s3://bucket-only"}, "s3Uri must name a bucket and a key"),
        ({"parameterName": "/a/{revison}"}, "parameterName: unknown placeholder {revison}; known: {env}"),
        ({"parameterName": "/a/{service"}, "hookDetails.approval: parameterName: "),
        ({"timeoutSeconds": "1h"}, "hookDetails.approval.timeoutSeconds: expected a number"),
        ({"parameter": "/a"}, "hookDetails.approval.parameter: unknown setting"),
    ],
)
def test_bad_configuration_fails_before_any_aws_call(
    moto: None, gate: Gate, settings: dict[str, Any], message: str
) -> None:
    apis = ServiceDeploymentApis(IDS).attach(aws.client("ecs", IDS.region))
    assert gate.run(settings) == ["FAILED"]
    assert message in gate.reason()
    assert apis.calls == []
