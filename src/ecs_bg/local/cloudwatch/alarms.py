"""The deployment's alarms, each judged on what it measures, and the load balancer's metrics in CloudWatch.

Every simulated minute (``metric_alarms.PERIOD``) the load balancer's period goes to CloudWatch as
AWS/ApplicationELB publishes it (RequestCount, HTTPCode_Target_5XX_Count, HTTPCode_ELB_5XX_Count,
TargetResponseTime), and each alarm named in ``deploymentConfiguration.alarms`` is judged on it:

- the stack's 5xx alarm (infrastructure/lib/constructs/alarms.py) sums both target groups' 5xx and the
  load balancer's own (502/503/504 when no target answers). A simulated minute carries only 60/speed
  real seconds of traffic, so the simulation judges their share of the minute's requests;
- the stack's latency alarm: p95 TargetResponseTime of either group over its threshold (cdk.json's
  ``alarmLatencyP95Seconds``). Latencies are the balancer's real ones, which no speed changes;
- any other alarm is the user's: ``simulation.yml``'s ``alarms:`` defines it and ``metric_alarms``
  judges it as CloudWatch would. One without a definition there, or on a metric the local load balancer
  does not produce, is reported as not evaluated, with why.

The stack's alarms need 2 breaching datapoints (``datapoints_to_alarm=2``), and so do these. Each
datapoint is judged on a window of simulated minutes holding at least ``WINDOW_REQUESTS`` requests:
at 240x a simulated minute carries a handful, where one failed request would be a 20 % share that a
real minute (hundreds of requests) never shows. So the verdict depends on the traffic, not on the speed.

A publish or alarm update that fails (an alarm missing from CloudWatch, a throttled call) is noted and
the next minute carries on: metrics never stop for the rest of a run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from ecs_bg.local.cloudwatch.metric_alarms import PERIOD, MetricAlarm, State
from ecs_bg.local.elbv2.traffic_stats import MetricsPeriod

Measure = Literal["5xx-share", "p95-latency", "unknown"]
PERCENT_5XX = 10.0  # the 5xx share of a window's requests that breaches the stack's 5xx alarm
WINDOW_REQUESTS = 10  # requests a datapoint is judged on, at least
DATAPOINTS_TO_ALARM = 2  # consecutive breaching datapoints, as the stack's alarms


@dataclass(frozen=True)
class AlarmRule:
    name: str
    measure: Measure
    threshold: float  # percent of requests for 5xx-share, seconds for p95-latency

    def judge(self, window: list[MetricsPeriod]) -> tuple[bool, str] | None:
        """(breaching, reason) for one datapoint over ``window``; None when it has nothing to judge."""
        if self.measure == "5xx-share":
            requests = sum(period.load_balancer.request_count for period in window)
            target = sum(period.load_balancer.target_5xx_count for period in window)
            elb = sum(period.load_balancer.elb_5xx_count for period in window)
            if not requests:
                return None
            share = 100 * (target + elb) / requests
            return share > self.threshold, (
                f"5xx {share:.0f}% of {requests} requests ({target} from targets, {elb} from the load "
                f"balancer), threshold {self.threshold:g}%"
            )
        if self.measure == "p95-latency":
            # Per group and minute, as the stack's MAX over both groups' p95 (no samples: missing data).
            p95s = [g.target_response_time_p95 for period in window for g in period.groups.values()]
            measured = [value for value in p95s if value is not None]
            if not measured:
                return None
            worst = max(measured)
            return worst > self.threshold, f"p95 latency {worst:.2f}s, threshold {self.threshold:g}s"
        return None  # unknown: what it measures is not known here, so it is never judged


@dataclass
class AlarmBoard:
    """The alarms' states, their changes (for the report) and what went wrong publishing."""

    rules: list[AlarmRule]  # the stack's alarms
    metric_alarms: list[MetricAlarm] = field(default_factory=list)  # the user's, from simulation.yml
    not_evaluated: dict[str, str] = field(default_factory=dict)  # alarm -> why the simulator cannot
    firing: dict[str, bool] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    window: list[MetricsPeriod] = field(default_factory=list)
    breaching: dict[str, int] = field(default_factory=dict)  # consecutive breaching datapoints
    datapoints: int = 0  # windows the stack's alarms judged so far
    minutes: int = 0  # simulated minutes the user's alarms took so far

    def judge(self, period: MetricsPeriod, at: float) -> list[tuple[str, State, str]]:
        """(alarm, new state, reason) for each alarm whose state changed once this period is in."""
        self.minutes += 1
        changed = [
            (alarm.name, *change)
            for alarm in self.metric_alarms
            if (change := alarm.feed(period)) is not None
        ]
        changed += self._judge_stack(period)
        for name, state, reason in changed:
            self.firing[name] = state == "ALARM"
            self.changes.append({"alarm": name, "state": state, "at": round(at, 3), "reason": reason})
        return changed

    def _judge_stack(self, period: MetricsPeriod) -> list[tuple[str, State, str]]:
        """The stack's alarms: a datapoint once the window is full."""
        self.window.append(period)
        if sum(p.load_balancer.request_count for p in self.window) < WINDOW_REQUESTS:
            return []
        window, self.window = self.window, []
        self.datapoints += 1
        changed: list[tuple[str, State, str]] = []
        for rule in self.rules:
            verdict = rule.judge(window)
            if verdict is None:
                continue
            breaching, reason = verdict
            self.breaching[rule.name] = self.breaching.get(rule.name, 0) + 1 if breaching else 0
            firing = self.breaching[rule.name] >= DATAPOINTS_TO_ALARM
            if firing != self.firing.get(rule.name, False):
                changed.append((rule.name, "ALARM" if firing else "OK", reason))
        return changed

    @property
    def in_alarm(self) -> bool:
        return any(self.firing.values())

    def describe_firing(self) -> str | None:
        """The alarms in ALARM, each with the reason of its last change."""
        last = {change["alarm"]: change["reason"] for change in self.changes}
        firing = [f"{name}: {last[name]}" for name, on in self.firing.items() if on]
        return "; ".join(firing) or None

    def heard_enough(self, heard: tuple[int, int], since: tuple[int, int]) -> bool:
        """Whether every evaluated alarm has judged a full range of datapoints between ``since`` and
        ``heard`` (each a (datapoints, minutes) of this board)."""
        stack = not self.rules or heard[0] - since[0] >= DATAPOINTS_TO_ALARM
        users = all(heard[1] - since[1] >= alarm.minutes_to_judge for alarm in self.metric_alarms)
        return stack and users

    @property
    def evaluates_any(self) -> bool:
        return bool(self.rules or self.metric_alarms)

    def to_json(self) -> dict[str, Any]:
        return {
            "watched": [
                {"alarm": r.name, "measures": r.measure, "threshold": r.threshold, "evaluated": True}
                for r in self.rules
            ]
            + [
                {
                    "alarm": a.name,
                    "measures": a.definition.describe(),
                    "threshold": a.definition.threshold,
                    "evaluated": True,
                }
                for a in self.metric_alarms
            ]
            + [
                {"alarm": name, "measures": "unknown", "evaluated": False, "why": why}
                for name, why in self.not_evaluated.items()
            ],
            "changes": self.changes,
            "problems": self.problems,
        }


