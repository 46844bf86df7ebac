"""metricGate against moto's CloudWatch metrics: measured, judged, counted across invocations."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from ecs_bg.hooks import LifecycleHook, Stage, aws
from ecs_bg.lifecycle.events import ServiceIds, lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.conftest import VirtualClock, log_lines
from tests.ecs_apis import ServiceDeploymentApis
from tests.faults import fail

GREEN_TG = "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/tg-green/c0ffee"
FIVE_XX = {"namespace": "AWS/ApplicationELB", "metricName": "HTTPCode_Target_5XX_Count", "stat": "Sum"}


class Feed(VirtualClock):
    """Wall-clock time that moves on by sleeping; before each measurement it puts the next value."""

    def __init__(self, cloudwatch: Any, values: list[float | None]) -> None:
        super().__init__(now=time.time())
        self.cloudwatch, self.values = cloudwatch, list(values)
        self.put_next()

    def put_next(self) -> None:
        value = self.values.pop(0) if self.values else None
        if value is not None:
            self.cloudwatch.put_metric_data(
                Namespace="AWS/ApplicationELB",
                MetricData=[
                    {
                        "MetricName": "HTTPCode_Target_5XX_Count",
                        "Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/tg-green/c0ffee"}],
                        "Value": value,
                        "Timestamp": datetime.fromtimestamp(self.now - 1, UTC),  # just before the query ends
                    }
                ],
            )

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        self.put_next()


@pytest.fixture
def cloudwatch(moto: None) -> Any:
    revision = {
        "taskDefinition": "td",
        "resolvedConfiguration": {"loadBalancers": [{"targetGroupArn": GREEN_TG}]},
    }
    ServiceDeploymentApis(ServiceIds(), revision=revision).attach(aws.client("ecs", "us-west-2"))
    return boto3.client("cloudwatch", region_name="us-west-2")


def gate(
    settings: dict[str, Any], clock: VirtualClock, timeout: float = 900
) -> tuple[dict[str, Any], list[Any], str]:
    stream = io.StringIO()
    hook = LifecycleHook(f"metrics-{id(stream)}", clock=clock, log_stream=stream)
    hook.stage(Stage.POST_PRODUCTION_TRAFFIC_SHIFT)(lambda ctx: ctx.run_checks("metricGate") and None)
    metric = {**FIVE_XX, "dimensions": {"TargetGroup": "{greenTargetGroup}"}}
    event = lifecycle_event(
        "POST_PRODUCTION_TRAFFIC_SHIFT", hook_details={"metricGate": {"metric": metric, **settings}}
    )
    context = LocalLambdaContext("m", timeout_seconds=timeout, monotonic=clock.monotonic)
    response = hook.handler(event, context)
    return response, log_lines(stream), stream.getvalue()


def measurements(lines: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    # Powertools leaves keys whose value is None out of the line: no data shows as a missing value.
    return [(line.get("value"), line["outcome"]) for line in lines if line["message"] == "metric measurement"]


def test_every_measurement_under_the_threshold_passes(
    cloudwatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = Feed(cloudwatch, [0, 1, 0])
    response, lines, _ = gate({"passIf": "< 5", "count": 3, "intervalSeconds": 60}, clock)
    assert response == {"hookStatus": "SUCCEEDED"}
    assert measurements(lines) == [(0.0, "successful"), (1.0, "successful"), (0.0, "successful")]
    assert clock.sleeps == [60, 60]
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [e["MetricGateValue"] for e in emf] == [[0.0], [1.0], [0.0]]
    assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "EcsBlueGreen"


def test_a_failure_beyond_the_limit_fails_at_once(cloudwatch: Any) -> None:
    clock = Feed(cloudwatch, [0, 12, 0, 0])
    response, lines, _ = gate({"passIf": "< 5", "count": 4, "intervalSeconds": 60}, clock)
    assert response == {"hookStatus": "FAILED"}
    assert measurements(lines) == [(0.0, "successful"), (12.0, "failed")]
    assert "measurement 2/4 = 12 (failed); 1 failed, limit 0" in lines[-1]["reason"]


def test_failures_within_the_limit_are_tolerated(cloudwatch: Any) -> None:
    clock = Feed(cloudwatch, [12, 0, 0])
    response, _, _ = gate({"passIf": "< 5", "count": 3, "intervalSeconds": 60, "failureLimit": 1}, clock)
    assert response == {"hookStatus": "SUCCEEDED"}


def test_between_the_thresholds_is_inconclusive(cloudwatch: Any) -> None:
    settings = {"passIf": "< 5", "failIf": ">= 20", "count": 2, "intervalSeconds": 60}
    response, lines, _ = gate(settings, Feed(cloudwatch, [10, 0]))
    assert response == {"hookStatus": "FAILED"}
    assert "inconclusive (1 > 0)" in lines[-1]["reason"]


def test_inconclusive_can_be_let_through(cloudwatch: Any) -> None:
    settings = {"passIf": "< 5", "failIf": ">= 20", "onInconclusive": "pass"}
    response, _, _ = gate(settings, Feed(cloudwatch, [10]))
    assert response == {"hookStatus": "SUCCEEDED"}


def test_no_data_is_inconclusive_unless_configured(cloudwatch: Any) -> None:
    response, lines, _ = gate({"passIf": "< 5"}, Feed(cloudwatch, []))
    assert response == {"hookStatus": "FAILED"}
    assert measurements(lines) == [(None, "inconclusive")]
    assert gate({"passIf": "< 5", "noData": "successful"}, Feed(cloudwatch, []))[0] == {
        "hookStatus": "SUCCEEDED"
    }


def test_measurements_continue_across_invocations(cloudwatch: Any) -> None:
    clock = Feed(cloudwatch, [0, 0, 0, 0])
    # A 70 s function: each invocation fits one 60 s interval, so the gate answers IN_PROGRESS between.
    response, _, _ = gate({"passIf": "< 5", "count": 4, "intervalSeconds": 60}, clock, timeout=70)
    assert response["hookStatus"] == "IN_PROGRESS"
    state = response["hookDetails"]["ecsBgState"]["metricGate"]
    assert state["taken"] == 2


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"passIf": "less than 5"}, "passIf 'less than 5' is not a comparison like '< 0.01'"),
        ({}, "set passIf, failIf or both"),
        ({"passIf": "< 1", "count": 0}, "count: 0 is out of range"),
        ({"passIf": "< 1", "metric": {"namespace": "n"}}, "metricGate.metric.metricName: missing (required)"),
    ],
)
def test_bad_settings(cloudwatch: Any, settings: dict[str, Any], reason: str) -> None:
    stream = io.StringIO()
    hook = LifecycleHook(f"bad-{id(stream)}", log_stream=stream)
    hook.stage(Stage.POST_PRODUCTION_TRAFFIC_SHIFT)(lambda ctx: ctx.run_checks("metricGate") and None)
    details = {"metricGate": {"metric": FIVE_XX, **settings}}
    assert hook.handler(lifecycle_event("POST_PRODUCTION_TRAFFIC_SHIFT", hook_details=details)) == {
        "hookStatus": "FAILED"
    }
    assert reason in log_lines(stream)[-1]["reason"]


def test_access_denied_names_the_permission(cloudwatch: Any) -> None:
    fail(aws.client("cloudwatch", "us-west-2"), "GetMetricData", "AccessDenied", status=403)
    response, lines, _ = gate({"passIf": "< 5"}, Feed(cloudwatch, [0]))
    assert response == {"hookStatus": "FAILED"}
    assert "AccessDenied calling cloudwatch:GetMetricData" in lines[-1]["reason"]
