"""The service's tasks as ECS describes them, backed by the local app processes.

Service tasks are the blue and green app processes; their health is what the load balancer's
health checks find, as an ECS container health check on the same path would. RunTask (a
migration) starts a local process with the container's command override and reports its exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecs_bg.hooks.ecs import TaskStatus
from ecs_bg.sim.events import ServiceIds

HEALTH = {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY"}


@dataclass
class ServiceTask:
    """One task of a revision: a process (anything with ``returncode``) and its target URL."""

    arn: str
    task_definition: str
    url: str
    process: Any


@dataclass
class OneOffTask:
    arn: str
    task_definition: str
    started_by: str
    container: str
    process: asyncio.subprocess.Process


@dataclass
class LocalTasks:
    ids: ServiceIds
    health_of: Callable[[str], str]  # target URL -> load balancer state
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "app"])
    service_tasks: list[ServiceTask] = field(default_factory=list)
    one_off: list[OneOffTask] = field(default_factory=list)

    def task_arn(self) -> str:
        return f"arn:aws:ecs:{self.ids.region}:{self.ids.account}:task/{self.ids.cluster}/{uuid.uuid4().hex}"

    def add(self, task_definition: str, url: str, process: Any) -> None:
        self.service_tasks.append(ServiceTask(self.task_arn(), task_definition, url, process))

    def tasks(self) -> list[dict[str, Any]]:
        described = []
        for task in self.service_tasks:
            running = task.process.returncode is None
            described.append(
                self._describe(
                    task.arn,
                    task.task_definition,
                    running,
                    group=f"service:{self.ids.service}",
                    started_by="ecs-svc/ecs-bg-sim",
                    health=HEALTH.get(self.health_of(task.url), "UNKNOWN") if running else "UNKNOWN",
                    exit_code=task.process.returncode,
                )
            )
        for one in self.one_off:
            running = one.process.returncode is None
            described.append(
                self._describe(
                    one.arn,
                    one.task_definition,
                    running,
                    group=f"family:{one.task_definition.rsplit('/', 1)[-1].split(':')[0]}",
                    started_by=one.started_by,
                    health="UNKNOWN",
                    exit_code=one.process.returncode,
                    container=one.container,
                )
            )
        return described

    def _describe(
        self,
        arn: str,
        task_definition: str,
        running: bool,
        *,
        group: str,
        started_by: str,
        health: str,
        exit_code: int | None,
        container: str = "app",
    ) -> dict[str, Any]:
        status = TaskStatus.RUNNING if running else TaskStatus.STOPPED
        task: dict[str, Any] = {
            "taskArn": arn,
            "clusterArn": f"arn:aws:ecs:{self.ids.region}:{self.ids.account}:cluster/{self.ids.cluster}",
            "taskDefinitionArn": task_definition,
            "group": group,
            "startedBy": started_by,
            "lastStatus": status,
            "desiredStatus": status,
            "healthStatus": health,
            "launchType": "FARGATE",
            "containers": [{"name": container, "lastStatus": status}],
        }
        if not running:
            task["stopCode"] = "EssentialContainerExited"
            task["stoppedReason"] = "Essential container in task exited"
            task["containers"][0]["exitCode"] = exit_code
        return task

    async def run_task(self, request: dict[str, Any]) -> dict[str, Any]:
        """A one-off task: the container's command override runs as a local process."""
        override = (request.get("overrides", {}).get("containerOverrides") or [{}])[0]
        command = override.get("command") or self.command
        env = {**os.environ, **{item["name"]: item["value"] for item in override.get("environment", [])}}
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        task = OneOffTask(
            self.task_arn(),
            request["taskDefinition"],
            request.get("startedBy", ""),
            override.get("name", "app"),
            process,
        )
        self.one_off.append(task)
        return next(t for t in self.tasks() if t["taskArn"] == task.arn)

    async def close(self) -> None:
        for one in self.one_off:
            if one.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    one.process.kill()
                await one.process.wait()
