"""The local load balancer's metrics in CloudWatch, and each running deployment's alarms judged on them.

Every simulated minute (``setup.METRICS_PERIOD`` at the local clock's speed) the period's traffic goes to
CloudWatch per target group, as AWS/ApplicationELB publishes it, and every deployment that watches
alarms (``deploymentConfiguration.alarms``) has them judged as ``ecs-bg simulate`` judges them
(``ecs_bg.sim.alarms``: the stack's 5xx and latency alarms, two breaching datapoints). Traffic is
whatever reaches the listeners: ``ecs-bg local`` has no load generator, so without requests no
datapoint is judged and no alarm changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from ecs_bg.sim import alarms, setup
from ecs_bg.sim.balancer import LocalLoadBalancer

OnChange = Callable[[alarms.AlarmBoard], None]


class AlarmWatch:
    def __init__(
        self,
        lb: LocalLoadBalancer,
        cloudwatch: Callable[[], Any],
        rules: Callable[[list[str]], list[alarms.AlarmRule]],
        speed: float,
    ) -> None:
        self.lb = lb
        self._cloudwatch = cloudwatch  # made on first use: moto's URL is known only once it serves
        self._rules = rules
        self.speed = speed
        self.watching: dict[str, tuple[alarms.AlarmBoard, OnChange]] = {}  # deployment ARN -> its board
        self.problems: list[str] = []  # what failed publishing (never stops the next minute)
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.lb.take_metrics()  # the first period starts now
        self._loop = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop

    def watch(self, deployment: str, names: list[str], on_change: OnChange) -> alarms.AlarmBoard:
        """Judge ``names`` for ``deployment`` from now on; ``on_change`` hears every change of state."""
        board = alarms.AlarmBoard(self._rules(names))
        self.watching[deployment] = (board, on_change)
        return board

    def forget(self, deployment: str) -> None:
        self.watching.pop(deployment, None)

    async def _run(self) -> None:
        cloudwatch = await asyncio.to_thread(self._cloudwatch)
        while True:
            await asyncio.sleep(setup.METRICS_PERIOD / self.speed)
            period = self.lb.take_metrics()
            # The local load balancer names its groups by ARN: the dimension is the ARN's last part.
            await alarms.publish(self.problems, cloudwatch, period, alarms.target_group_dimension)
            for board, on_change in list(self.watching.values()):
                changed = board.judge(period, period.end)
                if changed:
                    on_change(board)
                await alarms.set_states(board.problems, cloudwatch, changed)
