"""What a local ECS acts on, one service each, built from the user's synthesized stacks
(``cloudformation.cloud``): the load balancers (elbv2), the functions (Lambda), the alarms
(CloudWatch), and the tasks (a runtime: Docker containers or host processes, ``runtime``). The world
starts and stops them together and carries out what spans them: a task that starts, serves and stops.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from ecs_bg.hooks.ecs import TaskStatus
from ecs_bg.local.cloudformation.cloud import LocalCloud
from ecs_bg.local.cloudformation.names import ACCOUNT
from ecs_bg.local.cloudwatch.service import CloudWatch, load_balancer_names, template_alarms
from ecs_bg.local.ecs.models import Task
from ecs_bg.local.elbv2.load_balancing import LoadBalancing, resources
from ecs_bg.local.endpoint import SIMULATION_APP_ID, endpoint_client
from ecs_bg.local.lambda_.functions import local_functions, world_functions
from ecs_bg.local.lambda_.service import LambdaService
from ecs_bg.local.options import LocalOptions
from ecs_bg.local.runtime import (
    CannotStart,
    Choice,
    Launch,
    RuntimeHost,
    TaskExit,
    TaskRuntime,
    choose,
    local_credentials,
)
from ecs_bg.local.runtime.process import ProcessRuntime

# A stopped task's stopCode (ECS API reference, Task.stopCode).
EXITED, FAILED_TO_START = "EssentialContainerExited", "TaskFailedToStart"


class World:
    def __init__(
        self, options: LocalOptions, cloud: LocalCloud, roles: Mapping[str, str] | None = None
    ) -> None:
        """``cloud``: the user's stacks; ``roles``: a listener rule's ARN -> production or test, as the
        service definition names them (the listeners' names in traffic statistics)."""
        self.options = options
        self.cloud = cloud
        self.endpoint = ""  # the local AWS endpoint the hooks call
        self._clients: dict[str, Any] = {}  # by service: boto3 clients are thread-safe, costly to make
        self._clients_lock = threading.Lock()
        # The functions hooks may name: the templates', the CDK app's, and simulation.yml's.
        where = f"{options.sim_config or 'simulation.yml'}:"
        app = local_functions(options.cdk_json, options.lambda_dir, where=where)
        functions = world_functions(cloud, app, options.functions, where)
        self.elbv2 = LoadBalancing(resources(cloud, roles), options.speed)
        self.lambda_ = LambdaService(
            functions,
            timeout_cap=self._timeout_cap,
            environment=self.hook_environment,
            logs=lambda: self.client("logs"),
        )
        self.cloudwatch = CloudWatch(
            self.elbv2.lb,
            lambda: self.client("cloudwatch"),
            options.speed,
            definitions={**template_alarms(cloud), **options.alarm_definitions},
            names=load_balancer_names(cloud),
        )
        # "auto" is resolved here for callers that left it to the world (the CLI resolves and says it).
        self.runtime: Choice = (
            Choice(options.runtime, options.runtime)
            if options.runtime != "auto"
            else choose("auto", bool(options.container_commands), "runtime")
        )
        self.tasks: TaskRuntime
        if self.runtime.name == "docker":
            from ecs_bg.local.runtime.docker import DockerRuntime  # aiohttp's and the engine's

            self.tasks = DockerRuntime(speed=options.speed, images=options.images, task_cpu=options.task_cpu)
        else:
            self.tasks = ProcessRuntime(
                options.command, options.container_commands, options.container_dirs, options.sim_config
            )

    @property
    def lb(self) -> Any:
        return self.elbv2.lb

    async def start(
        self, endpoint: str, listen: Callable[[str, Sequence[str]], Awaitable[str]] | None = None
    ) -> None:
        """``listen(address, peers)``: serve the local endpoint on ``address`` too, to ``peers`` (networks)
        alone; where the runtime's tasks reach it."""
        self.endpoint = endpoint
        await self.elbv2.start()
        self.cloudwatch.start()
        # The stacks' log groups exist, as the stacks make them: awslogs writes to them.
        log_groups = frozenset(group.name for stack in self.cloud.resources for group in stack.log_groups)
        host = RuntimeHost(endpoint, self.options.region, ACCOUNT, self.client, listen, log_groups)
        await self.tasks.start(host)

    async def close(self) -> None:
        await self.cloudwatch.close()
        await asyncio.gather(self.tasks.close(), self.lambda_.close())
        await self.elbv2.close()
        with self._clients_lock:  # their pooled connections to the endpoint, which has gone
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def client(self, service: str) -> Any:
        """The local endpoint's client for ``service``, made once (from any thread)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = endpoint_client(service, self.endpoint, self.options.region, "local")
            return self._clients[service]

    # -- tasks ---------------------------------------------------------------------------------------

    async def start_task(self, task: Task, launch: Launch) -> bool:
        """Start a task: RUNNING once its containers have started, as ECS reports it (PENDING "is
        preparing to enter the RUNNING state"; the agent reports PENDING to RUNNING when the containers
        run: "Amazon ECS task state change events", ECS developer guide,
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html); whether its
        app serves is the load balancer's health checks' to find. False if it could not start: it is
        then STOPPED as ECS stops a task whose container cannot start (its reason, such as
        "CannotStartContainerError", stop code TaskFailedToStart: "Amazon ECS stopped task error
        messages", ECS developer guide,
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html)."""
        if task.desired_status == TaskStatus.STOPPED:
            # Stopped before its start began (a deployment's tasks are started together, and a
            # rollback's scale-down can come first): it stays STOPPED, with nothing started.
            return False
        task.last_status = TaskStatus.PENDING
        try:
            url = await self.tasks.start_task(task, launch)
        except CannotStart as error:
            _stopped(task, error.reason, FAILED_TO_START)
            return False
        task.url = url
        if task.desired_status == TaskStatus.STOPPED:
            # Stopped while its containers were starting: the stop found nothing to stop, so what has
            # started stops now rather than run on unseen until the run ends.
            await self.tasks.stop_task(task)
            return False
        task.last_status, task.started_at = TaskStatus.RUNNING, time.time()
        return True

    async def run_task(self, task: Task, launch: Launch) -> None:
        """A one-off task (RunTask): it runs until its essential container exits and serves nothing."""
        if not await self.start_task(task, launch):
            return
        ended = await self.tasks.wait(task)
        if task.desired_status == TaskStatus.RUNNING:  # it ended on its own, not by a StopTask
            task.exit_code = ended.code
            _stopped(task, ended.reason, ended.stop_code)

    def exited(self, task: Task) -> TaskExit | None:
        """How a task ended on its own (not stopped), else None."""
        return self.tasks.exited(task)

    def task_health(self, task: Task) -> str:
        """DescribeTasks' healthStatus: its containers' health checks, as ECS judges them; for a task
        with none (or the process runtime, which runs none), the load balancer's view of it."""
        group = task.revision.target_group if task.revision else None
        return self.tasks.health(task) or self.elbv2.health_status(task.url, group)

    def task_stopped(self, task: Task, group: str | None) -> None:
        """A task that ended on its own: off the load balancer (no request goes to it any more) and
        STOPPED as ECS reports an essential container's exit (or its stopped reason)."""
        if group is not None and task.url is not None:
            self.elbv2.lb.deregister(group, task.url)
        ended = self.exited(task) or TaskExit(None)
        task.exit_code = ended.code
        _stopped(task, ended.reason, ended.stop_code)

    async def stop_task(
        self, task: Task, group: str | None, reason: str, stop_code: str = "ServiceSchedulerInitiated"
    ) -> None:
        """Deregister (and drain), then SIGTERM as ECS stops a task. A task that had already ended on its
        own (its essential container exited, or failed its health check) is STOPPED for that."""
        task.desired_status = TaskStatus.STOPPED
        if task.last_status == TaskStatus.STOPPED:
            return
        if group is not None and task.url is not None:
            self.elbv2.lb.deregister(group, task.url)
            await self.elbv2.lb.drained(group, task.url, timeout=10.0)
        ended = self.tasks.exited(task)
        task.exit_code = await self.tasks.stop_task(task)
        if ended is not None:
            reason, stop_code = ended.reason, ended.stop_code
        _stopped(task, reason, stop_code)

    # -- hooks ---------------------------------------------------------------------------------------

    def hook_environment(self) -> dict[str, str]:
        """What every function's environment holds besides its own (the template's, made local):
        credentials and the endpoint that keep its AWS calls on this machine."""
        return {
            # The execution role's stand-in (Lambda sets the role's keys and session token): the local
            # endpoint's keys, and the endpoint itself, so that every AWS call a hook makes stays here.
            **local_credentials(self.endpoint),
            "AWS_SESSION_TOKEN": "local",
            # The local ECS's own callers; the endpoint tells them from someone watching from outside.
            "AWS_SDK_UA_APP_ID": SIMULATION_APP_ID,
            "AWS_DEFAULT_REGION": self.options.region,
            "AWS_REGION": self.options.region,
            **self.options.hook_environment,
        }

    def _timeout_cap(self, name: str) -> float | None:
        """Lambda's own timeout, capped so that a stuck hook shows in real seconds, not minutes,
        unless simulation.yml's functions: give the function a timeoutSeconds of its own."""
        override = self.options.functions.get(name)
        return None if override is not None and override.timeout_seconds else self.options.function_timeout


def _stopped(task: Task, reason: str, stop_code: str = EXITED) -> None:
    if task.last_status != TaskStatus.STOPPED:
        task.last_status, task.desired_status = TaskStatus.STOPPED, TaskStatus.STOPPED
        task.stopped_at, task.stopped_reason, task.stop_code = time.time(), reason, stop_code


def task_environment(definition: dict[str, Any], container: str) -> dict[str, str]:
    """The environment the task definition sets for ``container`` (the first, if none has that name)."""
    containers = definition.get("containerDefinitions") or [{}]
    chosen = next((c for c in containers if c.get("name") == container), containers[0])
    return {item["name"]: str(item.get("value", "")) for item in chosen.get("environment", [])}
