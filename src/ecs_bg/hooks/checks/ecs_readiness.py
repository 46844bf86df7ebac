"""ecsReadiness: green's tasks are RUNNING, and healthy, in the number ECS asked for.

The count ECS wants is the service deployment's ``requestedTaskCount`` for the target revision.
Green's tasks are the service's tasks (group ``service:<name>``) running green's task definition.
When a container of that task definition has a health check, a task counts only once ECS reports
it HEALTHY; otherwise RUNNING is as healthy as ECS can tell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecs_bg.hooks import aws
from ecs_bg.hooks.aws import call, pages
from ecs_bg.hooks.config import CheckSettings, bounded
from ecs_bg.hooks.deployment import describe_deployment, describe_target_revision
from ecs_bg.hooks.ecs import TaskStatus
from ecs_bg.hooks.result import Verdict

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext


@dataclass(frozen=True, kw_only=True)
class Settings(CheckSettings):
    # Above 0: at 0 the check needs no task at all (ceil(requested * 0 / 100) = 0), so it would pass
    # with none running; above 100 it would wait for more tasks than ECS starts.
    min_healthy_percent: float = field(default=100, metadata=bounded(1, 100))
    timeout_seconds: float = field(default=600, metadata=bounded(1, 86_400))
    interval_seconds: float = field(default=5, metadata=bounded(1, 300))


def prepare() -> None:
    aws.prepare("ecs")


def run(ctx: HookContext, settings: Settings) -> Verdict:
    event = ctx.event
    region = event.deployment.region
    task_definition = describe_target_revision(event)["taskDefinition"]
    containers = call("ecs", region, "DescribeTaskDefinition", taskDefinition=task_definition)[
        "taskDefinition"
    ]
    health_checked = any(c.get("healthCheck") for c in containers.get("containerDefinitions", []))

    def probe() -> Verdict:
        target = describe_deployment(event).get("targetServiceRevision") or {}
        requested = int(target.get("requestedTaskCount", 0))
        needed = math.ceil(requested * settings.min_healthy_percent / 100)
        tasks = green_tasks(ctx, task_definition)
        running = [t for t in tasks if t.get("lastStatus") == TaskStatus.RUNNING]
        ready = [t for t in running if not health_checked or t.get("healthStatus") == "HEALTHY"]
        counts = {"requested": requested, "running": len(running), "healthy": len(ready)}
        state = "running and healthy" if health_checked else "running"
        what = f"{len(ready)} of {requested} requested green task(s) {state}"
        if len(ready) >= needed:
            return Verdict.passed(what, **counts)
        unhealthy = [t["taskArn"].rsplit("/", 1)[-1] for t in running if t.get("healthStatus") == "UNHEALTHY"]
        why = f"; unhealthy: {', '.join(unhealthy)}" if unhealthy else ""
        return Verdict.pending(f"{what}, need {needed}{why}", **counts)

    return ctx.wait_until(
        "ecsReadiness", probe, interval=settings.interval_seconds, timeout=settings.timeout_seconds
    )


def green_tasks(ctx: HookContext, task_definition: str) -> list[dict[str, Any]]:
    """The service's RUNNING-desired tasks that run green's task definition."""
    event = ctx.event
    region = event.deployment.region
    listed = pages(
        "ecs",
        region,
        "ListTasks",
        cluster=event.cluster,
        serviceName=event.service,
        desiredStatus=TaskStatus.RUNNING,
    )
    arns = [arn for page in listed for arn in page.get("taskArns", [])]
    tasks: list[dict[str, Any]] = []
    for start in range(0, len(arns), 100):  # DescribeTasks takes at most 100 tasks
        tasks += call("ecs", region, "DescribeTasks", cluster=event.cluster, tasks=arns[start : start + 100])[
            "tasks"
        ]
    group = f"service:{event.service}"
    return [t for t in tasks if t.get("taskDefinitionArn") == task_definition and t.get("group") == group]
