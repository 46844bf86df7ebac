"""Tasks as ECS runs them on Fargate: the task definition's containers, in a Docker engine on this machine.

Each task is a "pause" container holding its own network namespace on the task network (so each task
has its own address and its containers share localhost, as ``awsvpc`` gives them: ``runtime.pause``)
and its containers inside it, started in ``dependsOn`` order, each with its image, command, entry
point, working directory, user, environment, secrets, limits, health check, read-only root and log
configuration. What ECS adds inside a container is added: its region, the task metadata endpoint v4
and the task role's credentials endpoint (``runtime.task_endpoints``), and, as the one local addition,
``AWS_ENDPOINT_URL``: the local endpoint, which listens on the task network's gateway as well.

The task network is one Docker bridge network, ``ecs-bg-tasks``, 169.254.170.0/24 with this machine at
169.254.170.2: Fargate's link-local address for both endpoints, the one address besides loopback that
every AWS SDK takes credentials from over plain HTTP. Tasks are reached from this machine at their own
addresses (the load balancer registers ``http://<address>:<containerPort>``); nothing is published.
The network stays between runs, as amazon-ecs-local-container-endpoints' ``credentials_network`` does.

Every container and volume is labelled as this local ECS's, with the run that made it and its owner
process: a run removes all of its own when it ends, and a start removes those whose owner is gone (a
run that was killed). Docker events (start, die, oom, health status) tell the runtime what happens.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import fnmatch
import functools
import ipaddress
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError

from ecs_bg.hooks.ecs import TaskStatus
from ecs_bg.local.ecs.models import ContainerState
from ecs_bg.local.runtime import CannotStart, Launch, RuntimeHost, TaskCpu, TaskExit
from ecs_bg.local.runtime.engine import Engine, EngineAddress, EngineError
from ecs_bg.local.runtime.pause import PAUSE_IMAGE, image_archive
from ecs_bg.local.runtime.task_endpoints import Caller, TaskEndpoints

if TYPE_CHECKING:
    from ecs_bg.local.ecs.models import Task

NETWORK = "ecs-bg-tasks"
SUBNET, GATEWAY = "169.254.170.0/24", "169.254.170.2"
LOCAL_LABEL = "io.ecs-bg.local"  # on everything this runtime makes
RUN_LABEL = "io.ecs-bg.run"  # the run that made it
OWNER_LABEL = "io.ecs-bg.owner"  # <host>/<pid>/<start time>: the process that made it, while alive
MIB = 1024 * 1024
# "OutOfMemoryError: Container killed due to memory usage" ("Amazon ECS stopped task error messages",
# ECS developer guide: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html);
# the task's stop code stays EssentialContainerExited: an essential container exited.
OUT_OF_MEMORY = "OutOfMemoryError: Container killed due to memory usage"
ESSENTIAL_EXITED = "Essential container in task exited"
# The service scheduler stops a task whose essential container fails its health check and replaces
# it ("For tasks that are a part of a service, if the task reports as unhealthy then the task will be
# stopped and the service scheduler will replace it": HealthCheck, ECS API reference,
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html).
UNHEALTHY_STOPPED = "Task failed container health checks"
# Fargate's defaults: stopTimeout 30 s (120 at most), a dependency's startTimeout 3 minutes
# (ContainerDefinition, ECS API reference); health check interval 30 s, timeout 5 s, 3 retries,
# no start period (HealthCheck).
STOP_TIMEOUT, START_TIMEOUT = 30.0, 180.0
HEALTH_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}
MIN_HEALTH_INTERVAL = 2.0  # real seconds between container health checks, whatever the speed
CLOSE_GRACE = 2.0  # real seconds each container gets to stop when `ecs-bg local` itself stops
LOG_FLUSH = 0.2  # seconds between PutLogEvents of a container's new lines


@dataclass(eq=False)
class _Container:
    name: str
    definition: dict[str, Any]
    state: ContainerState
    id: str | None = None
    image: str | None = None  # the local image it runs
    image_id: str | None = None
    stop_signal: str = "SIGTERM"  # the image's STOPSIGNAL, or SIGTERM
    started_at: float | None = None  # monotonic
    created_at: str | None = None  # as Docker reports it
    oom: bool = False
    failed: str | None = None  # why it will never start
    metadata_url: str | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def essential(self) -> bool:
        return bool(self.definition.get("essential", True))

    @property
    def health_checked(self) -> bool:
        return bool(self.definition.get("healthCheck"))

    def change(self) -> None:
        """Wake whoever waits on this container's state."""
        old, self.changed = self.changed, asyncio.Event()
        old.set()


@dataclass(eq=False)
class _Task:
    task: Task
    launch: Launch
    containers: dict[str, _Container]
    pause: str | None = None
    exit: TaskExit | None = None
    stopping: bool = False
    teardown: asyncio.Task[None] | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # an exit is known
    volumes: list[str] = field(default_factory=list)
    credentials: dict[str, str] | None = None
    credentials_url: str | None = None
    role: str | None = None
    output: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=200))
    followers: list[asyncio.Task[None]] = field(default_factory=list)
    pulled: tuple[str, str] | None = None  # when its images were looked up, ISO 8601
    on_its_own: bool = False  # it ended without a stop_task: an essential container exited or failed

    @property
    def id(self) -> str:
        return self.task.arn.rsplit("/", 1)[-1]


