"""The local load balancer's metrics in CloudWatch, and each running deployment's alarms judged on them.

Every simulated minute (``metric_alarms.PERIOD`` at the local clock's speed) the period's traffic goes to
CloudWatch per target group, as AWS/ApplicationELB publishes it, and every deployment that watches
alarms (``deploymentConfiguration.alarms``) has them judged (``alarms``: the stack's 5xx
and latency alarms; ``ecs_bg.local.cloudwatch.metric_alarms``: simulation.yml's own). Traffic is
whatever reaches the listeners: ``ecs-bg local`` has no load generator, so without requests no
datapoint is judged and no alarm changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecs_bg.local.cloudwatch import alarms, metric_alarms
from ecs_bg.local.elbv2.balancer import LocalLoadBalancer
from ecs_bg.local.elbv2.traffic_stats import MetricsPeriod

# Real seconds a bake may be held, after a production shift, for the alarms to judge real traffic.
HOLD_REAL_SECONDS = 10.0
OnChange = Callable[[alarms.AlarmBoard], None]


@dataclass
class Watch:
    """One deployment's alarms: its board, who hears of changes, its clock (the report's times)."""

    board: alarms.AlarmBoard
    on_change: OnChange
    clock: Callable[[], float]
    # The board's (datapoints, minutes) at the last production shift: a bake ends only once the
    # alarms have judged enough traffic since. The deployment hears every verdict as it is reached
    # (``on_change`` runs at once, nothing waits between), so the board's own counts are what it heard.
    at_shift: tuple[int, int] = (0, 0)
    shifted_at: float = field(default_factory=time.monotonic)
    minutes: int = 0  # simulated minutes heard since the shift
    requests: int = 0  # requests the load balancer had in them

    def shifted(self) -> None:
        """Production's weights changed: the next datapoint and the next minute hold traffic from
        before, whether or not a window is under way (the period in progress began before the shift,
        and alone it may fill a window), so neither counts."""
        board = self.board
        self.at_shift = (board.datapoints + 1, board.minutes + 1)
        self.shifted_at = time.monotonic()
        self.minutes = self.requests = 0

    def hear(self, period: MetricsPeriod) -> None:
        """The deployment has heard the verdict on ``period``."""
        self.minutes += 1
        self.requests += period.load_balancer.request_count

    def have_judged(self) -> bool:
        """Whether the alarms have judged enough traffic since the shift. Without traffic enough for a
        datapoint (``ecs-bg local`` with nobody sending requests) there is nothing to wait for:
        CloudWatch then has missing data, which does not breach; so the hold ends once two minutes
        have passed with fewer requests than one datapoint needs, and in any case after
        HOLD_REAL_SECONDS (traffic too thin to fill datapoints soon)."""
        if time.monotonic() - self.shifted_at >= HOLD_REAL_SECONDS:
            return True
        if self.minutes >= alarms.DATAPOINTS_TO_ALARM and self.requests < alarms.WINDOW_REQUESTS:
            return True
        board = self.board
        return board.heard_enough((board.datapoints, board.minutes), since=self.at_shift)


class AlarmWatch:
    def __init__(self, lb: LocalLoadBalancer, cloudwatch: Callable[[], Any], speed: float) -> None:
        self.lb = lb
        self._cloudwatch = cloudwatch  # made on first use, off the event loop (boto3 blocks)
        self.speed = speed
        self.watching: dict[str, Watch] = {}  # deployment ARN -> its watch
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.lb.take_metrics()  # the first period starts now
        self._loop = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop

    async def restart(self) -> None:
        """Begin a fresh period now: a load started now fills whole periods (a count is scaled by
        its period's real length, ecs_bg.local.cloudwatch.metric_alarms)."""
        await self.close()
        self.start()

    def watch(self, deployment: str, watch: Watch) -> None:
        """Judge ``watch.board`` for ``deployment`` from the next period on."""
        self.watching[deployment] = watch

    def forget(self, deployment: str) -> None:
        self.watching.pop(deployment, None)

    async def _run(self) -> None:
        cloudwatch = await asyncio.to_thread(self._cloudwatch)
        while True:
            await asyncio.sleep(metric_alarms.PERIOD / self.speed)
            period = self.lb.take_metrics()
            problems: list[str] = []  # what failed publishing: said in each board, never fatal
            # The local load balancer names its groups by ARN: the dimension is the ARN's last part.
            await alarms.publish(problems, cloudwatch, period, alarms.target_group_dimension)
            for watch in list(self.watching.values()):
                board = watch.board
                board.problems.extend(problems)
                changed = board.judge(period, watch.clock())
                if changed:
                    watch.on_change(board)
                watch.hear(period)
                await alarms.set_states(board.problems, cloudwatch, changed)
