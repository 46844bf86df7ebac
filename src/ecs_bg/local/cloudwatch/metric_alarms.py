"""A user's own metric alarm, judged as CloudWatch judges it, on what the local load balancer measured.

ECS rolls back when any alarm in ``deploymentConfiguration.alarms`` goes into ALARM, whatever it
measures. The stack's two alarms are known (``alarms``); any other alarm lives in the user's
account, so ``simulation.yml``'s ``alarms:`` gives its definition, with PutMetricAlarm's fields in
camelCase. The simulator creates it in its local CloudWatch (a hook's DescribeAlarms sees it) and
evaluates it here every simulated minute. An alarm it cannot evaluate is reported as not evaluated,
with why: never silently.

What CloudWatch does, and this follows:

- AWS/ApplicationELB publishes a metric every 60 seconds and only when it has data: no requests, or
  no 5xx, means no datapoint at all, not a zero ("CloudWatch metrics for your Application Load
  Balancer", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
  For its counts "the most useful statistic is Sum"; Minimum, Maximum and Average of a count all
  return 1 there, and so they do here.
- An alarm looks at its last ``evaluationPeriods`` datapoints and goes into ALARM when
  ``datapointsToAlarm`` of them breach; ``treatMissingData`` says what a missing one is: breaching,
  notBreaching, ignore (the state is kept), missing (the default: not considered, and with none at all
  the alarm is INSUFFICIENT_DATA) ("Evaluating an alarm" and "Configuring how CloudWatch alarms treat
  missing data", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html;
  PutMetricAlarm, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).

Speed: a simulated minute carries only 60/speed real seconds of traffic. Ratios, averages and
percentiles of that traffic are what a real minute at the same rate shows, so they are judged as
measured (latencies are the balancer's real ones). A count is not: it is scaled to the alarm's period
(count x period / real seconds measured), the number a real period at the same rate would hold, so a
RequestCount threshold means the same at any speed.
"""

from __future__ import annotations

import math
import operator
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.settings import setting
from ecs_bg.local.elbv2.traffic_stats import IntervalMetrics, MetricsPeriod, percentile

