"""The local load balancer's metrics in CloudWatch, and each running deployment's alarms judged on them.

Every simulated minute (``metric_alarms.PERIOD`` at the local clock's speed) the period's traffic goes to
CloudWatch per target group, as AWS/ApplicationELB publishes it, and every deployment that watches
alarms (``deploymentConfiguration.alarms``) has them judged, each by its own definition
(``metric_alarms``). Traffic is
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
QUIET_MINUTES, QUIET_REQUESTS = 2, 10  # two simulated minutes with fewer requests than this: no traffic
OnChange = Callable[[alarms.AlarmBoard], None]


@dataclass
class Watch:
    """One deployment's alarms: its board, who hears of changes, its clock (the report's times)."""

    board: alarms.AlarmBoard
    on_change: OnChange
    clock: Callable[[], float]
    # The board's minutes at the last production shift: a bake ends only once the alarms have judged
    # enough traffic since. The deployment hears every verdict as it is reached (``on_change`` runs at
    # once, nothing waits between), so the board's own count is what it heard.
    at_shift: int = 0
    shifted_at: float = field(default_factory=time.monotonic)
    minutes: int = 0  # simulated minutes heard since the shift
    requests: int = 0  # requests the load balancer had in them

    def shifted(self) -> None:
        """Production's weights changed: the minute in progress holds traffic from before, so it does
        not count."""
        self.at_shift = self.board.minutes + 1
        self.shifted_at = time.monotonic()
        self.minutes = self.requests = 0

    def hear(self, period: MetricsPeriod) -> None:
        """The deployment has heard the verdict on ``period``."""
        self.minutes += 1
        self.requests += period.load_balancer.request_count

    def have_judged(self) -> bool:
        """Whether the alarms have judged enough traffic since the shift: a full evaluation range each.
        Without traffic (``ecs-bg local`` with nobody sending requests) there is nothing to wait for:
        CloudWatch then has missing data; so the hold ends once QUIET_MINUTES have passed with fewer
        than QUIET_REQUESTS requests, and in any case after HOLD_REAL_SECONDS (traffic too thin to fill
        datapoints soon)."""
        if time.monotonic() - self.shifted_at >= HOLD_REAL_SECONDS:
            return True
        if self.minutes >= QUIET_MINUTES and self.requests < QUIET_REQUESTS:
            return True
        return self.board.heard_enough(self.board.minutes - self.at_shift)


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
