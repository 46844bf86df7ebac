"""A CloudWatch metric alarm, judged as CloudWatch judges it, on what the local load balancer measured.

ECS rolls back when any alarm in ``deploymentConfiguration.alarms`` goes into ALARM, whatever it
measures. Every alarm is judged here by its own definition, PutMetricAlarm's fields: one metric
(``metricName``, ``namespace``, ``dimensions``, ``statistic`` or ``extendedStatistic``, ``period``) or
``metrics`` (MetricDataQueries: metrics by ``metricStat`` and ``expression``s of metric math over
them, one returning the alarm's series), ``threshold``, ``comparisonOperator``, ``evaluationPeriods``,
``datapointsToAlarm``, ``treatMissingData``. The stack's alarms come as the stack defines them; a
user's own from simulation.yml's ``alarms:``. An alarm the local CloudWatch cannot evaluate (a
metric the local load balancer does not produce, a math function it does not know) is reported as
not evaluated, with why: never silently, never judged by a guess.

What CloudWatch does, and this follows:

- AWS/ApplicationELB publishes a metric every 60 seconds and only when it has data: no requests, or
  no 5xx, means no datapoint at all, not a zero. HTTPCode_ELB_5XX_Count has the dimensions
  LoadBalancer (or AvailabilityZone, LoadBalancer) only ("CloudWatch metrics for your Application
  Load Balancer",
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
  For its counts "the most useful statistic is Sum"; Minimum, Maximum and Average of a count all
  return 1 there, and so they do here.
- An alarm looks at its last ``evaluationPeriods`` datapoints and goes into ALARM when
  ``datapointsToAlarm`` of them breach; ``treatMissingData`` says what a missing one is: breaching,
  notBreaching, ignore (the state is kept), missing (the default: not considered, and with none at all
  the alarm is INSUFFICIENT_DATA) ("Evaluating an alarm" and "Configuring how CloudWatch alarms treat
  missing data", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html;
  PutMetricAlarm, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).

Speed: a simulated period carries only period/speed real seconds of traffic, at the real rate of the
requests that reached the listeners. Ratios, averages and percentiles of that traffic are what a
real period at the same rate shows, so they are judged as measured (latencies are the balancer's real
ones). A count is not: it is scaled to the alarm's period (count x period / real seconds measured), the
number a real period at the same rate would hold. So "5xx >= 5 a minute" means what it means on AWS,
and no verdict depends on the clock's speed.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.settings import setting
from ecs_bg.local.cloudwatch import metric_math
from ecs_bg.local.elbv2.traffic_stats import IntervalMetrics, MetricsPeriod, percentile

NAMESPACE = "AWS/ApplicationELB"
PERIOD = 60  # seconds: ELB's metrics come in 60-second intervals, the local metrics period
# The counts the local load balancer produces, by metric name.
COUNTS: Mapping[str, Callable[[IntervalMetrics], int]] = {
    "RequestCount": lambda m: m.request_count,
    "HTTPCode_Target_5XX_Count": lambda m: m.target_5xx_count,
    "HTTPCode_ELB_5XX_Count": lambda m: m.elb_5xx_count,
    "HTTPCode_Target_2XX_Count": lambda m: m.target_2xx_count,
}
LATENCY = "TargetResponseTime"
LOAD_BALANCER_ONLY = frozenset({"HTTPCode_ELB_5XX_Count"})  # ELB publishes it per load balancer only
COMPARISONS: Mapping[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
SYMBOLS = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<"}
SYMBOLS |= {"LessThanOrEqualToThreshold": "<="}
PERCENTILE = re.compile(r"p(\d{1,2}(\.\d+)?|100)")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

Comparison = Literal[
    "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"
]
Statistic = Literal["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
TreatMissingData = Literal["breaching", "notBreaching", "ignore", "missing"]
State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
POSITIVE = setting(positive=True)


@dataclass(frozen=True)
class Dimension:
    name: str
    value: str


@dataclass(frozen=True)
class Metric:
    metric_name: str
    namespace: str = NAMESPACE
    dimensions: tuple[Dimension, ...] = ()

    def describe(self) -> str:
        dimensions = ", ".join(f"{d.name}={d.value}" for d in self.dimensions) or "no dimensions"
        return f"{self.namespace} {self.metric_name} ({dimensions})"


@dataclass(frozen=True)
class MetricStat:
    metric: Metric
    stat: str  # a statistic or a percentile, pNN
    period: int = field(default=PERIOD, metadata=POSITIVE)


@dataclass(frozen=True)
class MetricQuery:
    """One of ``metrics``: a metric (``metricStat``) or an ``expression`` over the others' ids."""

    id: str
    metric_stat: MetricStat | None = None
    expression: str | None = None
    return_data: bool | None = None  # default true: the one returned is the alarm's series
    label: str | None = None
    period: int | None = field(default=None, metadata=POSITIVE)


