"""A user's metric alarm judged as CloudWatch judges it: its statistic over each period, M of N
datapoints, missing data as told, and counts that mean the same at any clock speed."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.local.cloudwatch.metric_alarms import AlarmDefinition, Dimension, LoadBalancerNames, MetricAlarm
from ecs_bg.local.elbv2.traffic_stats import IntervalMetrics, MetricsPeriod

NAMES = LoadBalancerNames({"app/ecs-bg-dev/0a1b": "alb"}, {"targetgroup/ecs-bg-dev-green/0a1b": "green"})


def minute(
    real_seconds: float, requests: int = 0, ok: int = 0, latencies: tuple[float, ...] = ()
) -> MetricsPeriod:
    """One simulated minute that lasted ``real_seconds`` of real traffic (60/speed)."""
    metrics = IntervalMetrics(requests, 0, 0, None, None, None, target_2xx_count=ok, latencies=latencies)
    return MetricsPeriod(0.0, real_seconds, metrics, {"green": metrics}, {"alb": metrics})


def alarm(**fields: Any) -> MetricAlarm:
    given = {
        "metric_name": "RequestCount",
        "threshold": 100.0,
        "comparison_operator": "LessThanThreshold",
        "evaluation_periods": 2,
        "statistic": "Sum",
        "dimensions": (Dimension("LoadBalancer", "app/ecs-bg-dev/1"),),
    } | fields
    definition = AlarmDefinition(**given)
    definition.check("simulation.yml: alarms.mine:")
    judged = MetricAlarm.of("mine", definition, NAMES)
    assert not isinstance(judged, str), judged
    return judged


@pytest.mark.parametrize("speed", [60, 120, 240])
def test_a_count_is_scaled_to_a_real_period_so_the_speed_does_not_matter(speed: float) -> None:
    """20 requests a real second are 1200 in a real minute, whatever share of it a simulated minute
    holds; unscaled, a simulated minute at 240x would count 5 and breach the threshold of 100."""
    judged = alarm()
    real = 60 / speed
    for _ in range(2):
        judged.feed(minute(real, requests=int(20 * real)))
    assert judged.datapoints == type(judged.datapoints)([pytest.approx(1200)] * 2)
    assert judged.state == "OK"


def test_m_of_n_datapoints_set_alarm_and_healthy_ones_clear_it() -> None:
    judged = alarm(
        metric_name="TargetResponseTime",
        statistic=None,
        extended_statistic="p90",
        threshold=0.5,
        comparison_operator="GreaterThanThreshold",
        evaluation_periods=3,
        datapoints_to_alarm=2,
        dimensions=(Dimension("TargetGroup", "targetgroup/ecs-bg-dev-green/ffff"),),  # another account's id
    )
    slow = minute(0.25, requests=10, latencies=tuple([0.1] * 9 + [0.9]))  # p90 0.1: nearest rank
    slower = minute(0.25, requests=10, latencies=tuple([0.1] * 5 + [0.9] * 5))
    assert judged.feed(slow) == ("OK", judged.reason(0.1))
    assert judged.feed(slower) is None  # 1 of 2 breaching
    state, reason = judged.feed(slower) or ("", "")
    assert state == "ALARM"
    assert "2 of the last 3 datapoints breaching" in reason
    for _ in range(2):
        judged.feed(slow)
    assert judged.state == "OK"


@pytest.mark.parametrize(
    ("treat", "state"),
    [("missing", "INSUFFICIENT_DATA"), ("breaching", "ALARM"), ("notBreaching", "OK"), ("ignore", "OK")],
)
def test_no_requests_is_no_datapoint_and_missing_data_is_treated_as_told(treat: str, state: str) -> None:
    judged = alarm(metric_name="HTTPCode_Target_2XX_Count", treat_missing_data=treat, threshold=10)
    judged.feed(minute(0.25, requests=5, ok=5))
    judged.feed(minute(0.25, requests=5, ok=5))
    assert judged.state == "OK"
    for _ in range(2):
        judged.feed(minute(0.25))  # ELB publishes nothing for a minute without requests
    assert judged.state == state


def test_a_period_of_several_minutes_is_one_datapoint() -> None:
    judged = alarm(period=180, evaluation_periods=1)
    assert judged.minutes_to_judge == 3
    judged.feed(minute(0.25, requests=1))
    judged.feed(minute(0.25, requests=1))
    assert judged.judged == 0
    judged.feed(minute(0.25, requests=1))
    assert judged.judged == 1
    assert judged.datapoints[-1] == pytest.approx(3 * 180 / 0.75)
    assert judged.state == "OK"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        (
            {"namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible"},
            "only AWS/ApplicationELB",
        ),
        ({"metric_name": "ActiveConnectionCount"}, "does not produce ActiveConnectionCount"),
        ({"dimensions": (Dimension("AvailabilityZone", "a"),)}, "dimensions ['AvailabilityZone']"),
        ({"dimensions": (Dimension("TargetGroup", "targetgroup/other/1"),)}, "none of the load balancer's"),
        (
            {"dimensions": (Dimension("LoadBalancer", "app/someone-elses/1"),)},
            "none of the stack's load balancers",
        ),
    ],
)
def test_a_metric_the_simulator_cannot_produce_says_why(fields: dict[str, Any], why: str) -> None:
    definition = AlarmDefinition(
        **(
            {"metric_name": "RequestCount", "threshold": 1, "comparison_operator": "LessThanThreshold"}
            | fields
        ),
        evaluation_periods=1,
        statistic="Sum",
    )
    why_not = MetricAlarm.of("mine", definition, NAMES)
    assert isinstance(why_not, str)
    assert why in why_not


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"statistic": None}, "exactly one of statistic and extendedStatistic"),
        ({"statistic": None, "extended_statistic": "p999"}, "neither a statistic"),
        ({"period": 90}, "multiple of 60"),
        ({"datapoints_to_alarm": 3}, "exceeds evaluationPeriods 2"),
    ],
)
def test_what_put_metric_alarm_refuses_is_refused_naming_the_alarm(
    fields: dict[str, Any], error: str
) -> None:
    with pytest.raises(DefinitionError, match=error) as raised:
        alarm(**fields)
    assert str(raised.value).startswith("simulation.yml: alarms.mine:")


def test_an_alarm_on_another_load_balancer_of_the_stack_reads_that_one_alone() -> None:
    names = LoadBalancerNames({"app/public/1": "public", "app/internal/2": "internal"}, {})
    definition = AlarmDefinition(
        metric_name="RequestCount",
        threshold=10.0,
        comparison_operator="GreaterThanThreshold",
        evaluation_periods=1,
        statistic="Sum",
        dimensions=(Dimension("LoadBalancer", "app/internal/9"),),  # its name; the id is the account's
    )
    judged = MetricAlarm.of("internal-busy", definition, names)
    assert not isinstance(judged, str), judged
    busy, quiet = (IntervalMetrics(n, 0, 0, None, None, None) for n in (100, 5))
    judged.feed(MetricsPeriod(0.0, 60.0, busy, {}, {"public": busy, "internal": quiet}))
    assert judged.state == "OK"  # the public one's 100 requests are not the internal one's
    judged.feed(MetricsPeriod(0.0, 60.0, busy, {}, {"public": quiet, "internal": busy}))
    assert judged.state == "ALARM"
