"""ECS's service scheduler over the local tasks: a task that stops, that the load balancer's health
checks mark unhealthy, or whose essential container fails its own health check, is replaced.

ECS keeps a service at its desired count: when a task stops, the scheduler launches another, and the
load balancer deregisters the stopped one, so no request is routed to it any more. "The service
scheduler also replaces tasks determined to be unhealthy after a container health check or a load
balancer target group health check fails": it first starts the replacement, and stops the unhealthy
task once the replacement is healthy (or, if the replacement is unhealthy too, stops one of them to
keep the desired count) ("Amazon ECS services", ECS developer guide;
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html). The replacement
registers like any new task and takes traffic once its health checks pass. The stopped reasons are
the ones ECS gives, "Essential container in task exited" (or "OutOfMemoryError: Container killed due
to memory usage"), "Task failed container health checks" (the runtime stops such a task itself) and
"Task failed ELB health checks"
(AWS Knowledge Center, "Why is my Amazon ECS task stopped?":
https://repost.aws/knowledge-center/ecs-task-stopped).

A target that never passed its health checks is not replaced here: a green one at SCALE_UP fails
the deployment (``driver``), as ECS's SCALE_UP waits for healthy tasks. A task being stopped
(desiredStatus STOPPED: scaled down, or already being replaced), or of a revision whose tasks are being
scaled down, is left alone, and so are failed health checks within the service's health check grace
period (``Task.in_health_check_grace``); a task still unhealthy when its grace ends is replaced then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from ecs_bg.hooks.ecs import TaskStatus
from ecs_bg.local.ecs.models import ACTIVE, Service, Task
from ecs_bg.local.runtime import TaskExit
from ecs_bg.local.world import World

POLL = 0.1  # real seconds between looks: ECS notices a stopped task within seconds
REPLACEMENT_HEALTHY = 30.0  # real seconds an unhealthy task keeps running while its replacement starts

Replace = Callable[[Task], Awaitable[Task | None]]


async def keep_running(
    services: Callable[[], list[Service]],
    world: World,
    replace: Replace,
    speed: float,
    clock: Callable[[], float] = time.time,
) -> None:
    """Runs until cancelled: each service's running tasks stay running and healthy (``speed``: the
    local clock's, for the health check grace period; ``clock``: epoch seconds)."""
    retiring: set[asyncio.Task[None]] = set()  # unhealthy tasks waiting for their replacement
    try:
        while True:
            await asyncio.sleep(POLL)
            for service in services():
                if service.status == ACTIVE:
                    await _look_after(service, world, replace, retiring, speed, clock())
    finally:
        for stop in retiring:
            stop.cancel()


async def _look_after(
    service: Service,
    world: World,
    replace: Replace,
    retiring: set[asyncio.Task[None]],
    speed: float,
    now: float,
) -> None:
    for task in service.live_tasks():
        if task.desired_status != TaskStatus.RUNNING or task.revision is None or task.revision.scaled_down:
            continue  # being stopped, or its revision's tasks are (``ServiceRevision.scaled_down``)
        group = task.revision.target_group
        ended = world.exited(task)
        code = ended.code if ended is not None else None
        if ended is not None:
            world.task_stopped(task, group)
            cause = _cause(ended)
        elif (
            group is not None
            and task.url in (unhealthy := world.lb.gone_unhealthy(group))
            and not task.in_health_check_grace(now, speed)
        ):
            cause = f"failed the load balancer's health checks: {unhealthy[task.url]}"
            task.desired_status = TaskStatus.STOPPED  # being replaced: not replaced twice
        else:
            continue
        fresh = await replace(task)
        service.event(f"(service {service.name}) replaced task {task.arn.rsplit('/', 1)[-1]}: it {cause}.")
        service.replacements.append(
            {
                "revision": task.revision.arn,
                "targetGroup": group,
                "monotonic": time.monotonic(),
                "exitCode": code,
                "cause": cause,
                "replacedBy": fresh.url if fresh is not None else None,
            }
        )
        if ended is None:
            stop = asyncio.create_task(_stop_once_replaced(world, group, task, fresh))
            retiring.add(stop)
            stop.add_done_callback(retiring.discard)


def _cause(ended: TaskExit) -> str:
    if ended.stop_code != "EssentialContainerExited":
        return f"stopped: {ended.reason}"  # its container failed its health check
    plain = ended.reason == TaskExit(None).reason
    return f"exited with code {ended.code}" + ("" if plain else f" ({ended.reason})")


async def _stop_once_replaced(world: World, group: str | None, task: Task, fresh: Task | None) -> None:
    """Stop the unhealthy ``task`` once ``fresh`` is healthy, or gone, or after REPLACEMENT_HEALTHY."""
    deadline = time.monotonic() + REPLACEMENT_HEALTHY
    while time.monotonic() < deadline and fresh is not None and fresh.last_status == TaskStatus.RUNNING:
        if group is None or any(
            h.target == fresh.url and h.state == "healthy" for h in world.lb.target_health(group)
        ):
            break
        await asyncio.sleep(POLL)
    await world.stop_task(task, group, "Task failed ELB health checks")