@dataclass(frozen=True)
class AlarmDefinition:
    """PutMetricAlarm's fields (camelCase in simulation.yml): one metric, or ``metrics``."""

    threshold: float
    comparison_operator: Comparison
    evaluation_periods: int = field(metadata=POSITIVE)
    metric_name: str | None = None
    namespace: str = NAMESPACE
    dimensions: tuple[Dimension, ...] = ()
    statistic: Statistic | None = None
    extended_statistic: str | None = None  # pNN
    period: int = field(default=PERIOD, metadata=POSITIVE)
    metrics: tuple[MetricQuery, ...] = ()
    datapoints_to_alarm: int | None = field(default=None, metadata=POSITIVE)
    treat_missing_data: TreatMissingData = "missing"

    def check(self, where: str) -> None:
        """What PutMetricAlarm itself refuses; errors start with ``where``."""
        if (self.metric_name is None) == (not self.metrics):
            raise DefinitionError(f"{where} give either metricName or metrics, and not both")
        if self.metric_name is not None:
            if (self.statistic is None) == (self.extended_statistic is None):
                raise DefinitionError(f"{where} give exactly one of statistic and extendedStatistic")
            stat = self.statistic or self.extended_statistic
            _check_stat(str(stat), f"{where} extendedStatistic")
        else:
            self._check_metrics(where)
        for period in self.periods:
            if period % PERIOD:
                raise DefinitionError(f"{where} period {period} must be a multiple of 60 seconds")
        if len(set(self.periods)) > 1:
            raise DefinitionError(f"{where} every metric must have the same period, got {self.periods}")
        if (self.datapoints_to_alarm or 0) > self.evaluation_periods:
            raise DefinitionError(
                f"{where} datapointsToAlarm {self.datapoints_to_alarm} exceeds evaluationPeriods "
                f"{self.evaluation_periods}"
            )

    def _check_metrics(self, where: str) -> None:
        ids = [query.id for query in self.metrics]
        if len(set(ids)) != len(ids):
            raise DefinitionError(f"{where} metrics: the ids must be unique, got {ids}")
        returned = [query.id for query in self.metrics if query.return_data is not False]
        if len(returned) != 1:
            raise DefinitionError(
                f"{where} metrics: exactly one must return data (returnData false on the others), "
                f"got {returned}"
            )
        for query in self.metrics:
            if (query.metric_stat is None) == (query.expression is None):
                raise DefinitionError(f"{where} metrics.{query.id}: give either metricStat or expression")
            if query.metric_stat is not None:
                _check_stat(query.metric_stat.stat, f"{where} metrics.{query.id}.metricStat.stat")
            if query.expression is not None:
                try:
                    unknown = metric_math.references(metric_math.parse(query.expression)) - set(ids)
                except metric_math.MathError as error:
                    raise DefinitionError(f"{where} metrics.{query.id}.expression: {error}") from None
                if unknown:
                    raise DefinitionError(
                        f"{where} metrics.{query.id}.expression names no query {sorted(unknown)}"
                    )

    @property
    def periods(self) -> tuple[int, ...]:
        if self.metric_name is not None:
            return (self.period,)
        return tuple(q.metric_stat.period for q in self.metrics if q.metric_stat is not None)

    @property
    def alarm_period(self) -> int:
        return self.periods[0] if self.periods else PERIOD

    def describe(self) -> str:
        if self.metric_name is not None:
            what = f"{Metric(self.metric_name, self.namespace, self.dimensions).describe()} {self.stat}"
        else:
            returned = next(q for q in self.metrics if q.return_data is not False)
            what = returned.expression or (
                returned.metric_stat.metric.describe() if returned.metric_stat else ""
            )
        return (
            f"{what} {SYMBOLS[self.comparison_operator]} {self.threshold:g} over {self.alarm_period} s, "
            f"{self.datapoints_to_alarm or self.evaluation_periods} of {self.evaluation_periods}, "
            f"missing data: {self.treat_missing_data}"
        )

    @property
    def stat(self) -> str:
        return str(self.statistic or self.extended_statistic)

    def put_metric_alarm(self, name: str) -> dict[str, object]:
        """The PutMetricAlarm call that creates it in the local CloudWatch."""
        call: dict[str, object] = {
            "AlarmName": name,
            "EvaluationPeriods": self.evaluation_periods,
            "DatapointsToAlarm": self.datapoints_to_alarm or self.evaluation_periods,
            "Threshold": self.threshold,
            "ComparisonOperator": self.comparison_operator,
            "TreatMissingData": self.treat_missing_data,
        }
        if self.metric_name is not None:
            key = "Statistic" if self.statistic else "ExtendedStatistic"
            return call | {
                "Namespace": self.namespace,
                "MetricName": self.metric_name,
                "Dimensions": _dimensions(self.dimensions),
                "Period": self.period,
                key: self.stat,
            }
        return call | {"Metrics": [_query(query) for query in self.metrics]}