NAMESPACE = "AWS/ApplicationELB"
PERIOD = 60  # seconds: ELB's metrics come in 60-second intervals, the simulator's metrics period
# The counts the local load balancer produces, by metric name.
COUNTS: Mapping[str, Callable[[IntervalMetrics], int]] = {
    "RequestCount": lambda m: m.request_count,
    "HTTPCode_Target_5XX_Count": lambda m: m.target_5xx_count,
    "HTTPCode_ELB_5XX_Count": lambda m: m.elb_5xx_count,
    "HTTPCode_Target_2XX_Count": lambda m: m.target_2xx_count,
}
LATENCY = "TargetResponseTime"
COMPARISONS: Mapping[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
SYMBOLS = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<"}
SYMBOLS |= {"LessThanOrEqualToThreshold": "<="}
PERCENTILE = re.compile(r"p(\d{1,2}(\.\d+)?|100)")

Comparison = Literal[
    "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"
]
Statistic = Literal["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
TreatMissingData = Literal["breaching", "notBreaching", "ignore", "missing"]
State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]


@dataclass(frozen=True)
class Dimension:
    name: str
    value: str


@dataclass(frozen=True)
class AlarmDefinition:
    """simulation.yml's ``alarms.<name>``: PutMetricAlarm's fields for one metric, in camelCase."""

    metric_name: str
    threshold: float
    comparison_operator: Comparison
    evaluation_periods: int = field(metadata=setting(positive=True))
    namespace: str = NAMESPACE
    dimensions: tuple[Dimension, ...] = ()
    statistic: Statistic | None = None
    extended_statistic: str | None = None  # pNN
    period: int = field(default=PERIOD, metadata=setting(positive=True))
    datapoints_to_alarm: int | None = field(default=None, metadata=setting(positive=True))
    treat_missing_data: TreatMissingData = "missing"

    def check(self, where: str) -> None:
        """What PutMetricAlarm itself refuses; errors start with ``where``."""
        if (self.statistic is None) == (self.extended_statistic is None):
            raise DefinitionError(f"{where} give exactly one of statistic and extendedStatistic")
        if self.extended_statistic is not None and not PERCENTILE.fullmatch(self.extended_statistic):
            raise DefinitionError(
                f"{where} extendedStatistic {self.extended_statistic!r} is not a percentile (p0 to p100, "
                "e.g. p95)"
            )
        if self.period % PERIOD:
            raise DefinitionError(f"{where} period {self.period} must be a multiple of 60 seconds")
        if (self.datapoints_to_alarm or 0) > self.evaluation_periods:
            raise DefinitionError(
                f"{where} datapointsToAlarm {self.datapoints_to_alarm} exceeds evaluationPeriods "
                f"{self.evaluation_periods}"
            )

    @property
    def stat(self) -> str:
        return str(self.statistic or self.extended_statistic)

    def describe(self) -> str:
        dimensions = ", ".join(f"{d.name}={d.value}" for d in self.dimensions) or "no dimensions"
        return (
            f"{self.namespace} {self.metric_name} {self.stat} ({dimensions}) "
            f"{SYMBOLS[self.comparison_operator]} {self.threshold:g} over {self.period} s, "
            f"{self.datapoints_to_alarm or self.evaluation_periods} of {self.evaluation_periods}, "
            f"missing data: {self.treat_missing_data}"
        )

    def put_metric_alarm(self, name: str) -> dict[str, object]:
        """The PutMetricAlarm call that creates it in the local CloudWatch."""
        key = "Statistic" if self.statistic else "ExtendedStatistic"
        statistic = {key: self.stat}
        return {
            "AlarmName": name,
            "Namespace": self.namespace,
            "MetricName": self.metric_name,
            "Dimensions": [{"Name": d.name, "Value": d.value} for d in self.dimensions],
            "Period": self.period,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.datapoints_to_alarm or self.evaluation_periods,
            "Threshold": self.threshold,
            "ComparisonOperator": self.comparison_operator,
            "TreatMissingData": self.treat_missing_data,
            **statistic,
        }


Series = Callable[[MetricsPeriod], IntervalMetrics | None]


def series(definition: AlarmDefinition, target_groups: Mapping[str, str]) -> Series | str:
    """Where the alarm's metric comes from (the load balancer, or one target group by its dimension
    value, ``target_groups``: value -> group), or why the simulator cannot produce it."""
    if definition.namespace != NAMESPACE:
        return f"the simulator produces only {NAMESPACE} metrics, from its local load balancer"
    if definition.metric_name not in (*COUNTS, LATENCY):
        return (
            f"the local load balancer does not produce {definition.metric_name} (it produces "
            f"{', '.join([*COUNTS, LATENCY])})"
        )
    if definition.metric_name in COUNTS and definition.statistic == "SampleCount":
        return "SampleCount of an ELB count is not a number ELB documents"
    if definition.metric_name == LATENCY and definition.statistic == "SampleCount":
        return "SampleCount of TargetResponseTime is the request count: alarm on RequestCount"
    names = {d.name for d in definition.dimensions}
    if names == {"LoadBalancer"}:
        return lambda period: period.load_balancer
    if names in ({"TargetGroup"}, {"TargetGroup", "LoadBalancer"}):
        value = next(d.value for d in definition.dimensions if d.name == "TargetGroup")
        group = target_groups.get(value) or target_groups.get(_group_name(value))
        if group is None:
            groups = ", ".join(target_groups)
            return f"TargetGroup {value!r} is neither of the service's target groups ({groups})"
        return lambda period: period.groups.get(group)
    return (
        f"dimensions {sorted(names) or 'none'}: the local load balancer publishes per LoadBalancer and per "
        "TargetGroup (with LoadBalancer) only"
    )


def _group_name(value: str) -> str:
    """targetgroup/NAME/ID -> NAME: the ID differs from account to account, the name is the user's."""
    parts = value.split("/")
    return parts[1] if len(parts) == 3 else value


@dataclass
class MetricAlarm:
    """One user alarm over the simulated minutes: its datapoints, and its state."""

    name: str
    definition: AlarmDefinition
    metric: Series
    state: State = "INSUFFICIENT_DATA"  # CloudWatch's state of a new alarm
    pending: list[MetricsPeriod] = field(default_factory=list)  # minutes of the period under way
    datapoints: deque[float | None] = field(default_factory=deque)  # the last evaluationPeriods
    judged: int = 0  # datapoints so far

    def feed(self, period: MetricsPeriod) -> tuple[State, str] | None:
        """Take one simulated minute; (new state, reason) when the alarm changes state."""
        self.pending.append(period)
        if len(self.pending) * PERIOD < self.definition.period:
            return None
        minutes, self.pending = self.pending, []
        value = self.datapoint(minutes)
        self.datapoints.append(value)
        self.judged += 1
        while len(self.datapoints) > self.definition.evaluation_periods:
            self.datapoints.popleft()
        state = self.evaluate()
        if state == self.state:
            return None
        self.state = state
        return state, self.reason(value)

    def datapoint(self, minutes: list[MetricsPeriod]) -> float | None:
        """The statistic over the period's minutes; None when ELB would publish nothing."""
        measured = [m for m in (self.metric(minute) for minute in minutes) if m is not None]
        definition = self.definition
        if definition.metric_name == LATENCY:
            samples = sorted(s for m in measured for s in m.latencies)
            if not samples:
                return None
            if definition.extended_statistic:
                return percentile(samples, float(definition.extended_statistic[1:]))
            real_seconds = sum(minute.end - minute.start for minute in minutes)
            return {
                "Average": sum(samples) / len(samples),
                "Minimum": samples[0],
                "Maximum": samples[-1],
                # A sum grows with the traffic's time: scaled to a real period at the same rate.
                "Sum": sum(samples) * definition.period / max(real_seconds, 1e-9),
            }[definition.stat]
        count = sum(COUNTS[definition.metric_name](m) for m in measured)
        if not count:
            return None  # ELB reports a count only when it is not zero
        if definition.statistic != "Sum":
            return 1.0  # ELB: Minimum, Maximum and Average of its counts all return 1
        real_seconds = sum(minute.end - minute.start for minute in minutes)
        return count * definition.period / max(real_seconds, 1e-9)

    def evaluate(self) -> State:
        definition = self.definition
        breaches = COMPARISONS[definition.comparison_operator]
        verdicts: list[bool] = []
        for value in self.datapoints:
            if value is not None:
                verdicts.append(breaches(value, definition.threshold))
            elif definition.treat_missing_data in ("breaching", "notBreaching"):
                verdicts.append(definition.treat_missing_data == "breaching")
        if not verdicts:
            return self.state if definition.treat_missing_data == "ignore" else "INSUFFICIENT_DATA"
        needed = definition.datapoints_to_alarm or definition.evaluation_periods
        return "ALARM" if sum(verdicts) >= needed else "OK"

    def reason(self, value: float | None) -> str:
        definition = self.definition
        shown = "no datapoint" if value is None else f"{value:.4g}"
        breaching = sum(
            1
            for v in self.datapoints
            if v is not None and COMPARISONS[definition.comparison_operator](v, definition.threshold)
        )
        return (
            f"{definition.metric_name} {definition.stat} {shown} (threshold "
            f"{SYMBOLS[definition.comparison_operator]} {definition.threshold:g}); {breaching} of the last "
            f"{len(self.datapoints)} datapoints breaching, missing data {definition.treat_missing_data}"
        )

    @property
    def minutes_to_judge(self) -> int:
        """Simulated minutes of traffic the alarm needs for a full evaluation range."""
        return math.ceil(self.definition.period / PERIOD) * self.definition.evaluation_periods