def metric_data(period: MetricsPeriod, dimension: Callable[[str], str]) -> list[dict[str, Any]]:
    """The period as AWS/ApplicationELB's datapoints per target group."""
    data: list[dict[str, Any]] = []
    for group, metrics in period.groups.items():
        dimensions = [{"Name": "TargetGroup", "Value": dimension(group)}]
        counts = {
            "RequestCount": metrics.request_count,
            "HTTPCode_Target_5XX_Count": metrics.target_5xx_count,
            "HTTPCode_ELB_5XX_Count": metrics.elb_5xx_count,
        }
        data += [{"MetricName": n, "Dimensions": dimensions, "Value": v} for n, v in counts.items()]
        if metrics.target_response_time_avg is not None:
            data.append(
                {
                    "MetricName": "TargetResponseTime",
                    "Dimensions": dimensions,
                    "Value": metrics.target_response_time_avg,
                }
            )
    return data


def stack_rules(
    names: list[str], outputs: Mapping[str, str], percent_5xx: float, latency_p95_seconds: float
) -> list[AlarmRule]:
    """Each alarm a deployment watches, with what it measures: the stack's two are known (their
    names are its outputs), any other is ``unknown``."""
    known: dict[str, tuple[Measure, float]] = {
        outputs["Http5xxAlarmName"]: ("5xx-share", percent_5xx),
        outputs["LatencyAlarmName"]: ("p95-latency", latency_p95_seconds),
    }
    return [AlarmRule(name, *known.get(name, ("unknown", 0.0))) for name in names]


def target_group_dimension(arn: str) -> str:
    """The TargetGroup dimension's value: the ARN's final portion, ``targetgroup/<name>/<id>``
    (docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html)."""
    return arn.split(":", 5)[5]


async def publish(
    problems: list[str], cloudwatch: Any, period: MetricsPeriod, dimension: Callable[[str], str]
) -> None:
    """The period's datapoints into CloudWatch, as AWS/ApplicationELB publishes them."""
    data = metric_data(period, dimension)
    if data:
        await call(
            problems,
            "PutMetricData",
            cloudwatch.put_metric_data,
            Namespace="AWS/ApplicationELB",
            MetricData=data,
        )


async def set_states(problems: list[str], cloudwatch: Any, changed: list[tuple[str, State, str]]) -> None:
    """The alarms that changed, in CloudWatch too, for the hooks (and people) that read them."""
    for name, state, reason in changed:
        await call(
            problems,
            f"SetAlarmState {name}",
            cloudwatch.set_alarm_state,
            AlarmName=name,
            StateValue=state,
            StateReason=reason,
        )


async def call(problems: list[str], what: str, operation: Callable[..., Any], **kwargs: Any) -> None:
    """One CloudWatch call in a thread; a failure is noted in ``problems``, never raised."""
    try:
        await asyncio.to_thread(operation, **kwargs)
    except (ClientError, BotoCoreError) as error:
        problems.append(f"{what}: {error}")


def put_gate_alarm(cloudwatch: Any, name: str, percent: float = 10, state: str = "OK") -> None:
    """The simulation's stand-in for a gate alarm: 5xx (the targets' and the load balancer's own) as a
    share of the requests in one minute. The stack's alarm counts 5xx a minute, a number meant for a
    real minute of traffic; a simulated minute carries only the requests of 60/speed real seconds, so
    their share is judged."""

    def metric(name: str) -> dict[str, Any]:
        stat = {
            "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": name},
            "Period": PERIOD,
            "Stat": "Sum",
        }
        return {"MetricStat": stat, "ReturnData": False}

    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Metrics=[
            {"Id": "errors", **metric("HTTPCode_Target_5XX_Count")},
            # As the stack's alarm does: the load balancer's own 502/503/504 count too.
            {"Id": "elb", **metric("HTTPCode_ELB_5XX_Count")},
            {"Id": "requests", **metric("RequestCount")},
            {
                "Id": "share",
                "Expression": "100 * (FILL(errors, 0) + FILL(elb, 0)) / requests",
                "ReturnData": True,
            },
        ],
        EvaluationPeriods=1,
        Threshold=percent,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="set by the simulation")
