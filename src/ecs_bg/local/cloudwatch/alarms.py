"""The alarms a deployment watches, each judged as CloudWatch judges it (``metric_alarms``), and the
load balancer's metrics in CloudWatch.

Every simulated minute (``metric_alarms.PERIOD``) the load balancer's period goes to CloudWatch as
AWS/ApplicationELB publishes it (RequestCount, HTTPCode_Target_5XX_Count, HTTPCode_ELB_5XX_Count,
TargetResponseTime), and each alarm named in ``deploymentConfiguration.alarms`` takes it in. One
evaluator judges every alarm by its own definition: the stack's as its template defines them, the
user's as simulation.yml's ``alarms:`` does. An alarm without a definition, or on a metric the local
load balancer does not produce, is reported as not evaluated, with why.

A publish or alarm update that fails (an alarm missing from CloudWatch, a throttled call) is noted and
the next minute carries on: metrics never stop for the rest of a run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecs_bg.local.cloudwatch.metric_alarms import MetricAlarm, State
from ecs_bg.local.elbv2.traffic_stats import MetricsPeriod


@dataclass
class AlarmBoard:
    """The alarms' states, their changes (for the report) and what went wrong publishing."""

    alarms: list[MetricAlarm] = field(default_factory=list)
    not_evaluated: dict[str, str] = field(default_factory=dict)  # alarm -> why the local CloudWatch cannot
    firing: dict[str, bool] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    minutes: int = 0  # simulated minutes the alarms took so far

    def judge(self, period: MetricsPeriod, at: float) -> list[tuple[str, State, str]]:
        """(alarm, new state, reason) for each alarm whose state changed once this period is in."""
        self.minutes += 1
        changed = [
            (alarm.name, *change) for alarm in self.alarms if (change := alarm.feed(period)) is not None
        ]
        for name, state, reason in changed:
            self.firing[name] = state == "ALARM"
            self.changes.append({"alarm": name, "state": state, "at": round(at, 3), "reason": reason})
        return changed

    @property
    def in_alarm(self) -> bool:
        return any(self.firing.values())

    def describe_firing(self) -> str | None:
        """The alarms in ALARM, each with the reason of its last change."""
        last = {change["alarm"]: change["reason"] for change in self.changes}
        firing = [f"{name}: {last[name]}" for name, on in self.firing.items() if on]
        return "; ".join(firing) or None

    def heard_enough(self, minutes: int) -> bool:
        """Whether every evaluated alarm has judged a full evaluation range in ``minutes``."""
        return all(minutes >= alarm.minutes_to_judge for alarm in self.alarms)

    @property
    def evaluates_any(self) -> bool:
        return bool(self.alarms)

    def to_json(self) -> dict[str, Any]:
        return {
            "watched": [
                {
                    "alarm": a.name,
                    "measures": a.definition.describe(),
                    "threshold": a.definition.threshold,
                    "evaluated": True,
                }
                for a in self.alarms
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