def _check_stat(stat: str, where: str) -> None:
    if stat not in STATISTICS and not PERCENTILE.fullmatch(stat):
        raise DefinitionError(f"{where} {stat!r} is neither a statistic ({', '.join(STATISTICS)}) nor pNN")


def _dimensions(dimensions: tuple[Dimension, ...]) -> list[dict[str, str]]:
    return [{"Name": d.name, "Value": d.value} for d in dimensions]


def _query(query: MetricQuery) -> dict[str, object]:
    made: dict[str, object] = {"Id": query.id, "ReturnData": query.return_data is not False}
    if query.label is not None:
        made["Label"] = query.label
    if query.expression is not None:
        return made | {"Expression": query.expression}
    assert query.metric_stat is not None
    stat = query.metric_stat
    metric = stat.metric
    made["MetricStat"] = {
        "Metric": {
            "Namespace": metric.namespace,
            "MetricName": metric.metric_name,
            "Dimensions": _dimensions(metric.dimensions),
        },
        "Period": stat.period,
        "Stat": stat.stat,
    }
    return made


Source = Callable[[MetricsPeriod], IntervalMetrics | None]


@dataclass(frozen=True)
class LoadBalancerNames:
    """The dimension values the local load balancers publish under, each to the ARN it stands for: a
    LoadBalancer dimension names ``app/NAME/ID``, a TargetGroup dimension ``targetgroup/NAME/ID``, as
    ELB publishes them. Each load balancer publishes its own requests only."""

    load_balancers: Mapping[str, str]  # dimension value -> load balancer ARN
    target_groups: Mapping[str, str]  # dimension value -> target group ARN

    def source(self, metric: Metric) -> Source | str:
        """Where ``metric`` comes from in each period, or why the local CloudWatch cannot have it."""
        if metric.namespace != NAMESPACE:
            return f"the local CloudWatch has only {NAMESPACE} metrics, from the local load balancer"
        if metric.metric_name not in (*COUNTS, LATENCY):
            return (
                f"the local load balancer does not produce {metric.metric_name} (it produces "
                f"{', '.join([*COUNTS, LATENCY])})"
            )
        dimensions = {d.name: d.value for d in metric.dimensions}
        named = dimensions.get("LoadBalancer")
        balancer = _named(self.load_balancers, named) if named is not None else None
        if named is not None and balancer is None:
            known = ", ".join(self.load_balancers) or "none"
            return f"LoadBalancer {named!r} is none of the stack's load balancers ({known})"
        if set(dimensions) == {"LoadBalancer"} and balancer is not None:
            return functools.partial(_of_balancer, balancer)
        if set(dimensions) in ({"TargetGroup"}, {"TargetGroup", "LoadBalancer"}):
            value = dimensions["TargetGroup"]
            group = _named(self.target_groups, value)
            if group is None:
                groups = ", ".join(self.target_groups)
                return f"TargetGroup {value!r} is none of the load balancer's target groups ({groups})"
            if metric.metric_name in LOAD_BALANCER_ONLY:
                return lambda period: None  # published per load balancer only: never a datapoint here
            return lambda period: period.groups.get(group)
        return (
            f"dimensions {sorted(dimensions) or 'none'}: ELB publishes per LoadBalancer and per TargetGroup "
            "(with LoadBalancer) only"
        )


def _of_balancer(arn: str, period: MetricsPeriod) -> IntervalMetrics | None:
    return period.load_balancers.get(arn)


def _named(arns: Mapping[str, str], value: str) -> str | None:
    """The ARN ``value`` names: exactly, or by NAME alone (the id differs from account to account)."""
    return arns.get(value) or next((arn for key, arn in arns.items() if _name(key) == _name(value)), None)


def _name(value: str) -> str:
    """app/NAME/ID or targetgroup/NAME/ID -> NAME: the id differs from account to account."""
    parts = value.split("/")
    return parts[1] if len(parts) == 3 else value


