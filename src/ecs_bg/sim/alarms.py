"""The deployment's alarms, each judged on what it measures, and the load balancer's metrics in CloudWatch.

Every simulated minute (``setup.METRICS_PERIOD``) the load balancer's period goes to CloudWatch as
AWS/ApplicationELB publishes it (RequestCount, HTTPCode_Target_5XX_Count, HTTPCode_ELB_5XX_Count,
TargetResponseTime), and each alarm named in ``deploymentConfiguration.alarms`` is judged on it:

- the stack's 5xx alarm (infrastructure/lib/constructs/alarms.py) sums both target groups' 5xx and the
  load balancer's own (502/503/504 when no target answers). A simulated minute carries only 60/speed
  real seconds of traffic, so the simulation judges their share of the minute's requests;
- the stack's latency alarm: p95 TargetResponseTime of either group over its threshold (cdk.json's
  ``alarmLatencyP95Seconds``). Latencies are the balancer's real ones, which no speed changes;
- any other name is not the stack's: the simulation cannot know what it measures and says so.

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

from ecs_bg.sim.traffic_stats import MetricsPeriod

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
        return None


@dataclass
class AlarmBoard:
    """The alarms' states, their changes (for the report) and what went wrong publishing."""

    rules: list[AlarmRule]
    firing: dict[str, bool] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    window: list[MetricsPeriod] = field(default_factory=list)
    breaching: dict[str, int] = field(default_factory=dict)  # consecutive breaching datapoints
    datapoints: int = 0  # windows judged so far

    def judge(self, period: MetricsPeriod, at: float) -> list[tuple[AlarmRule, bool, str]]:
        """The alarms whose state changed once this period is in (a datapoint when the window is full)."""
        self.window.append(period)
        if sum(p.load_balancer.request_count for p in self.window) < WINDOW_REQUESTS:
            return []
        window, self.window = self.window, []
        self.datapoints += 1
        changed = []
        for rule in self.rules:
            verdict = rule.judge(window)
            if verdict is None:
                continue
            breaching, reason = verdict
            self.breaching[rule.name] = self.breaching.get(rule.name, 0) + 1 if breaching else 0
            firing = self.breaching[rule.name] >= DATAPOINTS_TO_ALARM
            if firing != self.firing.get(rule.name, False):
                self.firing[rule.name] = firing
                state = "ALARM" if firing else "OK"
                self.changes.append(
                    {"alarm": rule.name, "state": state, "at": round(at, 3), "reason": reason}
                )
                changed.append((rule, firing, reason))
        return changed

    @property
    def in_alarm(self) -> bool:
        return any(self.firing.values())

    def describe_firing(self) -> str | None:
        """The alarms in ALARM, each with the reason of its last change."""
        last = {change["alarm"]: change["reason"] for change in self.changes}
        firing = [f"{name}: {last[name]}" for name, on in self.firing.items() if on]
        return "; ".join(firing) or None

    def to_json(self) -> dict[str, Any]:
        return {
            "watched": [
                {"alarm": r.name, "measures": r.measure, "threshold": r.threshold} for r in self.rules
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


async def set_states(
    problems: list[str], cloudwatch: Any, changed: list[tuple[AlarmRule, bool, str]]
) -> None:
    """The alarms that changed, in CloudWatch too, for the hooks (and people) that read them."""
    for rule, firing, reason in changed:
        await call(
            problems,
            f"SetAlarmState {rule.name}",
            cloudwatch.set_alarm_state,
            AlarmName=rule.name,
            StateValue="ALARM" if firing else "OK",
            StateReason=reason,
        )


async def call(problems: list[str], what: str, operation: Callable[..., Any], **kwargs: Any) -> None:
    """One CloudWatch call in a thread; a failure is noted in ``problems``, never raised."""
    try:
        await asyncio.to_thread(operation, **kwargs)
    except (ClientError, BotoCoreError) as error:
        problems.append(f"{what}: {error}")
