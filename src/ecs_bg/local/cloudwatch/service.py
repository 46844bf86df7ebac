"""The local CloudWatch as a deployment meets it: the alarms it watches exist, and are judged on the
local load balancer's metrics (``alarm_watch``), each by its own definition (``metric_alarms``).

The moto server behind the endpoint keeps the alarms and metrics; what each alarm measures is its
definition: the stack's, and the user's own from simulation.yml's ``alarms:``. A deployment's alarm with
no definition is reported as not evaluated, with why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ecs_bg.local.cloudwatch import alarms
from ecs_bg.local.cloudwatch.alarm_watch import AlarmWatch
from ecs_bg.local.cloudwatch.metric_alarms import AlarmDefinition, LoadBalancerNames, MetricAlarm
from ecs_bg.local.elbv2.balancer import LocalLoadBalancer


class CloudWatch:
    def __init__(
        self,
        lb: LocalLoadBalancer,
        client: Callable[[], Any],
        speed: float,
        definitions: Mapping[str, AlarmDefinition],
        names: LoadBalancerNames,
    ) -> None:
        """``definitions``: every alarm the local CloudWatch knows, by name; ``names``: the dimension
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
            alarm = MetricAlarm.of(name, definition, self.names)
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
            if definition is not None and name not in known:
                cloudwatch.put_metric_alarm(**definition.put_metric_alarm(name))
