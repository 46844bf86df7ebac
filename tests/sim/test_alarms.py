"""The stack's alarms judged as the stack defines them (metric math over both target groups' and the
load balancer's counts, M of N periods), by the one evaluator that judges every alarm, with counts
scaled by the clock so that no verdict depends on the speed; a bake waits for the alarms to judge
real traffic; publishing never stops."""

from __future__ import annotations

import asyncio

import boto3
import pytest

from ecs_bg.local.cloudwatch.alarm_watch import Watch
from ecs_bg.local.cloudwatch.alarms import AlarmBoard, call
from ecs_bg.local.cloudwatch.metric_alarms import AlarmDefinition, MetricAlarm
from ecs_bg.local.cloudwatch.service import load_balancer_names, template_alarms
from ecs_bg.local.elbv2.traffic_stats import IntervalMetrics, MetricsPeriod
from tests.cloud import outputs, sample_cloud

OUTPUTS = outputs()
BLUE, GREEN = OUTPUTS["BlueTargetGroupArn"], OUTPUTS["GreenTargetGroupArn"]
CLOUD = sample_cloud()
NAMES = load_balancer_names(CLOUD)
(ALB,) = NAMES.load_balancers.values()  # the sample's one load balancer
RATE = 40.0  # production requests a real second, simulate's default load
HTTP_5XX, LATENCY = OUTPUTS["Http5xxAlarmName"], OUTPUTS["LatencyAlarmName"]


def board(name: str = HTTP_5XX) -> AlarmBoard:
    """The sample stack's alarm ``name`` as its template defines it (cdk.json: 5 errors a minute, a p95
    of 1 s)."""
    definition = template_alarms(CLOUD)[name]
    assert isinstance(definition, AlarmDefinition), definition
    alarm = MetricAlarm.of(name, definition, NAMES)
    assert not isinstance(alarm, str), alarm
    return AlarmBoard([alarm])


def metrics(
    requests: int, target_5xx: int = 0, elb_5xx: int = 0, latency: float | None = None
) -> IntervalMetrics:
    latencies = (latency,) * requests if latency is not None else ()
    return IntervalMetrics(requests, target_5xx, elb_5xx, latency, latency, latency, latencies=latencies)


def minute(
    speed: float, green_share: float, green_errors: float = 0.0, elb_errors: float = 0.0
) -> MetricsPeriod:
    """One simulated minute at ``speed``: 60/speed real seconds of RATE requests a second, ``green_share``
    of them to green, ``green_errors`` of green's answered 500 by green, ``elb_errors`` of all answered
    5xx by the load balancer itself (no target left)."""
    real = 60 / speed
    requests = round(RATE * real)
    to_green = round(requests * green_share)
    errors, elb = round(to_green * green_errors), round(requests * elb_errors)
    blue, green = metrics(requests - to_green), metrics(to_green, errors, elb)
    total = metrics(requests, errors, elb)
    return MetricsPeriod(0.0, real, total, {BLUE: blue, GREEN: green}, {ALB: total})


@pytest.mark.parametrize("speed", [60.0, 120.0])
def test_a_canary_whose_ten_percent_fails_half_its_requests_alarms_at_any_speed(speed: float) -> None:
    """The stack's alarm counts 5xx a minute (>= 5 in 2 of 2 minutes). 40 requests a second, 10 % to
    the canary, half of those 500: 120 a real minute. Judged as a share of the requests (the rule the
    stack does not define) it was 5 %, under a 10 % bar: the canary passed here and rolled back on AWS.
    (Speeds at which a simulated minute holds whole failed requests: 4 of 40, or 2 of 20.)"""
    judged = board()
    judged.judge(minute(speed, 0.1, green_errors=0.5), at=60)
    assert not judged.in_alarm  # 1 of the 2 minutes the alarm needs
    ((name, state, reason),) = judged.judge(minute(speed, 0.1, green_errors=0.5), at=120)
    assert (name, state) == (HTTP_5XX, "ALARM")
    assert "FILL(e0, 0) + FILL(e1, 0) + FILL(elb, 0)" in reason
    assert judged.alarms[0].datapoints[-1] == pytest.approx(120)


