"""ECS's service scheduler over the simulated tasks: a task that stops is noticed and replaced.

ECS keeps a service at its desired count: when a task stops, the scheduler launches another, and the
load balancer deregisters the stopped one, so no request is routed to it any more ("Amazon ECS
services", "Service scheduler concepts" in the ECS developer guide;
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html). The replacement
registers like any new task and takes traffic once its health checks pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ecs_bg.sim.apps import AppFleet, AppProcess
from ecs_bg.sim.balancer import LocalLoadBalancer

POLL = 0.1  # real seconds between looks: ECS notices a stopped task within seconds


async def keep_desired_count(
    fleets: dict[str, AppFleet],
    lb: LocalLoadBalancer,
    *,
    now: Callable[[], float],
    on_replaced: Callable[[str, AppProcess], None],
    replacements: list[dict[str, Any]],
) -> None:
    """Runs until cancelled: every fleet not being scaled down keeps its count of running tasks."""
    while True:
        await asyncio.sleep(POLL)
        for group, fleet in list(fleets.items()):
            if fleet.retiring:
                continue
            for task in [task for task in fleet.tasks if task.crashed]:
                lb.deregister(group, task.url)
                fresh = await fleet.replace(task)
                lb.register(group, fresh.url)
                on_replaced(group, fresh)
                replacements.append(
                    {
                        "group": group,
                        "at": round(now(), 3),
                        "exitCode": task.returncode,
                        "replacedBy": fresh.url,
                    }
                )
