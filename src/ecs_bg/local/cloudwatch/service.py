"""The local CloudWatch as a deployment meets it: the alarms it watches exist, and are judged on the
local load balancer's metrics (``alarm_watch``), each by its own definition (``metric_alarms``).

The moto server behind the endpoint keeps the alarms and metrics; what each alarm measures is its
definition: the stack's, and the user's own from simulation.yml's ``alarms:``. A deployment's alarm with
no definition is reported as not evaluated, with why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ecs_bg.local.cloudformation import model as cfn
from ecs_bg.local.cloudformation.cloud import LocalCloud
from ecs_bg.local.cloudwatch import alarms
from ecs_bg.local.cloudwatch.alarm_watch import AlarmWatch
from ecs_bg.local.cloudwatch.metric_alarms import (
    COMPARISONS,
    PERIOD,
    AlarmDefinition,
    Dimension,
    LoadBalancerNames,
    Metric,
    MetricAlarm,
    MetricQuery,
    MetricStat,
)
from ecs_bg.local.elbv2.balancer import LocalLoadBalancer


class CloudWatch:
    def __init__(
        self,
        lb: LocalLoadBalancer,
        client: Callable[[], Any],
        speed: float,
        definitions: Mapping[str, AlarmDefinition | str],
        names: LoadBalancerNames,
    ) -> None:
        """``definitions``: every alarm the local CloudWatch knows, by name (or why it cannot judge
        one); ``names``: the dimension
        values the local load balancer publishes under; ``client()``: the local CloudWatch's."""
        self._client = client
        self.watch = AlarmWatch(lb, client, speed)
        self.definitions = definitions
        self.names = names

    def start(self) -> None:
        self.watch.start()

    async def close(self) -> None:
        await self.watch.close()

    def alarm_board(self, names: list[str]) -> alarms.AlarmBoard:
        """Each alarm a deployment watches, judged by its definition; any the local CloudWatch cannot
        judge is reported as not evaluated, with why."""
        board = alarms.AlarmBoard()
        for name in names:
            definition = self.definitions.get(name)
            if definition is None:
                board.not_evaluated[name] = (
                    "no alarm of that name is defined (the stack's, or simulation.yml's)"
                )
                continue
            alarm = (
                definition if isinstance(definition, str) else MetricAlarm.of(name, definition, self.names)
            )
            if isinstance(alarm, str):
                board.not_evaluated[name] = alarm
            else:
                board.alarms.append(alarm)
        return board

    def put_alarms(self, names: list[str]) -> None:
        """The deployment's alarms exist (their state INSUFFICIENT_DATA until judged), for the hooks
        that read them; one that exists stays."""
        cloudwatch = self._client()
        known = {alarm["AlarmName"] for alarm in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]}
        for name in names:
            definition = self.definitions.get(name)
            if isinstance(definition, AlarmDefinition) and name not in known:
                cloudwatch.put_metric_alarm(**definition.put_metric_alarm(name))


def template_alarms(cloud: LocalCloud) -> dict[str, AlarmDefinition | str]:
    """Every alarm of the templates, by name, as the local CloudWatch judges it (or why it cannot)."""
    return {alarm.name: alarm_definition(alarm) for stack in cloud.resources for alarm in stack.alarms}


def load_balancer_names(cloud: LocalCloud) -> LoadBalancerNames:
    """The dimension values the templates' load balancers and target groups publish their metrics under."""
    balancers = {
        balancer.full_name: balancer.arn for stack in cloud.resources for balancer in stack.load_balancers
    }
    groups = {group.full_name: group.arn for stack in cloud.resources for group in stack.target_groups}
    return LoadBalancerNames(balancers, groups)


def alarm_definition(alarm: cfn.Alarm) -> AlarmDefinition | str:
    """A template's alarm as the local CloudWatch judges it, or why it cannot (an anomaly-detection
    band, a comparison of that kind)."""
    if alarm.threshold is None:
        return "an anomaly-detection band alarm (ThresholdMetricId): the local CloudWatch has no model"
    if alarm.comparison_operator not in COMPARISONS:
        return f"ComparisonOperator {alarm.comparison_operator}: the local CloudWatch judges thresholds only"

    def metric(found: cfn.Metric) -> Metric:
        return Metric(
            found.metric_name, found.namespace, tuple(Dimension(d.name, d.value) for d in found.dimensions)
        )

    common = {
        "threshold": alarm.threshold,
        "comparison_operator": alarm.comparison_operator,
        "evaluation_periods": alarm.evaluation_periods,
        "datapoints_to_alarm": alarm.datapoints_to_alarm,
        "treat_missing_data": alarm.treat_missing_data,
    }
    if alarm.metric is not None:
        found = metric(alarm.metric)
        return AlarmDefinition(
            metric_name=found.metric_name,
            namespace=found.namespace,
            dimensions=found.dimensions,
            statistic=alarm.statistic,  # type: ignore[arg-type]  # checked by the template reader
            extended_statistic=alarm.extended_statistic,
            period=alarm.period or PERIOD,
            **common,  # type: ignore[arg-type]
        )
    queries = tuple(
        MetricQuery(
            query.id,
            MetricStat(metric(query.metric_stat.metric), query.metric_stat.stat, query.metric_stat.period)
            if query.metric_stat is not None
            else None,
            query.expression,
            query.return_data,
            query.label,
            query.period,
        )
        for query in alarm.metrics
    )
    return AlarmDefinition(metrics=queries, **common)  # type: ignore[arg-type]