@pytest.mark.parametrize("speed", [60.0, 240.0])
def test_a_green_that_dies_during_the_bake_alarms_by_the_load_balancers_own_5xx(speed: float) -> None:
    """Green takes all production traffic and crash-loops: a third of the requests find no target and
    the load balancer answers them itself (HTTPCode_ELB_5XX_Count, per load balancer only)."""
    judged = board()
    for at in (60, 120):
        judged.judge(minute(speed, 1.0, elb_errors=0.33), at=at)
    assert judged.in_alarm


@pytest.mark.parametrize("speed", [60.0, 240.0])
def test_a_healthy_green_and_a_single_bad_minute_do_not_alarm(speed: float) -> None:
    judged = board()
    for at in range(60, 600, 60):
        judged.judge(minute(speed, 1.0), at=at)
    judged.judge(minute(speed, 1.0, green_errors=0.5), at=600)  # 1 of 2: not enough
    judged.judge(minute(speed, 1.0), at=660)
    assert not judged.in_alarm
    assert judged.alarms[0].state == "OK"


def test_latency_is_the_higher_p95_of_the_two_groups_in_2_of_3_minutes() -> None:
    judged = board(LATENCY)
    slow = MetricsPeriod(
        0.0, 0.25, metrics(10, latency=1.5), {GREEN: metrics(10, latency=1.5), BLUE: metrics(0)}
    )
    fast = MetricsPeriod(
        0.0, 0.25, metrics(10, latency=0.1), {GREEN: metrics(10, latency=0.1), BLUE: metrics(0)}
    )
    judged.judge(slow, at=60)
    judged.judge(fast, at=120)
    assert not judged.in_alarm
    judged.judge(slow, at=180)
    assert judged.firing == {LATENCY: True}
    assert "MAX([l0, l1])" in (judged.describe_firing() or "")


def test_an_alarm_without_a_definition_is_reported_not_evaluated() -> None:
    judged = AlarmBoard(not_evaluated={"theirs": "no definition"})
    assert {"alarm": "theirs", "measures": "unknown", "evaluated": False, "why": "no definition"} in (
        judged.to_json()["watched"]
    )
    assert not judged.evaluates_any


@pytest.mark.usefixtures("moto")
def test_a_failed_call_is_noted_and_the_next_goes_on() -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    judged = AlarmBoard()
    asyncio.run(
        call(
            judged.problems,
            "SetAlarmState missing",
            cloudwatch.set_alarm_state,
            AlarmName="missing",
            StateValue="ALARM",
            StateReason="x",
        )
    )
    (problem,) = judged.problems
    assert problem.startswith("SetAlarmState missing:")
    asyncio.run(
        call(
            judged.problems,
            "PutMetricData",
            cloudwatch.put_metric_data,
            Namespace="AWS/ApplicationELB",
            MetricData=[{"MetricName": "RequestCount", "Value": 1}],
        )
    )
    assert len(judged.problems) == 1


def test_a_bake_waits_for_a_full_evaluation_range_wholly_after_the_shift() -> None:
    """The minute in progress at a production shift began before it, holding blue's good traffic
    beside green's errors: it must not count as one of the two minutes the 5xx alarm needs, or the bake
    ends before the alarm can fire."""
    judged = board()
    watch = Watch(judged, on_change=lambda _: None, clock=lambda: 0.0)
    judged.judge(before := minute(240, 0.0), at=60)
    watch.hear(before)
    watch.shifted()
    for at in (120, 180):  # the mixed minute, then green's first failing one
        judged.judge(heard := minute(240, 1.0, green_errors=0.5), at=at)
        watch.hear(heard)
        assert not watch.have_judged()
    judged.judge(last := minute(240, 1.0, green_errors=0.5), at=240)
    watch.hear(last)
    assert judged.in_alarm  # heard before the bake may end
    assert watch.have_judged()


def test_without_traffic_a_bake_is_held_for_two_minutes_only() -> None:
    """Nobody sends requests (``ecs-bg local`` alone): no datapoint can come, CloudWatch has missing
    data, so a bake waits for nothing beyond two quiet minutes."""
    watch = Watch(board(), on_change=lambda _: None, clock=lambda: 0.0)
    watch.shifted()
    quiet = MetricsPeriod(0.0, 0.25, metrics(3), {})
    for at, held in ((60, True), (120, False)):
        watch.board.judge(quiet, at=at)
        watch.hear(quiet)
        assert watch.have_judged() is not held
