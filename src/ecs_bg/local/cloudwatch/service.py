"""The local CloudWatch as a deployment meets it: the alarms it watches exist, and are judged on the
local load balancer's metrics (``alarm_watch``).

The moto server behind the endpoint keeps the alarms and metrics; what each alarm measures is known
here: the stack's two gate alarms (``alarms``), the user's own from simulation.yml's ``alarms:``
(``metric_alarms``); any other is reported as not evaluated, with why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ecs_bg.local.cloudwatch import alarms, metric_alarms
from ecs_bg.local.cloudwatch.alarm_watch import AlarmWatch
from ecs_bg.local.elbv2.balancer import LocalLoadBalancer


class CloudWatch:
    def __init__(
        self,
        lb: LocalLoadBalancer,
        client: Callable[[], Any],
        speed: float,
        *,
        stack_alarms: Mapping[str, str],
        alarm_5xx_percent: float,
        latency_p95_seconds: float,
        definitions: Mapping[str, metric_alarms.AlarmDefinition],
    ) -> None:
        """``stack_alarms``: the stack's outputs naming its alarms; ``client()``: the local CloudWatch's."""
        self._client = client
        self.watch = AlarmWatch(lb, client, speed)
        self.definitions = definitions
        self._stack_alarms = stack_alarms
        self._percent = alarm_5xx_percent
        self._latency = latency_p95_seconds

    def start(self) -> None:
        self.watch.start()

    async def close(self) -> None:
        await self.watch.close()

    def alarm_board(self, names: list[str], groups: tuple[str, ...]) -> alarms.AlarmBoard:
        """Each alarm a deployment watches, with what it measures: the stack's two are known, the
        user's are simulation.yml's ``alarms:``; any other is reported as not evaluated, with why."""
        known = {
            rule.name: rule
            for rule in alarms.stack_rules(names, self._stack_alarms, self._percent, self._latency)
            if rule.measure != "unknown"
        }
        # A TargetGroup dimension names the group as targetgroup/NAME/ID, or by NAME alone; the load
        # balancer names its groups by ARN.
        target_groups: dict[str, str] = {}
        for arn in groups:
            value = arn.split(":", 5)[5]
            target_groups |= {value: arn, value.split("/")[1]: arn}
        board = alarms.AlarmBoard([])
        for name in names:
            definition = self.definitions.get(name)
            if definition is not None:
                source = metric_alarms.series(definition, target_groups)
                if isinstance(source, str):
                    board.not_evaluated[name] = source
                else:
                    board.metric_alarms.append(metric_alarms.MetricAlarm(name, definition, source))
            elif name in known:
                board.rules.append(known[name])
            else:
                board.not_evaluated[name] = (
                    "not one of the stack's alarms, and simulation.yml's alarms does not define it"
                )
        return board

    def put_alarms(self, names: list[str]) -> None:
        """The deployment's alarms exist (OK), for the hooks that read them: as simulation.yml's
        ``alarms:`` defines one, else as the stack makes its gate alarms; one that exists stays."""
        cloudwatch = self._client()
        known = {alarm["AlarmName"] for alarm in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]}
        for name in names:
            defined = self.definitions.get(name)
            if defined is not None and name not in known:
                cloudwatch.put_metric_alarm(**defined.put_metric_alarm(name))
            elif name not in known:
                alarms.put_gate_alarm(cloudwatch, name, self._percent)