def statistic(
    metric_name: str, stat: str, minutes: list[MetricsPeriod], source: Source, period: int
) -> float | None:
    """``stat`` of ``metric_name`` over the period's minutes; None when ELB would publish nothing."""
    measured = [m for m in (source(minute) for minute in minutes) if m is not None]
    real_seconds = max(sum(minute.end - minute.start for minute in minutes), 1e-9)
    if metric_name == LATENCY:
        samples = sorted(s for m in measured for s in m.latencies)
        if not samples:
            return None
        if PERCENTILE.fullmatch(stat):
            return percentile(samples, float(stat[1:]))
        return {
            "Average": sum(samples) / len(samples),
            "Minimum": samples[0],
            "Maximum": samples[-1],
            # A sum or a count grows with the traffic's time: scaled to a real period at the same rate.
            "Sum": sum(samples) * period / real_seconds,
            "SampleCount": len(samples) * period / real_seconds,
        }[stat]
    count = sum(COUNTS[metric_name](m) for m in measured)
    if not count:
        return None  # ELB reports a count only when it is not zero
    if stat in ("Sum", "SampleCount"):
        return count * period / real_seconds
    return 1.0  # ELB: Minimum, Maximum, Average and any percentile of its counts are 1


@dataclass
class MetricAlarm:
    """One alarm over the simulated minutes: its datapoints, and its state."""

    name: str
    definition: AlarmDefinition
    sources: Mapping[str, Source]  # query id (or "" for a one-metric alarm) -> where its metric comes from
    state: State = "INSUFFICIENT_DATA"  # CloudWatch's state of a new alarm
    pending: list[MetricsPeriod] = field(default_factory=list)  # minutes of the period under way
    datapoints: deque[float | None] = field(default_factory=deque)  # the last evaluationPeriods
    judged: int = 0  # datapoints so far

    @classmethod
    def of(cls, name: str, definition: AlarmDefinition, names: LoadBalancerNames) -> MetricAlarm | str:
        """The alarm, or why the local CloudWatch cannot evaluate it."""
        metrics = (
            {"": Metric(definition.metric_name, definition.namespace, definition.dimensions)}
            if definition.metric_name is not None
            else {q.id: q.metric_stat.metric for q in definition.metrics if q.metric_stat is not None}
        )
        sources = {}
        for key, metric in metrics.items():
            source = names.source(metric)
            if isinstance(source, str):
                return source
            sources[key] = source
        alarm = cls(name, definition, sources)
        try:
            alarm.datapoint([])  # every expression evaluates, on a period without data
        except metric_math.MathError as error:
            return f"metrics: {error}"
        return alarm

    def feed(self, period: MetricsPeriod) -> tuple[State, str] | None:
        """Take one simulated minute; (new state, reason) when the alarm changes state."""
        self.pending.append(period)
        if len(self.pending) * PERIOD < self.definition.alarm_period:
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
        definition = self.definition
        period = definition.alarm_period
        if definition.metric_name is not None:
            return statistic(definition.metric_name, definition.stat, minutes, self.sources[""], period)
        values: dict[str, metric_math.Result] = {}
        for query in definition.metrics:
            if query.metric_stat is not None:
                stat = query.metric_stat
                values[query.id] = statistic(
                    stat.metric.metric_name, stat.stat, minutes, self.sources[query.id], period
                )
        expressions = {q.id: metric_math.parse(q.expression) for q in definition.metrics if q.expression}
        while expressions:  # an expression may read another: each once what it reads is known
            ready = {i: e for i, e in expressions.items() if metric_math.references(e) <= set(values)}
            if not ready:
                raise metric_math.MathError(f"the expressions {sorted(expressions)} read each other")
            for query_id, expression in ready.items():
                values[query_id] = metric_math.evaluate(expression, values)
                del expressions[query_id]
        returned = next(q.id for q in definition.metrics if q.return_data is not False)
        result = values[returned]
        if isinstance(result, list):
            raise metric_math.MathError(f"{returned} is an array, not the alarm's one series")
        return None if result is None or math.isnan(result) else result

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
            f"{definition.describe()}: {shown} (threshold {SYMBOLS[definition.comparison_operator]} "
            f"{definition.threshold:g}); {breaching} of the last {len(self.datapoints)} datapoints breaching"
        )

    @property
    def minutes_to_judge(self) -> int:
        """Simulated minutes of traffic the alarm needs for a full evaluation range."""
        return math.ceil(self.definition.alarm_period / PERIOD) * self.definition.evaluation_periods
