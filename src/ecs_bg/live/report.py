"""A real deployment's report: what ECS, the hooks' logs and the load balancer's metrics tell of it.

- DescribeServiceDeployments: status, the current ``lifecycleStage``, ``createdAt``/``finishedAt``, the
  rollback reason, the hooks, the revisions' *current* requested weights. ECS keeps no per-stage
  history, so the stages shown are those the hooks' ``hook decision`` lines name, each spanning its
  first to its last invocation; stages without hooks (SCALE_UP, BAKE_TIME, CLEAN_UP) are not shown.
- CloudWatch Logs: each ``hook decision`` line becomes one invocation (ecs_bg.live.decisions).
- CloudWatch GetMetricData: per target group (the revision's ``targetGroupArn`` and its
  ``alternateTargetGroupArn``) ``RequestCount`` and ``HTTPCode_Target_5XX_Count``, and the load
  balancer's own ``HTTPCode_ELB_5XX_Count``, one-minute sums ("CloudWatch metrics for your Application
  Load Balancer", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).

A section AWS does not answer (a missing permission) is left empty with a note on the page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

from ecs_bg.hooks.ecs import function_name
from ecs_bg.live import decisions
from ecs_bg.live.aws import AwsFailure, Connection, aws_errors
from ecs_bg.live.deployments import Deployment, describe
from ecs_bg.report.model import Counts, DeploymentReport, HookMark, StageSpan, TrafficInterval, WeightChange

PERIOD: Final = 60  # seconds per metric sum: ALB metrics are published per minute
NAMESPACE: Final = "AWS/ApplicationELB"
T = TypeVar("T")

ALWAYS: Final = (
    "ECS reports only a deployment's current stage: the stages shown are those named by the hooks' "
    "decision lines, from each stage's first to its last hook invocation.",
    "Traffic weights: ECS reports only the weights requested now, not their history.",
    "Traffic: one-minute sums of the load balancer's metrics per target group (production and test "
    "listeners together; which group is green changes with every deployment).",
)


def build(connection: Connection, deployment_arn: str, now: datetime | None = None) -> DeploymentReport:
    """The report of one deployment; only DescribeServiceDeployments is required to succeed."""
    ecs = connection.ecs()
    deployment = describe(ecs, deployment_arn)
    start = deployment.created_at or deployment.started_at or (now or datetime.now(UTC))
    end = deployment.finished_at or now or datetime.now(UTC)
    notes = list(ALWAYS)

    def since(moment: datetime) -> float:
        return max(0.0, (moment - start).total_seconds())

    functions = {
        function_name(arn)
        for arn in (
            *deployment.configured_hook_arns,
            *(h.target_arn for h in deployment.hooks if h.target_arn),
        )
    }
    found = decisions.read(
        connection.logs(),
        functions,
        cluster=deployment.cluster,
        service=deployment.service,
        start=start,
        end=end,
    )
    notes += found.notes.values()
    marks = tuple(_mark(line, since) for line in found.lines)
    stages = _stages(marks, deployment, since(end))

    intervals = _section(
        "traffic",
        notes,
        lambda: _traffic(connection, ecs_revisions(connection, deployment), start, end, since),
    )
    production = (
        Counts(sum(i.total.requests for i in intervals), sum(i.total.errors for i in intervals))
        if intervals
        else None
    )
    return DeploymentReport(
        status=deployment.status,
        stages=stages,
        invocations=marks,
        weights=_weights(deployment, since(end)),
        intervals=tuple(intervals or ()),
        production=production,
        rollback_reason=deployment.rollback_reason,
        notes=tuple(notes),
    )


def _mark(line: decisions.Decision, since: Callable[[datetime], float]) -> HookMark:
    end = since(line.at)
    began = max(0.0, end - (line.duration_ms or 0) / 1000)
    return HookMark(
        hook=line.function,
        stage=line.stage,
        step=None,  # the log line does not say which LINEAR/CANARY step
        rollback=False,  # nor whether ECS invoked it for a rollback
        status=line.status,
        reason=line.reason,
        start=began,
        end=end,
        duration_ms=line.duration_ms,
    )


def _stages(marks: Iterable[HookMark], deployment: Deployment, now: float) -> tuple[StageSpan, ...]:
    """A span per run of consecutive invocations at one stage; the current stage runs on to now."""
    spans: list[StageSpan] = []
    for mark in marks:
        begin, finish = mark.start or 0.0, mark.end or 0.0
        if spans and spans[-1].stage == mark.stage:
            spans[-1] = StageSpan(mark.stage, spans[-1].start, finish)
        else:
            spans.append(StageSpan(mark.stage, begin, finish))
    if not deployment.ended and deployment.stage:
        if spans and spans[-1].stage == deployment.stage:
            spans[-1] = StageSpan(deployment.stage, spans[-1].start, None)
        else:
            spans.append(StageSpan(deployment.stage, spans[-1].end or 0.0 if spans else 0.0, None))
    return tuple(spans)


def _weights(deployment: Deployment, at: float) -> tuple[WeightChange, ...]:
    production = {_name(r.role): r.production_weight for r in deployment.revisions}
    test = {_name(r.role): r.test_weight for r in deployment.revisions}
    known_production = {name: w for name, w in production.items() if w is not None}
    known_test = {name: w for name, w in test.items() if w is not None}
    return (WeightChange(at, known_production, known_test),) if known_production or known_test else ()


def _name(role: str) -> str:
    return "green" if role == "target" else "blue"


def _section(name: str, notes: list[str], read: Callable[[], T]) -> T | None:
    """What ``read`` returns, or None and a note on the page when AWS did not answer."""
    try:
        return read()
    except AwsFailure as error:
        notes.append(f"{name} unavailable: {error}")
        return None


def ecs_revisions(connection: Connection, deployment: Deployment) -> list[dict[str, Any]]:
    arns = [revision.arn for revision in deployment.revisions]
    with aws_errors("ecs"):
        answer = connection.ecs().describe_service_revisions(serviceRevisionArns=arns)
    return [dict(revision) for revision in answer.get("serviceRevisions", [])]


def _traffic(
    connection: Connection,
    revisions: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    since: Callable[[datetime], float],
) -> list[TrafficInterval]:
    groups = sorted(
        {
            arn
            for revision in revisions
            for balancer in revision.get("loadBalancers", [])
            for arn in (
                balancer.get("targetGroupArn"),
                (balancer.get("advancedConfiguration") or {}).get("alternateTargetGroupArn"),
            )
            if arn
        }
    )
    if not groups:
        return []
    with aws_errors("elasticloadbalancing"):
        described = connection.elbv2().describe_target_groups(TargetGroupArns=groups)["TargetGroups"]
    balancer_of = {g["TargetGroupArn"]: (g.get("LoadBalancerArns") or [""])[0] for g in described}
    names = {arn: arn.split(":")[-1].split("/")[1] for arn in groups}  # targetgroup/NAME/ID
    queries: list[dict[str, Any]] = []
    for index, arn in enumerate(groups):
        dimensions = [{"Name": "TargetGroup", "Value": _suffix(arn)}]
        if balancer_of.get(arn):
            dimensions.append({"Name": "LoadBalancer", "Value": _suffix(balancer_of[arn])})
        for metric in ("RequestCount", "HTTPCode_Target_5XX_Count"):
            queries.append(_query(f"{metric.lower().replace('_', '')}{index}", metric, dimensions))
    balancers = sorted({b for b in balancer_of.values() if b})
    for index, balancer in enumerate(balancers):
        dimensions = [{"Name": "LoadBalancer", "Value": _suffix(balancer)}]
        queries.append(_query(f"elb{index}", "HTTPCode_ELB_5XX_Count", dimensions))
    series = _metric_data(connection, queries, start, end)

    def at(query_id: str) -> dict[datetime, float]:
        return series.get(query_id, {})

    moments = sorted({moment for values in series.values() for moment in values})
    intervals = []
    for moment in moments:
        by_group = {
            names[arn]: Counts(
                int(at(f"requestcount{i}").get(moment, 0)),
                int(at(f"httpcodetarget5xxcount{i}").get(moment, 0)),
            )
            for i, arn in enumerate(groups)
        }
        elb = int(sum(at(f"elb{i}").get(moment, 0) for i in range(len(balancers))))
        requests, errors = (
            sum(getattr(c, field) for c in by_group.values()) for field in ("requests", "errors")
        )
        total = Counts(requests + elb, errors + elb)  # the load balancer's own 5xx reached no target
        begin = since(moment)
        intervals.append(TrafficInterval(begin, begin + PERIOD, total, by_group))
    return intervals


def _query(query_id: str, metric: str, dimensions: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
            "Period": PERIOD,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


def _metric_data(
    connection: Connection, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, dict[datetime, float]]:
    """query id -> {period start: sum}; GetMetricData takes at most 500 queries, a service has few."""
    cloudwatch = connection.cloudwatch()
    request: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": start.replace(second=0, microsecond=0),
        "EndTime": end + timedelta(seconds=PERIOD),
    }
    series: dict[str, dict[datetime, float]] = defaultdict(dict)
    with aws_errors("cloudwatch"):
        while True:
            page = cloudwatch.get_metric_data(**request)
            for result in page.get("MetricDataResults", []):
                for moment, value in zip(
                    result.get("Timestamps", []), result.get("Values", []), strict=False
                ):
                    series[result["Id"]][moment.astimezone(UTC)] = value
            if not page.get("NextToken"):
                return series
            request["NextToken"] = page["NextToken"]


def _suffix(arn: str) -> str:
    """The metric dimension: ``targetgroup/NAME/ID`` or ``app/NAME/ID`` from the resource's ARN."""
    resource = arn.split(":", 5)[-1]
    return resource.split("/", 1)[1] if resource.startswith("loadbalancer/") else resource
