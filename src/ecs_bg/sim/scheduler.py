"""ECS's service scheduler over the simulated tasks: a task that stops, or that the load balancer's
health checks mark unhealthy, is replaced.

ECS keeps a service at its desired count: when a task stops, the scheduler launches another, and the
load balancer deregisters the stopped one, so no request is routed to it any more. "The service
scheduler also replaces tasks determined to be unhealthy after a container health check or a load
balancer target group health check fails": it first starts the replacement, and stops the unhealthy
task once the replacement is healthy (or, if the replacement is unhealthy too, stops one of them to
keep the desired count) ("Amazon ECS services", ECS developer guide;
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html). The replacement
registers like any new task and takes traffic once its health checks pass.

A target that never passed its health checks is not replaced here: green's at SCALE_UP fails the
deployment (ecs_bg.sim.simulation), as ECS's SCALE_UP waits for healthy tasks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ecs_bg.sim.apps import AppFleet, AppProcess
from ecs_bg.sim.balancer import LocalLoadBalancer

POLL = 0.1  # real seconds between looks: ECS notices a stopped task within seconds
REPLACEMENT_HEALTHY = 30.0  # real seconds an unhealthy task keeps running while its replacement starts


async def keep_desired_count(
    fleets: dict[str, AppFleet],
    lb: LocalLoadBalancer,
    *,
    now: Callable[[], float],
    on_replaced: Callable[[str, AppProcess], None],
    replacements: list[dict[str, Any]],
) -> None:
    """Runs until cancelled: every fleet not being scaled down keeps its count of running, healthy tasks."""
    retiring: set[asyncio.Task[None]] = set()  # unhealthy tasks waiting for their replacement
    try:
        while True:
            await asyncio.sleep(POLL)
            for group, fleet in list(fleets.items()):
                if fleet.retiring:
                    continue
                unhealthy = lb.gone_unhealthy(group)
                for task in list(fleet.tasks):
                    if task.crashed:
                        lb.deregister(group, task.url)
                        cause = f"exited with code {task.returncode}"
                    elif task.url in unhealthy:
                        cause = f"failed the load balancer's health checks: {unhealthy[task.url]}"
                    else:
                        continue
                    fresh = await fleet.replace(task)
                    lb.register(group, fresh.url)
                    on_replaced(group, fresh)
                    replacements.append(
                        {
                            "group": group,
                            "at": round(now(), 3),
                            "exitCode": task.returncode,
                            "cause": cause,
                            "replacedBy": fresh.url,
                        }
                    )
                    if task.returncode is None:
                        stop = asyncio.create_task(_stop_once_replaced(lb, group, task, fresh))
                        retiring.add(stop)
                        stop.add_done_callback(retiring.discard)
    finally:
        for stop in retiring:
            stop.cancel()


async def _stop_once_replaced(lb: LocalLoadBalancer, group: str, task: AppProcess, fresh: AppProcess) -> None:
    """Stop the unhealthy ``task`` once ``fresh`` is healthy, or gone, or after REPLACEMENT_HEALTHY."""
    deadline = time.monotonic() + REPLACEMENT_HEALTHY
    while time.monotonic() < deadline and fresh.returncode is None:
        if any(h.target == fresh.url and h.state == "healthy" for h in lb.target_health(group)):
            break
        await asyncio.sleep(POLL)
    lb.deregister(group, task.url)
    await task.stop(grace=2.0)
