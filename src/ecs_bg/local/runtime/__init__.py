"""How a local task runs: what the world asks of a runtime, and which runtime ``ecs-bg local`` uses.

Two runtimes implement ``TaskRuntime``: ``docker`` runs the task definition's containers in a Docker
engine (``runtime.docker``), ``process`` runs the serving container's command as a host process
(``runtime.process``, the fallback: no image is run). ``auto`` picks Docker when an engine answers.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from ecs_bg.local.ecs.models import Task

RuntimeName = Literal["docker", "process", "auto"]
RUNTIMES: tuple[RuntimeName, ...] = ("docker", "process", "auto")
# How the Docker runtime holds a task to its cpu: Fargate's hard limit (a CPU quota), or a relative
# weight (CPU shares, as ECS on EC2 treats a container's cpu): full speed while the machine is idle.
TaskCpu = Literal["hard", "shares"]
TASK_CPU: tuple[TaskCpu, ...] = ("hard", "shares")


class CannotStart(Exception):
    """The task could not start; ``reason`` is its stoppedReason, in ECS's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Launch:
    """What a task is started from."""

    definition: Mapping[str, Any]  # the task definition (RegisterTaskDefinition's request)
    container: str  # the container that serves: a service's loadBalancers[].containerName, or RunTask's
    port: int | None = None  # the port it serves on: the load balancer's containerPort
    # The serving container's environment as the task definition and overrides give it (the process
    # runtime runs it so); the Docker runtime reads each container's own from ``definition``.
    environment: Mapping[str, str] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)  # RunTask's TaskOverride
    service: bool = True  # a service's task (the scheduler stops it when unhealthy) or RunTask's


@dataclass(frozen=True)
class TaskExit:
    """How a task ended on its own: the essential container's exit code, and ECS's reason and stop code."""

    code: int | None
    reason: str = "Essential container in task exited"
    stop_code: str = "EssentialContainerExited"


@dataclass(frozen=True)
class RuntimeHost:
    """What a runtime may use of the local AWS around it."""

    endpoint: str  # the local endpoint, as this machine reaches it
    region: str
    account: str
    client: Callable[[str], Any]  # a boto3 client of the local endpoint, by service (thread-safe)
    # Serve the local endpoint on one more address of this machine too; its URL there.
    listen: Callable[[str, Sequence[str]], Awaitable[str]] | None = None
    log_groups: frozenset[str] = frozenset()  # log groups the stack makes (they exist, as on AWS)


class TaskRuntime(Protocol):
    name: str  # "docker" or "process"

    async def start(self, host: RuntimeHost) -> None: ...

    async def close(self) -> None:
        """Stop every task it started: nothing is left running."""

    async def start_task(self, task: Task, launch: Launch) -> str | None:
        """Start the task's containers; the URL its serving container answers on (None: it serves
        nothing). Raises CannotStart. Fills ``task.container_states`` where the runtime knows them."""

    def exited(self, task: Task) -> TaskExit | None:
        """How the task ended on its own (not through ``stop_task``), None while it runs."""

    async def wait(self, task: Task) -> TaskExit:
        """Until the task ends on its own."""

    async def stop_task(self, task: Task) -> int | None:
        """Stop it as ECS stops a task (SIGTERM, then SIGKILL); the serving container's exit code."""

    def health(self, task: Task) -> str | None:
        """The task's healthStatus from its containers' health checks; None: this runtime runs none."""


@dataclass(frozen=True)
class Choice:
    name: Literal["docker", "process"]
    why: str  # what the first lines of `ecs-bg local` say about it


def local_credentials(endpoint: str) -> dict[str, str]:
    """What points an AWS SDK at the local endpoint, with the key it signs with (any key signs there)."""
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def choose(
    wanted: RuntimeName,
    host_commands: bool,
    given_by: str = "--runtime",
    environ: Mapping[str, str] = os.environ,
) -> Choice:
    """The runtime ``wanted`` (as ``given_by`` gave it) resolves to. ``auto``: the process runtime when
    simulation.yml's ``containers:`` give host commands (only processes run them), else Docker when an
    engine answers (``DOCKER_HOST`` or the default socket), else processes. ``docker`` with no engine
    answering is a RuntimeError naming what was tried."""
    from ecs_bg.local.runtime.engine import EngineAddress, probe

    processes = "each task's serving container runs as a host process (no image)"
    if wanted == "process":
        return Choice("process", f"process ({given_by} process): {processes}")
    if wanted == "auto" and host_commands:
        return Choice(
            "process", f"process (auto: simulation.yml's containers: give host commands): {processes}"
        )
    try:
        address = EngineAddress.from_environ(environ)
    except ValueError as error:
        if wanted == "docker":
            raise RuntimeError(f"{given_by} docker: {error}") from None
        return Choice("process", f"process (auto: {error}): {processes}")
    version, said = probe(address)
    if version is None:
        if wanted == "docker":
            raise RuntimeError(f"{given_by} docker: {said}; start one with scripts/docker-engine (as root)")
        return Choice("process", f"process (auto: {said}): {processes}")
    how = f"auto: {said} answers" if wanted == "auto" else f"{given_by} docker: {said}"
    return Choice("docker", f"docker ({how}): each task runs its task definition's containers")
