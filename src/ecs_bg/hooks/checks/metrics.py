"""metricGate: a CloudWatch metric measured ``count`` times, judged like an Argo Rollouts analysis.

Each measurement is the newest datapoint of a GetMetricData query over ``lookbackSeconds``. It
is successful when ``passIf`` holds, failed when ``failIf`` holds; with both set and neither
holding it is inconclusive (with only one set, not meeting it is the other outcome). No datapoint
counts as ``noData`` says. More failures than ``failureLimit`` fail the gate at once; more
inconclusive measurements than ``inconclusiveLimit`` end it as ``onInconclusive`` says.
Measurements continue across IN_PROGRESS invocations; each is logged and emitted as an EMF metric.

Dimension values and expressions may name ``{greenTargetGroup}`` and ``{loadBalancer}`` (the
ARN suffixes CloudWatch's ALB metrics use, resolved for green at run time), ``{cluster}`` and
``{service}``.
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from ecs_bg.hooks import aws
from ecs_bg.hooks.aws import call
from ecs_bg.hooks.config import CheckSettings, bounded
from ecs_bg.hooks.deployment import describe_target_revision, green_target_groups
from ecs_bg.hooks.errors import NotFound
from ecs_bg.hooks.result import Verdict

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext

_CONDITION: Final = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s*$")
_COMPARE: Final[dict[str, Callable[[float, float], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
Outcome = Literal["successful", "failed", "inconclusive"]
_SUB_MINUTE_PERIODS: Final = frozenset({1, 5, 10, 20, 30})  # high-resolution metrics' periods under a minute
_MAX_DIMENSIONS: Final = 30  # MetricStat's Metric.Dimensions (the CloudWatch API reference, Metric)


@dataclass(frozen=True, kw_only=True)
class Metric:
    """Shorthand for one metric statistic (the common case)."""

    namespace: str
    metric_name: str
    dimensions: dict[str, str] = field(default_factory=dict)
    stat: str = "Average"  # Sum, Average, p99, ...
    period_seconds: int = field(default=60, metadata=bounded(1, 86_400))

    def __post_init__(self) -> None:
        # GetMetricData's MetricStat.Period: "1, 5, 10, 20, 30, 60, or any multiple of 60" (the CloudWatch
        # API reference, MetricStat); CloudWatch refuses any other, so the gate could never measure.
        if self.period_seconds not in _SUB_MINUTE_PERIODS and self.period_seconds % 60:
            raise ValueError(
                f"periodSeconds {self.period_seconds} is not a CloudWatch period: 1, 5, 10, 20, 30, 60 or "
                "a multiple of 60"
            )
        if len(self.dimensions) > _MAX_DIMENSIONS:
            raise ValueError(
                f"{len(self.dimensions)} dimensions; a CloudWatch metric has at most {_MAX_DIMENSIONS}"
            )


@dataclass(frozen=True, kw_only=True)
class Settings(CheckSettings):
    name: str = "metricGate"  # names the measurements in logs and metrics
    metric: Metric | None = None
    queries: tuple[dict[str, Any], ...] = ()  # GetMetricData MetricDataQueries, as the API spells them
    pass_if: str | None = None  # e.g. "< 0.01"
    fail_if: str | None = None  # e.g. ">= 0.05"
    count: int = field(default=1, metadata=bounded(1, 1000))
    interval_seconds: float = field(default=60, metadata=bounded(1, 3600))
    lookback_seconds: int = field(default=300, metadata=bounded(60, 86_400))
    failure_limit: int = field(default=0, metadata=bounded(0, 1000))
    inconclusive_limit: int = field(default=0, metadata=bounded(0, 1000))
    no_data: Literal["inconclusive", "successful", "failed"] = "inconclusive"
    on_inconclusive: Literal["fail", "pass"] = "fail"

    def __post_init__(self) -> None:
        if (self.metric is None) == (not self.queries):
            raise ValueError("set exactly one of metric or queries")
        if self.pass_if is None and self.fail_if is None:
            raise ValueError("set passIf, failIf or both")
        for key, condition in (("passIf", self.pass_if), ("failIf", self.fail_if)):
            if condition is not None and not _CONDITION.match(condition):
                raise ValueError(f"{key} {condition!r} is not a comparison like '< 0.01'")
        if self.queries and sum(bool(q.get("ReturnData", True)) for q in self.queries) != 1:
            raise ValueError("queries must return exactly one result (set ReturnData false on the others)")


def prepare() -> None:
    aws.prepare("ecs", "elbv2", "cloudwatch")


def run(ctx: HookContext, settings: Settings) -> Verdict:
    queries = _resolve(ctx, _queries(settings))
    progress: dict[str, int] = ctx.state.setdefault(
        "metricGate", {"taken": 0, "failed": 0, "inconclusive": 0}
    )

    def measure() -> Verdict:
        value = _latest(ctx, settings, queries)
        outcome = _judge(settings, value)
        progress["taken"] += 1
        if outcome != "successful":
            progress[outcome] += 1
        _emit(ctx, settings, value, outcome)
        summary = (
            f"{settings.name}: measurement {progress['taken']}/{settings.count} = "
            f"{'no data' if value is None else f'{value:g}'} ({outcome})"
        )
        if progress["failed"] > settings.failure_limit:
            return Verdict.failed(
                f"{summary}; {progress['failed']} failed, limit {settings.failure_limit}", **progress
            )
        if progress["inconclusive"] > settings.inconclusive_limit:
            verdict = Verdict.passed if settings.on_inconclusive == "pass" else Verdict.failed
            return verdict(
                f"{summary}; inconclusive ({progress['inconclusive']} > {settings.inconclusive_limit})"
            )
        if progress["taken"] >= settings.count:
            return Verdict.passed(
                f"{summary}; {progress['failed']} failed of {progress['taken']}", **progress
            )
        return Verdict.pending(summary, **progress)

    # The count ends the wait; the timeout only guards against a wait that never measures.
    timeout = (settings.count + 1) * settings.interval_seconds
    return ctx.wait_until("metricGate", measure, interval=settings.interval_seconds, timeout=timeout)


def _queries(settings: Settings) -> list[dict[str, Any]]:
    if settings.metric is None:
        return [dict(query) for query in settings.queries]
    metric = settings.metric
    return [
        {
            "Id": "m",
            "MetricStat": {
                "Metric": {
                    "Namespace": metric.namespace,
                    "MetricName": metric.metric_name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions.items()],
                },
                "Period": metric.period_seconds,
                "Stat": metric.stat,
            },
            "ReturnData": True,
        }
    ]


def _resolve(ctx: HookContext, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill in the placeholders; green's target group and load balancer are looked up only if named."""
    text = repr(queries)
    values = {"{cluster}": ctx.event.cluster, "{service}": ctx.event.service}
    if "{greenTargetGroup}" in text or "{loadBalancer}" in text:
        group = next(iter(green_target_groups(describe_target_revision(ctx.event))), None)
        if group is None:
            raise NotFound("green's service revision has no resolved target group for {greenTargetGroup}")
        values["{greenTargetGroup}"] = group.split(":", 5)[5]  # targetgroup/NAME/ID
        if "{loadBalancer}" in text:
            described = call(
                "elbv2", ctx.event.deployment.region, "DescribeTargetGroups", TargetGroupArns=[group]
            )
            balancers = described["TargetGroups"][0].get("LoadBalancerArns", [])
            if not balancers:
                raise NotFound(f"target group {values['{greenTargetGroup}']} is not behind a load balancer")
            values["{loadBalancer}"] = balancers[0].split(":loadbalancer/", 1)[1]  # app/NAME/ID

    def fill(node: Any) -> Any:
        if isinstance(node, str):
            for placeholder, value in values.items():
                node = node.replace(placeholder, value)
            return node
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        if isinstance(node, list):
            return [fill(item) for item in node]
        return node

    return [fill(query) for query in queries]


