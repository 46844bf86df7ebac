"""Deployment alarms judged on what they measure, over windows of real traffic; publishing never stops."""

from __future__ import annotations

import asyncio

import boto3
import pytest

from ecs_bg.local.cloudwatch.alarm_watch import Watch
from ecs_bg.local.cloudwatch.alarms import AlarmBoard, AlarmRule, call
from ecs_bg.local.elbv2.traffic_stats import IntervalMetrics, MetricsPeriod


def period(requests: int, target_5xx: int = 0, elb_5xx: int = 0, p95: float | None = None) -> MetricsPeriod:
    metrics = IntervalMetrics(requests, target_5xx, elb_5xx, p95, p95, p95)
    return MetricsPeriod(0.0, 1.0, metrics, {"green": metrics})


def test_the_load_balancers_own_5xx_count_and_two_datapoints_set_alarm() -> None:
    board = AlarmBoard([AlarmRule("http-5xx", "5xx-share", 10)])
    assert board.judge(period(10, elb_5xx=5), at=60) == []  # one breaching datapoint is not enough
    (change,) = board.judge(period(10, elb_5xx=5), at=120)
    assert change[1] == "ALARM"
    assert "5 from the load balancer" in change[2]
    assert board.in_alarm


def test_one_failed_request_in_a_small_minute_is_not_a_datapoint() -> None:
    board = AlarmBoard([AlarmRule("http-5xx", "5xx-share", 10)])
    for minute in range(5):  # a sped-up minute with 4 requests, one failed, then healthy ones
        board.judge(period(4, target_5xx=1 if minute == 0 else 0), at=minute * 60)
    assert not board.in_alarm


def test_latency_is_judged_on_the_p95_and_an_alarm_without_a_definition_is_reported_not_evaluated() -> None:
    board = AlarmBoard([AlarmRule("latency", "p95-latency", 1.0)], not_evaluated={"theirs": "no definition"})
    for minute in range(2):
        board.judge(period(10, p95=1.5), at=minute * 60)
    assert board.firing == {"latency": True}
    assert board.describe_firing() == "latency: p95 latency 1.50s, threshold 1s"
    assert {"alarm": "theirs", "measures": "unknown", "evaluated": False, "why": "no definition"} in (
        board.to_json()["watched"]
    )


@pytest.mark.usefixtures("moto")
def test_a_failed_call_is_noted_and_the_next_goes_on() -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    board = AlarmBoard([])
    asyncio.run(
        call(
            board.problems,
            "SetAlarmState missing",
            cloudwatch.set_alarm_state,
            AlarmName="missing",
            StateValue="ALARM",
            StateReason="x",
        )
    )
    (problem,) = board.problems
    assert problem.startswith("SetAlarmState missing:")
    asyncio.run(
        call(
            board.problems,
            "PutMetricData",
            cloudwatch.put_metric_data,
            Namespace="AWS/ApplicationELB",
            MetricData=[{"MetricName": "RequestCount", "Value": 1}],
        )
    )
    assert len(board.problems) == 1


def test_a_bake_waits_for_two_datapoints_wholly_after_the_shift_even_when_no_window_is_under_way() -> None:
    """The period in progress at a production shift began before it: at a slow clock it fills a window
    alone, holding blue's good traffic beside green's errors. It must not count as one of the two
    datapoints a bake waits for, or the bake ends before the alarm can fire."""
    board = AlarmBoard([AlarmRule("http-5xx", "5xx-share", 10)])
    watch = Watch(board, on_change=lambda _: None, clock=lambda: 0.0)
    board.judge(first := period(20), at=60)  # a whole window: none is under way at the shift
    watch.hear(first)
    watch.shifted()
    for at, errors in ((120, 1), (180, 20)):  # the mixed period (5%), then green's failing one
        board.judge(heard := period(20, target_5xx=errors), at=at)
        watch.hear(heard)
        assert not watch.have_judged()
    board.judge(last := period(20, target_5xx=20), at=240)
    watch.hear(last)
    assert board.in_alarm  # two breaching datapoints after the shift: ALARM, heard before the bake ends
    assert watch.have_judged()


def test_without_traffic_a_bake_is_held_for_two_minutes_only() -> None:
    """Nobody sends requests (``ecs-bg local`` alone): no datapoint can come, CloudWatch has missing
    data, so a bake waits for nothing beyond two quiet minutes."""
    board = AlarmBoard([AlarmRule("http-5xx", "5xx-share", 10)])
    watch = Watch(board, on_change=lambda _: None, clock=lambda: 0.0)
    watch.shifted()
    quiet = period(3)  # a few requests: not a datapoint's worth
    board.judge(quiet, at=60)
    watch.hear(quiet)
    assert not watch.have_judged()
    board.judge(quiet, at=120)
    watch.hear(quiet)
    assert watch.have_judged()
    busy = Watch(AlarmBoard([AlarmRule("http-5xx", "5xx-share", 10)]), lambda _: None, lambda: 0.0)
    busy.shifted()
    for at in (60, 120):  # traffic, but only one datapoint yet: held
        busy.board.judge(minute := period(6), at=at)
        busy.hear(minute)
    assert not busy.have_judged()