class DockerRuntime:
    name = "docker"

    def __init__(
        self,
        *,
        speed: float,
        images: Mapping[str, str] | None = None,
        task_cpu: TaskCpu = "hard",
        address: EngineAddress | None = None,
        run_id: str | None = None,
    ) -> None:
        """``images``: simulation.yml's ``images:``, an image (or a pattern of repositories, ``*`` for
        any part) -> the local image that stands for it; ``speed``: the local clock's; ``task_cpu``: how
        a task's cpu holds it (``_limits``)."""
        self.speed = speed
        self.task_cpu = task_cpu
        self.images = dict(images or {})
        self.engine = Engine(address or EngineAddress.from_environ())
        self.run_id = run_id or secrets.token_hex(6)
        self.owner = owner_identity()
        self.host: RuntimeHost | None = None
        self.endpoint_in_tasks = ""  # the local endpoint as tasks reach it
        self.endpoints = TaskEndpoints(GATEWAY)
        self.tasks: dict[str, _Task] = {}  # by task ARN
        self.cpus = os.cpu_count() or 1
        self._by_id: dict[str, tuple[_Task, _Container]] = {}  # Docker id -> its task and container
        self._work: set[asyncio.Task[Any]] = set()
        self._creating: set[asyncio.Future[str]] = set()  # containers asked for, not yet answered
        self._events_connected = asyncio.Event()
        self.removed_leftovers = 0  # containers of killed runs removed at start
        self._reaper: subprocess.Popen[bytes] | None = None

    @property
    def labels(self) -> dict[str, str]:
        return {LOCAL_LABEL: "1", RUN_LABEL: self.run_id, OWNER_LABEL: self.owner}

    # -- the world's calls ---------------------------------------------------------------------------

    async def start(self, host: RuntimeHost) -> None:
        """Remove what killed runs left, make the task network and the pause image where missing, serve
        the endpoints tasks call, and follow the engine's events."""
        self.host = host
        self.removed_leftovers = await self._remove_leftovers()
        # What a killed run leaves is removed once it has gone (runtime.reaper), not at the next start.
        # It asks the engine this run uses, and is given nothing else of this process's environment
        # (only what starts Python).
        environment = {name: value for name, value in os.environ.items() if name.startswith("PYTHON")}
        self._reaper = subprocess.Popen(  # noqa: S603 - this interpreter, this package's module
            # -P: nothing in the working directory (the user's repository) stands in for what it imports.
            [sys.executable, "-P", "-m", "ecs_bg.local.runtime.reaper", self.run_id, str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env={**environment, "DOCKER_HOST": self.engine.address.shown},
            start_new_session=True,  # a Ctrl-C in the terminal is ecs-bg's to handle, not the reaper's
        )
        await asyncio.gather(self._network(), self._pause_image())
        try:
            await self.endpoints.start()
            if host.listen is None:
                raise RuntimeError("the local endpoint cannot listen for tasks")
            self.endpoint_in_tasks = await host.listen(GATEWAY, [SUBNET])
        except OSError as error:
            raise RuntimeError(
                f"cannot listen on the task network's gateway {GATEWAY} ({error.strerror or error}): the "
                f"Docker engine's network {NETWORK} is not on this machine (a remote DOCKER_HOST, or Docker "
                "Desktop's virtual machine); run with --runtime process"
            ) from None
        self._spawn(self._follow_events())
        await asyncio.wait_for(self._events_connected.wait(), timeout=30)

    async def close(self) -> None:
        """Stop every task (each container gets CLOSE_GRACE seconds), then remove anything of this run
        still there: a container a cancelled start had just created included."""
        await asyncio.gather(
            *(self._stop(task, grace_cap=CLOSE_GRACE, removed=True) for task in list(self.tasks.values())),
            return_exceptions=True,
        )
        # A create the engine is still answering makes its container all the same: listed only after.
        await asyncio.gather(*self._creating, return_exceptions=True)
        with contextlib.suppress(EngineError):
            for container in await self.engine.containers({RUN_LABEL: self.run_id}):
                await self.engine.remove(container["Id"])
            await self._remove_volumes({RUN_LABEL: self.run_id})
        for work in list(self._work):
            work.cancel()
        await asyncio.gather(*self._work, return_exceptions=True)
        await self.endpoints.close()
        await self.engine.close()
        if self._reaper is not None:  # nothing of this run is left for it to remove
            self._reaper.terminate()
            await asyncio.to_thread(self._reaper.wait)

    async def start_task(self, task: Task, launch: Launch) -> str | None:
        definitions = launch.definition["containerDefinitions"]
        containers = {
            c["name"]: _Container(c["name"], c, ContainerState(image=c.get("image"))) for c in definitions
        }
        docker_task = _Task(task, launch, containers)
        self.tasks[task.arn] = docker_task
        task.container_states = {name: c.state for name, c in containers.items()}
        try:
            return await self._start(docker_task)
        except CannotStart as error:
            docker_task.exit = TaskExit(None, error.reason, "TaskFailedToStart")
            await self._stop(docker_task, removed=True)
            raise
        except BaseException:
            # Cancelled (the local ECS is stopping) or failed: nothing it started stays.
            await asyncio.shield(self._stop(docker_task, grace_cap=0, removed=True))
            raise

    def exited(self, task: Task) -> TaskExit | None:
        docker_task = self.tasks.get(task.arn)
        return docker_task.exit if docker_task is not None and docker_task.on_its_own else None

    async def wait(self, task: Task) -> TaskExit:
        docker_task = self.tasks[task.arn]
        await docker_task.ended.wait()
        assert docker_task.exit is not None
        return docker_task.exit

    async def stop_task(self, task: Task) -> int | None:
        docker_task = self.tasks.get(task.arn)
        if docker_task is None:
            return None
        await self._stop(docker_task)
        return docker_task.containers[docker_task.launch.container].state.exit_code

    def health(self, task: Task) -> str | None:
        """The task's healthStatus by ECS's rule over its essential containers' health checks
        (UNHEALTHY before UNKNOWN before HEALTHY), or the non-essential ones' when no essential
        container has a check (HealthCheck, ECS API reference); None when no container has one."""
        docker_task = self.tasks.get(task.arn)
        if docker_task is None:
            return None
        checked = [c for c in docker_task.containers.values() if c.health_checked]
        judged = [c for c in checked if c.essential] or checked
        if not judged:
            return None
        statuses = {c.state.health_status for c in judged}
        for status in ("UNHEALTHY", "UNKNOWN"):
            if status in statuses:
                return status
        return "HEALTHY"

    # -- starting a task -----------------------------------------------------------------------------

    async def _start(self, docker_task: _Task) -> str | None:
        task, launch = docker_task.task, docker_task.launch
        began = _now()
        await asyncio.gather(*(self._resolve_image(c) for c in docker_task.containers.values()))
        docker_task.pulled = (began, _now())
        environments = await self._environments(docker_task)
        await self._check_log_groups(docker_task)
        # A task of several containers gets a pause container, started while they are created (joining
        # its network needs it running only when they start); a task of one container needs none: the
        # container holds its own network namespace, as nothing else is to share it. Then each
        # container starts in dependsOn order.
        shared = len(docker_task.containers) > 1
        if shared:
            await self._create_pause(docker_task)
        await asyncio.gather(
            self._start_pause(docker_task) if shared else asyncio.sleep(0),
            *(self._create(docker_task, c, environments[c.name]) for c in docker_task.containers.values()),
        )
        essential = []
        for container in docker_task.containers.values():
            run = self._run_container(docker_task, container)
            if container.essential:
                essential.append(asyncio.ensure_future(run))
            else:
                self._spawn(self._quietly(run))
        try:
            if essential:  # ECS refuses a task definition without one; RunTask's overrides cannot remove it
                done, _ = await asyncio.wait(essential, return_when=asyncio.FIRST_EXCEPTION)
                for finished in done:
                    finished.result()  # the first CannotStart, if one
        finally:
            for pending in essential:
                pending.cancel()
            await asyncio.gather(*essential, return_exceptions=True)
        if docker_task.exit is not None:  # an essential container exited already
            return None
        port = launch.port or _first_port(docker_task.containers[launch.container].definition)
        return f"http://{task.address}:{port}" if port is not None else None

    async def _resolve_image(self, container: _Container) -> None:
        """The local image standing for the container's image: simulation.yml's images: mapping, else
        the image itself (an ECR URI as a local tag). None here is ECS's CannotPullContainerError."""
        wanted = str(container.definition["image"])
        local = mapped_image(wanted, self.images)
        found = await self.engine.image(local)
        if found is None:
            mapped = f" (mapped from {wanted} by simulation.yml's images:)" if local != wanted else ""
            raise CannotStart(
                "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to "
                f"resolve ref {local}{mapped}: not found: ecs-bg local runs images of this machine's "
                "Docker engine and pulls none: build or tag it (make image builds the sample's), or map "
                "it with simulation.yml's images:"
            )
        container.image, container.image_id = local, str(found["Id"])
        container.stop_signal = str((found.get("Config") or {}).get("StopSignal") or "SIGTERM")
        digests = found.get("RepoDigests") or []
        container.state.image_digest = str(digests[0]).rsplit("@", 1)[-1] if digests else str(found["Id"])

    async def _environments(self, docker_task: _Task) -> dict[str, list[str]]:
        """Each container's environment: what ECS sets in every container, the definition's
        ``environment``, RunTask's ``containerOverrides`` environment, then its ``secrets``. Nothing of
        this process's own environment."""
        assert self.host is not None
        host, task = self.host, docker_task.task
        overrides = {o["name"]: o for o in docker_task.launch.overrides.get("containerOverrides", [])}
        role = docker_task.launch.overrides.get("taskRoleArn") or docker_task.launch.definition.get(
            "taskRoleArn"
        )
        if role:
            docker_task.role = str(role)
            docker_task.credentials_url = self.endpoints.serve(
                "v2/credentials", Caller(lambda: task.address, lambda _: self._credentials(docker_task))
            )
        environments = {}
        for name, container in docker_task.containers.items():
            container.metadata_url = self.endpoints.serve(
                "v4", Caller(lambda: task.address, functools.partial(self._metadata, docker_task, container))
            )
            # What Fargate sets in each container (platform version 1.4.0: the region, the execution
            # environment, the metadata endpoint v4; with a task role, the credentials' path).
            env = {
                "AWS_REGION": host.region,
                "AWS_DEFAULT_REGION": host.region,
                "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
                "ECS_CONTAINER_METADATA_URI_V4": container.metadata_url,
                "AWS_ENDPOINT_URL": self.endpoint_in_tasks,
            }
            if docker_task.credentials_url is not None:
                env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = docker_task.credentials_url
            for item in container.definition.get("environmentFiles", []):
                env.update(await asyncio.to_thread(self._environment_file, str(item.get("value", ""))))
            for item in container.definition.get("environment", []):
                env[item["name"]] = str(item.get("value", ""))
            for item in overrides.get(name, {}).get("environment", []):
                env[item["name"]] = str(item.get("value", ""))
            for secret in container.definition.get("secrets", []):
                env[secret["name"]] = await asyncio.to_thread(self._secret, str(secret["valueFrom"]))
            environments[name] = [f"{key}={value}" for key, value in env.items()]
        return environments

    def _environment_file(self, arn: str) -> dict[str, str]:
        """An ``environmentFiles`` S3 object (``arn:aws:s3:::bucket/key``) from the local endpoint: one
        VARIABLE=VALUE a line, ``#`` lines and blank ones ignored; the ``environment`` parameter's values
        take precedence ("Pass an individual environment variable to an Amazon ECS container", ECS
        developer guide: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/use-environment-file.html)."""
        assert self.host is not None
        bucket, _, key = arn.removeprefix("arn:aws:s3:::").partition("/")
        try:
            body = self.host.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except (BotoCoreError, ClientError) as error:
            raise CannotStart(
                "ResourceInitializationError: failed to download env files: file download command: non "
                f"empty error stream: {arn}: {_said(error)}"
            ) from None
        found = {}
        for line in body.splitlines():
            name, equals, value = line.strip().partition("=")
            if equals and name and not name.startswith("#"):
                found[name] = value
        return found

    def _secret(self, value_from: str) -> str:
        """A secret's value from the local endpoint: a Secrets Manager secret's ARN (with ECS's optional
        ``:json-key:version-stage:version-id``), else an SSM parameter's ARN or name ("Pass sensitive
        data to an Amazon ECS container", ECS developer guide,
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html).
        A failure is ECS's ResourceInitializationError; the value itself is never told."""
        assert self.host is not None
        try:
            if value_from.startswith("arn:") and ":secretsmanager:" in value_from:
                parts = value_from.split(":")
                secret_id = ":".join(parts[:7])
                json_key, stage, version = [*parts[7:], "", "", ""][:3]
                request: dict[str, str] = {"SecretId": secret_id}
                if stage:
                    request["VersionStage"] = stage
                if version:
                    request["VersionId"] = version
                answer = self.host.client("secretsmanager").get_secret_value(**request)
                value = str(answer.get("SecretString", ""))
                if json_key:
                    document = json.loads(value)
                    if json_key not in document:
                        raise KeyError(f"the secret has no JSON key {json_key!r}")
                    value = str(document[json_key])
                return value
            # GetParameter takes a parameter's name or its ARN alike.
            parameter = self.host.client("ssm").get_parameter(Name=value_from, WithDecryption=True)
            return str(parameter["Parameter"]["Value"])
        except (BotoCoreError, ClientError, KeyError, ValueError) as error:
            service = "asm" if ":secretsmanager:" in value_from else "ssm"
            raise CannotStart(
                "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                f"retrieval failed: unable to retrieve secret from {service}: {value_from}: {_said(error)}"
            ) from None

    async def _check_log_groups(self, docker_task: _Task) -> None:
        """An awslogs container's log group must exist, as on ECS, unless ``awslogs-create-group`` is
        "true"; the stack's own groups exist (it makes them). Else ECS's ResourceInitializationError."""
        assert self.host is not None
        logs = self.host.client("logs")
        for container in docker_task.containers.values():
            options = _awslogs(container.definition)
            if options is None:
                continue
            group = options.get("awslogs-group", "")
            if not group:
                raise CannotStart(
                    "ResourceInitializationError: failed to validate logger args: awslogs-group is required"
                )
            create = (
                options.get("awslogs-create-group", "").lower() == "true" or group in self.host.log_groups
            )
            try:
                found = await asyncio.to_thread(logs.describe_log_groups, logGroupNamePrefix=group)
                if any(g["logGroupName"] == group for g in found.get("logGroups", [])):
                    continue
                if not create:
                    raise CannotStart(
                        "ResourceInitializationError: failed to validate logger args: create stream has "
                        "been retried 1 times: failed to create Cloudwatch log stream: "
                        "ResourceNotFoundException: The specified log group does not exist "
                        f"({group}; awslogs-create-group is not true)"
                    )
                with contextlib.suppress(ClientError):
                    await asyncio.to_thread(logs.create_log_group, logGroupName=group)
            except (BotoCoreError, ClientError) as error:
                raise CannotStart(
                    f"ResourceInitializationError: failed to validate logger args: {_said(error)}"
                ) from None

    async def _create_pause(self, docker_task: _Task) -> None:
        """The task's network namespace: a pause container on the task network."""
        config = {
            "Image": PAUSE_IMAGE,
            "Labels": {**self.labels, **_ecs_labels(docker_task.task, "~internal~ecs~pause")},
            "HostConfig": {"NetworkMode": NETWORK, "LogConfig": {"Type": "none", "Config": {}}},
        }
        try:
            docker_task.pause = await self._create_container(f"ecs-bg-{docker_task.id}-pause", config)
        except EngineError as error:
            raise CannotStart(f"ResourceInitializationError: the task's network: {error.message}") from None

    async def _create_container(self, name: str, config: dict[str, Any]) -> str:
        """The new container's id. The request goes on when the start that made it is cancelled (a
        Ctrl-C, a task stopped while it starts): the engine creates the container whether or not its
        answer is read, and ``close`` waits for the answer before it removes what this run made, so
        no container of the run can appear after that."""
        creating = asyncio.ensure_future(self.engine.create(name, config))
        self._creating.add(creating)
        creating.add_done_callback(self._creating.discard)
        try:
            return await asyncio.shield(creating)
        except asyncio.CancelledError:
            self._spawn(self._remove_once_made(creating))  # nobody will start it: not left created
            raise

    async def _remove_once_made(self, creating: asyncio.Future[str]) -> None:
        with contextlib.suppress(EngineError):
            await self.engine.remove(await creating)

    async def _start_pause(self, docker_task: _Task) -> None:
        """The pause container running, and the task's address: its own on the task network."""
        assert docker_task.pause is not None
        try:
            await self.engine.start(docker_task.pause)
        except EngineError as error:
            raise CannotStart(f"ResourceInitializationError: the task's network: {error.message}") from None
        await self._address(docker_task, docker_task.pause)

    async def _address(self, docker_task: _Task, holder: str) -> None:
        """The task's address: the one the container holding its network has on the task network."""
        found = await self.engine.inspect(holder)
        if found is None:
            raise CannotStart("ResourceInitializationError: the task's network: its container is gone")
        networks = (found.get("NetworkSettings") or {}).get("Networks") or {}
        docker_task.task.address = (networks.get(NETWORK) or {}).get("IPAddress") or None

    async def _create(self, docker_task: _Task, container: _Container, env: list[str]) -> None:
        config = self._container_config(docker_task, container, env)
        try:
            container.id = await self._create_container(f"ecs-bg-{docker_task.id}-{container.name}", config)
        except EngineError as error:
            raise CannotStart(
                f"CannotCreateContainerError: Error response from daemon: {error.message}"
            ) from None
        self._by_id[container.id] = (docker_task, container)
        container.state.runtime_id = container.id

    async def _run_container(self, docker_task: _Task, container: _Container) -> None:
        """Start ``container`` once its ``dependsOn`` conditions hold. An essential container that cannot
        start fails the task (CannotStart); a non-essential one is STOPPED with the reason."""
        try:
            for dependency in container.definition.get("dependsOn", []):
                await self._until(docker_task, container, dependency)
            await self._start_container(docker_task, container)
        except CannotStart as error:
            container.failed = error.reason
            container.state.last_status, container.state.reason = TaskStatus.STOPPED, error.reason
            container.change()
            if container.essential:
                raise

    async def _quietly(self, run: Awaitable[None]) -> None:
        with contextlib.suppress(CannotStart):
            await run

    async def _until(self, docker_task: _Task, target: _Container, dependency: Mapping[str, Any]) -> None:
        """Until the dependency's condition holds: START (it started), COMPLETE (it exited), SUCCESS (it
        exited 0), HEALTHY (its health check passed) (ContainerDependency, ECS API reference:
        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html). It fails
        as the ECS agent's dependency graph fails it: a SUCCESS dependency that exited non-zero, one that
        will never start, one past its ``startTimeout`` (from its start)."""
        name, condition = str(dependency["containerName"]), str(dependency["condition"])
        source = docker_task.containers[name]
        timeout = float(source.definition.get("startTimeout") or START_TIMEOUT)

        def fail(why: str) -> CannotStart:
            return CannotStart(
                "CannotStartContainerError: dependency graph: failed to resolve container ordering "
                f"dependency [{name}] for target [{target.name}] {why}"
            )

        while True:
            changed = source.changed
            state = source.state
            stopped = state.last_status == TaskStatus.STOPPED
            if condition == "START" and (source.started_at is not None):
                return
            if condition == "COMPLETE" and stopped and source.started_at is not None:
                return
            if condition == "SUCCESS" and stopped and state.exit_code is not None:
                if state.exit_code == 0:
                    return
                raise fail("as dependency did not exit successfully.")
            if condition == "HEALTHY" and state.health_status == "HEALTHY":
                return
            if source.failed is not None or (stopped and source.started_at is None):
                raise fail("because dependency will never start")
            if docker_task.stopping:
                raise fail("because the task is stopping")
            wait = None
            if source.started_at is not None and condition != "START":
                wait = source.started_at + timeout - time.monotonic()
                if wait <= 0:
                    raise fail("has timed out.")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), wait)

    async def _start_container(self, docker_task: _Task, container: _Container) -> None:
        assert container.id is not None
        if docker_task.stopping:
            raise CannotStart("CannotStartContainerError: the task was stopped before it started")
        try:
            await self.engine.start(container.id)
        except EngineError as error:
            raise CannotStart(
                f"CannotStartContainerError: Error response from daemon: {error.message}"
            ) from None
        if docker_task.pause is None:
            await self._address(docker_task, container.id)
        container.started_at = time.monotonic()
        if container.state.last_status == TaskStatus.PENDING:  # it may have died already
            container.state.last_status = TaskStatus.RUNNING
        container.change()
        docker_task.followers.append(self._spawn(self._follow_logs(docker_task, container)))
        if container.health_checked:
            self._spawn(self._health_checks(docker_task, container))

    def _container_config(self, docker_task: _Task, container: _Container, env: list[str]) -> dict[str, Any]:
        """The Docker container ECS's agent would create for this container definition."""
        definition, task = container.definition, docker_task.task
        override: Mapping[str, Any] = next(
            (
                o
                for o in docker_task.launch.overrides.get("containerOverrides", [])
                if o["name"] == container.name
            ),
            {},
        )
        network = f"container:{docker_task.pause}" if docker_task.pause is not None else NETWORK
        host_config: dict[str, Any] = {
            "NetworkMode": network,
            "ReadonlyRootfs": bool(definition.get("readonlyRootFilesystem", False)),
            "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "1"}},
            **self._limits(docker_task, container, override),
        }
        linux = definition.get("linuxParameters") or {}
        if linux.get("initProcessEnabled"):
            host_config["Init"] = True
        if definition.get("ulimits"):
            host_config["Ulimits"] = [
                {"Name": u["name"], "Soft": u["softLimit"], "Hard": u["hardLimit"]}
                for u in definition["ulimits"]
            ]
        mounts = self._mounts(docker_task, definition)
        if mounts:
            host_config["Mounts"] = mounts
        volumes_from = []
        for source in definition.get("volumesFrom", []):
            other = docker_task.containers.get(source.get("sourceContainer", ""))
            if other is not None and other.id is not None:
                volumes_from.append(f"{other.id}:{'ro' if source.get('readOnly') else 'rw'}")
        if volumes_from:
            host_config["VolumesFrom"] = volumes_from
        config: dict[str, Any] = {
            "Image": container.image,
            "Env": env,
            "Labels": {**self.labels, **_ecs_labels(task, container.name)},
            "HostConfig": host_config,
            "StopTimeout": int(self._stop_timeout(container)),
        }
        command = override.get("command") or definition.get("command")
        if command:
            config["Cmd"] = list(command)
        if definition.get("entryPoint"):
            config["Entrypoint"] = list(definition["entryPoint"])
        if definition.get("workingDirectory"):
            config["WorkingDir"] = definition["workingDirectory"]
        if definition.get("user"):
            config["User"] = definition["user"]
        # Never the image's own health check ("Amazon ECS does not monitor Docker health checks that are
        # embedded in a container image": HealthCheck, API reference); the definition's runs in
        # ``_health_checks``.
        config["Healthcheck"] = {"Test": ["NONE"]}
        return config

    def _limits(
        self, docker_task: _Task, container: _Container, override: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The task's ``cpu`` and ``memory`` (a Fargate task's hard limits) and the container's: memory as
        a hard limit without swap (the container's, else the task's: each container is held to the
        task's memory, not their sum), memoryReservation as Docker's reservation, the task's vCPUs as a
        CPU quota (at most this machine's CPUs), the container's cpu units as CPU shares. With
        ``task_cpu`` "shares" the task's cpu is a weight too, not a quota (the container's, else the
        task's units as CPU shares)."""
        definition, overrides = docker_task.launch.definition, docker_task.launch.overrides
        task_memory = _memory_mib(overrides.get("memory") or definition.get("memory"))
        task_cpu = _cpu_units(overrides.get("cpu") or definition.get("cpu"))
        memory = override.get("memory") or container.definition.get("memory")
        limits: dict[str, Any] = {}
        hard = [m for m in (_memory_mib(memory), task_memory) if m]
        if hard:
            limits["Memory"] = limits["MemorySwap"] = int(min(hard) * MIB)
        reservation = override.get("memoryReservation") or container.definition.get("memoryReservation")
        if reservation:
            limits["MemoryReservation"] = int(float(reservation) * MIB)
        if task_cpu and self.task_cpu == "hard":
            limits["NanoCpus"] = int(min(task_cpu / 1024, self.cpus) * 1e9)
        shares = int(override.get("cpu") or container.definition.get("cpu") or 0)
        if not shares and self.task_cpu == "shares":
            shares = int(task_cpu or 0)
        if shares:
            limits["CpuShares"] = max(2, shares)
        return limits

    def _mounts(self, docker_task: _Task, definition: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``mountPoints`` of the task's volumes: a volume with a host ``sourcePath`` is that folder of
        this machine (bind); one without is the task's own storage, shared by its containers and gone
        with it (Fargate's bind mounts: "Use bind mounts with Amazon ECS", ECS developer guide)."""
        volumes = {v["name"]: v for v in docker_task.launch.definition.get("volumes", [])}
        mounts = []
        for point in definition.get("mountPoints", []):
            volume = volumes.get(point.get("sourceVolume", ""))
            if volume is None:
                continue
            source = (volume.get("host") or {}).get("sourcePath")
            mount: dict[str, Any] = {
                "Target": point["containerPath"],
                "ReadOnly": bool(point.get("readOnly")),
            }
            if source:
                mounts.append({**mount, "Type": "bind", "Source": source})
            else:
                name = f"ecs-bg-{docker_task.id}-{volume['name']}"
                if name not in docker_task.volumes:
                    docker_task.volumes.append(name)
                labels = {**self.labels, **_ecs_labels(docker_task.task, "~volume")}
                mounts.append(
                    {**mount, "Type": "volume", "Source": name, "VolumeOptions": {"Labels": labels}}
                )
        return mounts

    async def _health_checks(self, docker_task: _Task, container: _Container) -> None:
        """The container's ``healthCheck``, run in it as Docker runs a HEALTHCHECK and as ECS reads it
        (HealthCheck, ECS API reference): its command (``CMD`` args, or ``CMD-SHELL`` through
        ``/bin/sh -c``); ``timeout`` real seconds each (a command runs in real time); HEALTHY at a
        success, UNHEALTHY after ``retries`` failures in a row; failures before the first success do
        not count within the start period. The interval is the local clock's (``speed`` times faster)
        but at least MIN_HEALTH_INTERVAL real seconds, as each check costs the task's own CPU. Before
        the first success a check also runs as soon as the container's port answers, which is when
        an app's checks start passing. The start period is in real seconds too, widened by retries x
        interval: a container that has not passed a check yet is UNHEALTHY no sooner than on ECS."""
        assert container.id is not None
        check = {
            **HEALTH_DEFAULTS,
            **{k: v for k, v in container.definition["healthCheck"].items() if v is not None},
        }
        command = list(check["command"])
        if command and command[0] == "NONE":
            return
        if command and command[0] == "CMD-SHELL":
            command = ["/bin/sh", "-c", " ".join(command[1:])]
        elif command and command[0] == "CMD":
            command = command[1:]
        interval = max(float(check["interval"]) / self.speed, MIN_HEALTH_INTERVAL)
        retries, timeout = int(check["retries"]), float(check["timeout"])
        start_period = float(check["startPeriod"]) + retries * float(check["interval"])
        port = _first_port(container.definition)
        began, failures, passed = time.monotonic(), 0, False
        while container.state.last_status == TaskStatus.RUNNING and not docker_task.stopping:
            if passed or port is None:
                await asyncio.sleep(interval)
            else:
                await self._port_open(docker_task, port, interval)
            if container.state.last_status != TaskStatus.RUNNING or docker_task.stopping:
                return
            if await self._probe(container.id, command, timeout):
                failures, passed = 0, True
                if container.state.health_status != "HEALTHY":
                    self._health(docker_task, container, "HEALTHY")
            elif passed or time.monotonic() - began >= start_period:
                failures += 1
                if failures >= retries and container.state.health_status != "UNHEALTHY":
                    self._health(docker_task, container, "UNHEALTHY")

    async def _port_open(self, docker_task: _Task, port: int, within: float) -> None:
        """Until the task answers on ``port`` (a TCP connection from here), ``within`` seconds at most."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and docker_task.task.address:
            with contextlib.suppress(OSError, TimeoutError):
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection(docker_task.task.address, port), 0.5
                )
                writer.close()
                return
            await asyncio.sleep(0.05)

    async def _probe(self, container: str, command: list[str], timeout: float) -> bool:
        """One check: the command's exit status 0 within ``timeout`` seconds."""
        try:
            created = await self.engine.call(
                "POST",
                f"/containers/{container}/exec",
                body={"Cmd": command, "AttachStdout": True, "AttachStderr": True},
            )
            run = self.engine.call(
                "POST", f"/exec/{created['Id']}/start", body={"Detach": False, "Tty": False}
            )
            await asyncio.wait_for(run, timeout)
            done = await self.engine.call("GET", f"/exec/{created['Id']}/json")
        except (EngineError, TimeoutError):
            return False
        return bool(done.get("ExitCode") == 0 and not done.get("Running"))

    def _stop_timeout(self, container: _Container) -> float:
        return min(float(container.definition.get("stopTimeout") or STOP_TIMEOUT), 120.0)

    # -- what happens to running containers ----------------------------------------------------------

    async def _follow_events(self) -> None:
        """The engine's events for this run's containers, for as long as the runtime lives; after a
        broken stream, every container is looked at again."""
        params = {"filters": json.dumps({"type": ["container"], "label": [f"{RUN_LABEL}={self.run_id}"]})}
        while True:
            try:
                async for line in self.engine.lines("/events", params, self._events_connected):
                    with contextlib.suppress(ValueError, KeyError):
                        await self._on_event(json.loads(line))
            except (EngineError, aiohttp.ClientError, ValueError):
                pass  # a broken stream: every container is looked at again, below
            await asyncio.sleep(0.5)
            for docker_task, container in list(self._by_id.values()):
                await self._look_again(docker_task, container)

    async def _on_event(self, event: Mapping[str, Any]) -> None:
        found = self._by_id.get(str(event.get("id", "")))
        if found is None:
            return
        docker_task, container = found
        action = str(event.get("Action") or event.get("status") or "")
        if action == "oom":
            container.oom = True
        elif action == "die":
            code = (event.get("Actor") or {}).get("Attributes", {}).get("exitCode")
            self._spawn(self._died(docker_task, container, int(code) if code is not None else None))

    async def _look_again(self, docker_task: _Task, container: _Container) -> None:
        if container.id is None or container.state.last_status == TaskStatus.STOPPED:
            return
        found = await self.engine.inspect(container.id)
        if found is None or not found["State"].get("Running"):
            await self._died(docker_task, container)

    def _health(self, docker_task: _Task, container: _Container, status: str) -> None:
        container.state.health_status = status
        container.change()
        if (
            status == "UNHEALTHY"
            and container.essential
            and docker_task.launch.service
            and docker_task.exit is None
            and not docker_task.stopping
        ):
            self._ended(docker_task, TaskExit(None, UNHEALTHY_STOPPED, "ServiceSchedulerInitiated"))

    async def _died(self, docker_task: _Task, container: _Container, exit_code: int | None = None) -> None:
        """The container has exited (``exit_code``, from its die event; else it is looked up, with
        whether the kernel killed it for its memory: the engine's oom event comes first, its
        State.OOMKilled says so too)."""
        if container.state.last_status == TaskStatus.STOPPED or container.id is None:
            return
        oom = container.oom
        if exit_code is None or (exit_code == 137 and not oom):
            found = None
            with contextlib.suppress(EngineError):
                found = await self.engine.inspect(container.id)
            state = found["State"] if found else {}
            oom = oom or bool(state.get("OOMKilled"))
            exit_code = int(state["ExitCode"]) if "ExitCode" in state else None
        if container.state.last_status == TaskStatus.STOPPED:
            return
        container.state.last_status = TaskStatus.STOPPED
        container.state.exit_code = exit_code
        if oom:
            container.state.reason = OUT_OF_MEMORY
        container.change()
        if container.essential and docker_task.exit is None and not docker_task.stopping:
            reason = OUT_OF_MEMORY if oom else ESSENTIAL_EXITED
            self._ended(docker_task, TaskExit(container.state.exit_code, reason, "EssentialContainerExited"))

    def _ended(self, docker_task: _Task, how: TaskExit) -> None:
        """The task ends on its own: the rest of its containers are stopped, as ECS stops them."""
        docker_task.exit, docker_task.on_its_own = how, True
        self._spawn(self._stop(docker_task))

    # -- stopping ------------------------------------------------------------------------------------

    async def _stop(self, docker_task: _Task, grace_cap: float | None = None, removed: bool = False) -> None:
        """Once per task: its containers stopped in the reverse of their dependency order (each SIGTERM,
        then SIGKILL after its stopTimeout: ContainerDependency, "for container shutdown it is reversed"),
        then removed with the pause container and the task's volumes. Returns once they have stopped
        (the task is STOPPED then, as ECS reports it), or, with ``removed``, once all is removed."""
        if docker_task.teardown is None:
            docker_task.stopping = True
            docker_task.teardown = asyncio.get_running_loop().create_task(
                self._teardown(docker_task, grace_cap)
            )
        await asyncio.shield(docker_task.teardown if removed else docker_task.ended.wait())

    async def _teardown(self, docker_task: _Task, grace_cap: float | None) -> None:
        try:
            for level in _stop_order(docker_task.containers):
                await asyncio.gather(*(self._stop_container(docker_task, c, grace_cap) for c in level))
        finally:
            if docker_task.exit is None:
                serving = docker_task.containers[docker_task.launch.container].state
                docker_task.exit = TaskExit(serving.exit_code, "Task stopped", "UserInitiated")
            docker_task.ended.set()
        try:
            with contextlib.suppress(TimeoutError):  # the last lines reach CloudWatch Logs first
                await asyncio.wait_for(asyncio.gather(*docker_task.followers, return_exceptions=True), 5.0)
            for container in docker_task.containers.values():
                if container.id is not None:
                    with contextlib.suppress(EngineError):
                        await self.engine.remove(container.id)
                    self._by_id.pop(container.id, None)
            if docker_task.pause is not None:
                with contextlib.suppress(EngineError):
                    await self.engine.remove(docker_task.pause)
            for volume in docker_task.volumes:
                with contextlib.suppress(EngineError):
                    await self.engine.call("DELETE", f"/volumes/{volume}", ok=(204, 404))
        finally:
            for url in [
                docker_task.credentials_url,
                *(c.metadata_url for c in docker_task.containers.values()),
            ]:
                if url:
                    self.endpoints.forget(url)

    async def _stop_container(
        self, docker_task: _Task, container: _Container, grace_cap: float | None
    ) -> None:
        if container.id is None:
            if container.state.last_status != TaskStatus.STOPPED:
                container.state.last_status = TaskStatus.STOPPED
                container.change()
            return
        if container.state.last_status == TaskStatus.STOPPED:
            return
        # As `docker stop` does, with the engine's events telling when it has exited: its stop signal
        # (the image's STOPSIGNAL, else SIGTERM), then SIGKILL after its stopTimeout.
        grace = self._stop_timeout(container)
        for signal, wait in (
            (container.stop_signal, grace if grace_cap is None else min(grace, grace_cap)),
            ("SIGKILL", 10.0),
        ):
            with contextlib.suppress(EngineError):
                await self.engine.call(
                    "POST", f"/containers/{container.id}/kill", params={"signal": signal}, ok=(204, 404, 409)
                )
            if await self._until_stopped(container, wait):
                return
        await self._died(docker_task, container)  # no event came: look

    async def _until_stopped(self, container: _Container, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while container.state.last_status != TaskStatus.STOPPED:
            changed, left = container.changed, deadline - time.monotonic()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), left)
        return True

    # -- logs ----------------------------------------------------------------------------------------

    async def _follow_logs(self, docker_task: _Task, container: _Container) -> None:
        """The container's output, as it comes: the last lines kept, and with ``awslogs`` each line sent
        to the local CloudWatch Logs: the group ``awslogs-group``, the stream
        ``<awslogs-stream-prefix>/<container name>/<task id>`` ("Send Amazon ECS logs to CloudWatch",
        ECS developer guide: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html).
        Ends when the container has stopped and every line is sent."""
        assert container.id is not None
        options = _awslogs(container.definition)
        batch: list[dict[str, Any]] = []
        read = asyncio.Event()
        shipping = None
        if options is not None:
            prefix = options.get("awslogs-stream-prefix")
            stream = f"{prefix}/{container.name}/{docker_task.id}" if prefix else container.id
            shipping = asyncio.ensure_future(
                self._ship(options.get("awslogs-group", ""), stream, batch, read)
            )
        params = {"follow": "1", "stdout": "1", "stderr": "1", "timestamps": "1"}
        partial = ""
        try:
            async for _, payload in self.engine.frames(f"/containers/{container.id}/logs", params):
                *lines, partial = (partial + payload.decode(errors="replace")).split("\n")
                for line in lines:
                    stamp, _, message = line.partition(" ")
                    docker_task.output.append(f"{stamp} {container.name}: {message}")
                    if shipping is not None:
                        batch.append({"timestamp": _millis(stamp), "message": message})
        except (EngineError, aiohttp.ClientError):
            pass  # the engine went away: nothing more to read
        finally:
            read.set()
            if shipping is not None:
                await shipping

    async def _ship(self, group: str, stream: str, batch: list[dict[str, Any]], read: asyncio.Event) -> None:
        """PutLogEvents of the batch's lines every LOG_FLUSH seconds, until all are read and sent. Log
        delivery is not the task: a line that cannot be sent is lost, and nothing else."""
        assert self.host is not None
        logs = self.host.client("logs")
        with contextlib.suppress(BotoCoreError, ClientError):
            await asyncio.to_thread(logs.create_log_stream, logGroupName=group, logStreamName=stream)
        while True:
            done = read.is_set()
            if batch:
                events, batch[:] = batch[:10_000], batch[10_000:]
                with contextlib.suppress(BotoCoreError, ClientError):
                    await asyncio.to_thread(
                        logs.put_log_events,
                        logGroupName=group,
                        logStreamName=stream,
                        logEvents=sorted(events, key=lambda event: event["timestamp"]),
                    )
            elif done:
                return
            else:
                await asyncio.sleep(LOG_FLUSH)

    # -- the endpoints' answers ----------------------------------------------------------------------

    async def _metadata(self, docker_task: _Task, container: _Container, rest: str) -> Any:
        """Task metadata v4: the container's (``""``), the task's (``/task``), Docker stats of the
        container (``/stats``) or of each (``/task/stats``), shaped as Fargate answers them ("Amazon ECS
        task metadata v4 JSON response for tasks on Fargate", ECS developer guide)."""
        if rest in ("", "/"):
            return self._container_metadata(docker_task, container)
        if rest == "/task":
            return self._task_metadata(docker_task)
        if rest == "/stats":
            return await self._stats(container)
        if rest == "/task/stats":
            return {c.id: await self._stats(c) for c in docker_task.containers.values() if c.id is not None}
        return None

    def _task_metadata(self, docker_task: _Task) -> dict[str, Any]:
        task, definition = docker_task.task, docker_task.launch.definition
        assert self.host is not None
        cluster = task.arn.split(":task/", 1)[1].split("/", 1)[0]
        metadata: dict[str, Any] = {
            "Cluster": self._arn(f"cluster/{cluster}"),
            "TaskARN": task.arn,
            "Family": task.family,
            "Revision": task.task_definition.rsplit(":", 1)[-1],
            "DesiredStatus": task.desired_status,
            "KnownStatus": task.last_status,
            "Limits": {
                "CPU": (_cpu_units(definition.get("cpu")) or 0) / 1024,
                "Memory": _memory_mib(definition.get("memory")) or 0,
            },
            "AvailabilityZone": f"{self.host.region}a",
            "LaunchType": "FARGATE",
            "Containers": [self._container_metadata(docker_task, c) for c in docker_task.containers.values()],
            "ClockDrift": {
                "ReferenceTimestamp": _now(),
                "ClockErrorBound": 0.5,
                "ClockSynchronizationStatus": "SYNCHRONIZED",
            },
            "TaskTags": {},
        }
        if docker_task.pulled is not None:
            metadata["PullStartedAt"], metadata["PullStoppedAt"] = docker_task.pulled
        return metadata

    def _container_metadata(self, docker_task: _Task, container: _Container) -> dict[str, Any]:
        task, definition = docker_task.task, container.definition
        state = container.state
        network = ipaddress.ip_network(SUBNET)
        metadata: dict[str, Any] = {
            "DockerId": container.id or "",
            "Name": container.name,
            "DockerName": f"ecs-bg-{docker_task.id}-{container.name}",
            "Image": definition.get("image", ""),
            "ImageID": container.image_id or "",
            "Labels": _ecs_labels(task, container.name),
            "DesiredStatus": task.desired_status,
            "KnownStatus": state.last_status,
            "Limits": {"CPU": int(definition.get("cpu") or 0), "Memory": int(definition.get("memory") or 0)},
            "Type": "NORMAL",
            "ContainerARN": task.arn.replace(":task/", ":container/", 1) + f"/{container.name}",
            "Networks": [
                {
                    "NetworkMode": "awsvpc",
                    "IPv4Addresses": [task.address] if task.address else [],
                    "AttachmentIndex": 0,
                    "IPv4SubnetCIDRBlock": str(network),
                    "PrivateDNSName": f"ip-{(task.address or '').replace('.', '-')}.local",
                    "SubnetGatewayIpv4Address": f"{GATEWAY}/{network.prefixlen}",
                }
            ],
        }
        if state.exit_code is not None:
            metadata["ExitCode"] = state.exit_code
        if container.health_checked:
            metadata["Health"] = {"status": state.health_status}
        options = _awslogs(definition)
        if options is not None:
            prefix = options.get("awslogs-stream-prefix")
            stream = f"{prefix}/{container.name}/{docker_task.id}" if prefix else container.id or ""
            metadata["LogDriver"] = "awslogs"
            metadata["LogOptions"] = {**options, "awslogs-stream": stream}
        return metadata

    async def _stats(self, container: _Container) -> Any:
        if container.id is None:
            return None
        try:
            return await self.engine.call(
                "GET", f"/containers/{container.id}/stats", params={"stream": "false"}
            )
        except EngineError:
            return None

    async def _credentials(self, docker_task: _Task) -> dict[str, str]:
        """The task role's credentials, as the ECS agent serves them (RoleArn, AccessKeyId,
        SecretAccessKey, Token, Expiration): the local STS's AssumeRole of the task role, so that
        GetCallerIdentity inside the task names the role; made again within 15 minutes of expiry."""
        assert self.host is not None
        assert docker_task.role is not None
        current = docker_task.credentials
        if current is not None:
            expires = dt.datetime.fromisoformat(current["Expiration"].replace("Z", "+00:00"))
            if expires - dt.datetime.now(dt.UTC) > dt.timedelta(minutes=15):
                return current
        role, session = docker_task.role, docker_task.id
        try:
            answer = await asyncio.to_thread(
                self.host.client("sts").assume_role,
                RoleArn=role,
                RoleSessionName=session,
                DurationSeconds=3600,
            )
            given = answer["Credentials"]
            expiration = given["Expiration"]
            credentials = {
                "AccessKeyId": given["AccessKeyId"],
                "SecretAccessKey": given["SecretAccessKey"],
                "Token": given["SessionToken"],
            }
        except (BotoCoreError, ClientError):
            expiration = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
            credentials = {
                "AccessKeyId": "ASIA" + secrets.token_hex(8).upper(),
                "SecretAccessKey": secrets.token_urlsafe(30),
                "Token": secrets.token_urlsafe(60),
            }
        docker_task.credentials = {
            "RoleArn": role,
            **credentials,
            "Expiration": expiration.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return docker_task.credentials

    def _arn(self, resource: str) -> str:
        assert self.host is not None
        return f"arn:aws:ecs:{self.host.region}:{self.host.account}:{resource}"

    # -- what the runtime needs of the engine --------------------------------------------------------

    async def _remove_leftovers(self) -> int:
        """Remove the containers and volumes of earlier runs whose process is gone (killed before it
        could clean up); another live run's are left alone."""
        removed = 0
        for container in await self.engine.containers([LOCAL_LABEL]):
            if not owner_alive(container.get("Labels", {}).get(OWNER_LABEL, "")):
                await self.engine.remove(container["Id"])
                removed += 1
        volumes = await self.engine.call(
            "GET", "/volumes", params={"filters": json.dumps({"label": [LOCAL_LABEL]})}
        )
        for volume in (volumes or {}).get("Volumes") or []:
            if not owner_alive((volume.get("Labels") or {}).get(OWNER_LABEL, "")):
                with contextlib.suppress(EngineError):
                    await self.engine.call("DELETE", f"/volumes/{volume['Name']}", ok=(204, 404))
        return removed

    async def _remove_volumes(self, labels: Mapping[str, str]) -> None:
        wanted = [f"{k}={v}" for k, v in labels.items()]
        volumes = await self.engine.call("GET", "/volumes", params={"filters": json.dumps({"label": wanted})})
        for volume in (volumes or {}).get("Volumes") or []:
            with contextlib.suppress(EngineError):
                await self.engine.call("DELETE", f"/volumes/{volume['Name']}", ok=(204, 404))

    async def _network(self) -> None:
        """The task network, made where missing (by whichever run comes first)."""
        for _ in range(2):
            found = await self._inspect_network()
            if found is not None:
                configs = (found.get("IPAM") or {}).get("Config") or []
                if not any(c.get("Subnet") == SUBNET and c.get("Gateway") == GATEWAY for c in configs):
                    raise RuntimeError(
                        f"the Docker network {NETWORK} exists with another address range ({configs}); remove "
                        f"it (docker network rm {NETWORK}) and ecs-bg local makes it again ({SUBNET}, "
                        f"gateway {GATEWAY})"
                    )
                return
            body = {
                "Name": NETWORK,
                "Driver": "bridge",
                "CheckDuplicate": True,
                "IPAM": {"Driver": "default", "Config": [{"Subnet": SUBNET, "Gateway": GATEWAY}]},
                "Options": {"com.docker.network.bridge.name": "ecs-bg0"},
                "Labels": {LOCAL_LABEL: "1"},
            }
            try:
                await self.engine.call("POST", "/networks/create", body=body)
                return
            except EngineError as error:
                if error.status != 409:
                    raise RuntimeError(
                        f"cannot make the Docker network {NETWORK} ({SUBNET}, gateway {GATEWAY}): "
                        f"{error.message} (another network using that range, such as "
                        "amazon-ecs-local-container-endpoints' credentials_network, must be removed first)"
                    ) from None

    async def _inspect_network(self) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self.engine.call("GET", f"/networks/{NETWORK}")
        except EngineError as error:
            if error.status == 404:
                return None
            raise
        return found

    async def _pause_image(self) -> None:
        if await self.engine.image(PAUSE_IMAGE) is not None:
            return
        repository, tag = PAUSE_IMAGE.split(":")
        params = [
            ("fromSrc", "-"),
            ("repo", repository),
            ("tag", tag),
            ("changes", 'CMD ["/pause"]'),
            ("changes", f"LABEL {LOCAL_LABEL}=1"),
        ]
        await self.engine.call("POST", "/images/create", params=params, data=image_archive())

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        work = asyncio.ensure_future(coroutine)
        self._work.add(work)
        work.add_done_callback(self._work.discard)
        return work


# -- pure helpers ------------------------------------------------------------------------------------


def mapped_image(image: str, images: Mapping[str, str]) -> str:
    """The local image standing for ``image``: an ``images:`` key naming it exactly, else the first
    key that matches its repository (the name without tag or digest) or the whole name, ``*`` matching
    any part; else ``image`` itself."""
    if image in images:
        return images[image]
    repository = _repository(image)
    for pattern, local in images.items():
        if fnmatch.fnmatchcase(repository, pattern) or fnmatch.fnmatchcase(image, pattern):
            return local
    return image


def _repository(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


def owner_identity() -> str:
    """This process, as the owner label names it: host, pid and the process's start time (a pid alone
    could be a later process's)."""
    return f"{socket.gethostname()}/{os.getpid()}/{_start_time(os.getpid())}"


def owner_alive(owner: str) -> bool:
    """Whether the process an owner label names still runs (on this host; another host's: assumed so)."""
    try:
        host, pid, started = owner.split("/")
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    return _start_time(int(pid)) == started


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _stop_order(containers: Mapping[str, _Container]) -> list[list[_Container]]:
    """Levels to stop in: a container stops only after every container that depends on it."""
    remaining = dict(containers)
    levels = []
    while remaining:
        needed = {d["containerName"] for c in remaining.values() for d in c.definition.get("dependsOn", [])}
        level = [c for name, c in remaining.items() if name not in needed] or list(remaining.values())
        levels.append(level)
        for container in level:
            remaining.pop(container.name)
    return levels


def _ecs_labels(task: Task, container: str) -> dict[str, str]:
    """The labels ECS's agent puts on a task's containers (as task metadata v4 shows them)."""
    cluster = task.arn.split(":task/", 1)[1].split("/", 1)[0]
    return {
        "com.amazonaws.ecs.cluster": task.arn.split(":task/", 1)[0] + f":cluster/{cluster}",
        "com.amazonaws.ecs.container-name": container,
        "com.amazonaws.ecs.task-arn": task.arn,
        "com.amazonaws.ecs.task-definition-family": task.family,
        "com.amazonaws.ecs.task-definition-version": task.task_definition.rsplit(":", 1)[-1],
    }


def _awslogs(definition: Mapping[str, Any]) -> dict[str, str] | None:
    configuration = definition.get("logConfiguration") or {}
    if configuration.get("logDriver") != "awslogs":
        return None
    return {str(k): str(v) for k, v in (configuration.get("options") or {}).items()}


def _first_port(definition: Mapping[str, Any]) -> int | None:
    mappings = definition.get("portMappings") or []
    return int(mappings[0]["containerPort"]) if mappings and mappings[0].get("containerPort") else None


def _cpu_units(value: Any) -> float | None:
    """A task's ``cpu``: CPU units ("256") or vCPUs ("0.25 vCPU") (TaskDefinition, ECS API reference)."""
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    if text.endswith("vcpu"):
        return float(text.removesuffix("vcpu").strip()) * 1024
    return float(text)


def _memory_mib(value: Any) -> float | None:
    """A ``memory``: MiB ("512") or GB ("1 GB", as the API reference allows: 1024 MiB each)."""
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    if text.endswith("gb"):
        return float(text.removesuffix("gb").strip()) * 1024
    return float(text)


def _millis(stamp: str) -> int:
    """Docker's RFC 3339 timestamp with nanoseconds as epoch milliseconds (now, if unreadable)."""
    try:
        whole, _, fraction = stamp.rstrip("Z").partition(".")
        moment = dt.datetime.fromisoformat(whole).replace(tzinfo=dt.UTC)
        return int(moment.timestamp() * 1000) + int((fraction + "000")[:3])
    except ValueError:
        return int(time.time() * 1000)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def _said(error: BaseException) -> str:
    """What an AWS error says, by its code and message; never a value."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'Error')}: {info.get('Message', '')}"
    return str(error)
