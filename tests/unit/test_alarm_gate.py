"""alarmGate against moto's CloudWatch alarms."""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest

from ecs_bg.hooks import LifecycleHook, Stage, aws
from ecs_bg.lifecycle.events import lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.aws_world import put_alarm
from tests.conftest import ClockThatActs, VirtualClock, log_lines
from tests.faults import fail


@pytest.fixture
def cloudwatch(moto: None) -> Any:
    client = boto3.client("cloudwatch", region_name="us-west-2")
    for name in ("ecs-bg-green-5xx-dev", "ecs-bg-green-latency-dev", "other-alarm"):
        put_alarm(client, name)
    return client


def gate(
    settings: dict[str, Any], clock: VirtualClock | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    clock = clock or VirtualClock()
    stream = io.StringIO()
    hook = LifecycleHook(f"alarms-{id(stream)}", clock=clock, log_stream=stream)
    hook.stage(Stage.POST_PRODUCTION_TRAFFIC_SHIFT)(lambda ctx: ctx.run_checks("alarmGate") and None)
    event = lifecycle_event("POST_PRODUCTION_TRAFFIC_SHIFT", hook_details={"alarmGate": settings})
    response = hook.handler(event, LocalLambdaContext("a", timeout_seconds=900, monotonic=clock.monotonic))
    return response, log_lines(stream)


def test_quiet_alarms_pass(cloudwatch: Any) -> None:
    response, lines = gate({"alarmNames": ["ecs-bg-green-5xx-dev", "ecs-bg-green-latency-dev"]})
    assert response == {"hookStatus": "SUCCEEDED"}
    assert "alarmGate: 2 alarm(s) not in ALARM" in lines[-1]["reason"]


def test_an_alarm_in_alarm_fails_with_its_reason(cloudwatch: Any) -> None:
    cloudwatch.set_alarm_state(
        AlarmName="ecs-bg-green-5xx-dev", StateValue="ALARM", StateReason="5xx above 5"
    )
    response, lines = gate({"alarmNamePrefix": "ecs-bg-green-"})
    assert response == {"hookStatus": "FAILED"}
    assert lines[-1]["reason"] == "alarmGate: ecs-bg-green-5xx-dev is ALARM: 5xx above 5"


def test_the_stack_alarms_are_the_default(cloudwatch: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECS_BG_ALARM_NAMES", "ecs-bg-green-5xx-dev, ecs-bg-green-latency-dev")
    cloudwatch.set_alarm_state(AlarmName="ecs-bg-green-latency-dev", StateValue="ALARM", StateReason="slow")
    assert gate({})[0] == {"hookStatus": "FAILED"}


def test_a_watch_window_catches_an_alarm_that_fires_later(cloudwatch: Any) -> None:
    fire = ClockThatActs(
        after=3,
        act=lambda: cloudwatch.set_alarm_state(
            AlarmName="ecs-bg-green-5xx-dev", StateValue="ALARM", StateReason="now"
        ),
    )
    response, lines = gate(
        {"alarmNames": ["ecs-bg-green-5xx-dev"], "watchSeconds": 120, "intervalSeconds": 10}, fire
    )
    assert response == {"hookStatus": "FAILED"}
    assert fire.sleeps == [10, 10, 10]
    assert "is ALARM: now" in lines[-1]["reason"]


def test_a_quiet_watch_window_passes_after_the_window(cloudwatch: Any) -> None:
    clock = VirtualClock()
    response, lines = gate(
        {"alarmNames": ["ecs-bg-green-5xx-dev"], "watchSeconds": 60, "intervalSeconds": 15}, clock
    )
    assert response == {"hookStatus": "SUCCEEDED"}
    assert sum(clock.sleeps) == 60
    assert "not in ALARM for 60s" in lines[-1]["reason"]


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"alarmNames": ["ecs-bg-green-5xx-dve"]}, "alarm(s) not found: ecs-bg-green-5xx-dve"),
        ({"alarmNamePrefix": "nothing-"}, "alarm(s) not found: none named nothing-*"),
        ({}, "no alarms to watch: set alarmGate.alarmNames or alarmNamePrefix, or ECS_BG_ALARM_NAMES"),
    ],
)
def test_no_alarm_to_watch_fails_rather_than_passing_silently(
    cloudwatch: Any, settings: dict, reason: str
) -> None:
    response, lines = gate(settings)
    assert response == {"hookStatus": "FAILED"}
    assert reason in lines[-1]["reason"]


def test_insufficient_data_fails_only_when_asked(cloudwatch: Any) -> None:
    cloudwatch.set_alarm_state(
        AlarmName="ecs-bg-green-5xx-dev", StateValue="INSUFFICIENT_DATA", StateReason="no data"
    )
    assert gate({"alarmNames": ["ecs-bg-green-5xx-dev"]})[0] == {"hookStatus": "SUCCEEDED"}
    strict = {"alarmNames": ["ecs-bg-green-5xx-dev"], "failOnInsufficientData": True}
    assert gate(strict)[0] == {"hookStatus": "FAILED"}


def test_bad_settings(cloudwatch: Any) -> None:
    response, lines = gate({"alarmNames": ["a"], "alarmNamePrefix": "b"})
    assert response == {"hookStatus": "FAILED"}
    assert "hookDetails.alarmGate: set alarmNames or alarmNamePrefix, not both" in lines[-1]["reason"]


def test_access_denied_names_the_permission(cloudwatch: Any) -> None:
    fail(aws.client("cloudwatch", "us-west-2"), "DescribeAlarms", "AccessDenied", status=403)
    response, lines = gate({"alarmNames": ["ecs-bg-green-5xx-dev"]})
    assert response == {"hookStatus": "FAILED"}
    assert (
        "AccessDenied calling cloudwatch:DescribeAlarms: the hook function's role lacks this permission"
        in (lines[-1]["reason"])
    )


def test_throttling_is_retried(cloudwatch: Any) -> None:
    throttle = fail(aws.client("cloudwatch", "us-west-2"), "DescribeAlarms", "Throttling", times=2)
    assert gate({"alarmNames": ["ecs-bg-green-5xx-dev"]})[0] == {"hookStatus": "SUCCEEDED"}
    assert throttle.hits == 3