def _latest(ctx: HookContext, settings: Settings, queries: list[dict[str, Any]]) -> float | None:
    end = datetime.fromtimestamp(ctx.clock.time(), UTC)
    start = datetime.fromtimestamp(ctx.clock.time() - settings.lookback_seconds, UTC)
    response = call(
        "cloudwatch",
        ctx.event.deployment.region,
        "GetMetricData",
        MetricDataQueries=queries,
        StartTime=start,
        EndTime=end,
    )
    results = response.get("MetricDataResults", [])
    values = results[0].get("Values", []) if results else []
    return float(values[0]) if values else None  # newest first: ScanBy defaults to TimestampDescending


def _judge(settings: Settings, value: float | None) -> Outcome:
    if value is None:
        return settings.no_data
    passes = _holds(settings.pass_if, value)
    fails = _holds(settings.fail_if, value)
    if passes:
        return "successful"
    if fails or settings.fail_if is None:
        return "failed"
    return "inconclusive" if settings.pass_if is not None else "successful"


def _holds(condition: str | None, value: float) -> bool:
    if condition is None:
        return False
    match = _CONDITION.match(condition)
    assert match is not None  # validated in Settings
    return _COMPARE[match[1]](value, float(match[2]))


def _emit(ctx: HookContext, settings: Settings, value: float | None, outcome: Outcome) -> None:
    """Log the measurement and emit it as an EMF metric, so dashboards show what the gate saw."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    ctx.logger.info("metric measurement", extra={"gate": settings.name, "value": value, "outcome": outcome})
    if value is None:
        return
    metrics = Metrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "EcsBlueGreen"), service=ctx.event.service
    )
    metrics.add_dimension(name="gate", value=settings.name)
    metrics.add_metric(name="MetricGateValue", unit=MetricUnit.NoUnit, value=value)
    metrics.flush_metrics()
