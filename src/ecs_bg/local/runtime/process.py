"""ECS tasks on one machine: each task is a real subprocess of the sample service on a loopback port."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp

from ecs_bg.deploy.interpreter import SUPPORTED
from ecs_bg.local.forkserver import ForkedProcess, ForkServers, ServerKind
from ecs_bg.local.parent_death import ends_with_parent
from ecs_bg.local.ports import free_port
from ecs_bg.local.runtime import CannotStart, Launch, RuntimeHost, TaskExit, local_credentials
from ecs_bg.local.runtime.program import Program, program, request

if TYPE_CHECKING:
    from ecs_bg.local.ecs.models import Task

SAMPLE_APP = (sys.executable, "-m", "app")


def host_environment() -> dict[str, str]:
    """What any host process needs from this one's environment to start at all, and nothing more:
    PATH, through which a command given by name (``python``, ``node``, as simulation.yml's
    ``containers:`` give them) is found, as a container finds it through its image's PATH. Nothing
    else of the shell that started ``ecs-bg`` (a developer's AWS_SESSION_TOKEN, AWS_PROFILE, keys,
    tokens of other tools) reaches a task."""
    return {"PATH": os.environ.get("PATH", os.defpath)}


async def answers_http(url: str, running: Callable[[], bool], timeout: float, poll: float = 0.05) -> bool:
    """True once ``url`` answers HTTP with any status; False once ``running`` says its process has
    ended, or after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    probe = aiohttp.ClientTimeout(total=max(poll * 4, 0.2))
    async with aiohttp.ClientSession(timeout=probe) as session:
        while time.monotonic() < deadline:
            if not running():
                return False
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url):
                    return True
            await asyncio.sleep(poll)
    return False


class AppProcess:
    """One task: a subprocess serving HTTP on ``url``, with its output kept in a bounded buffer. With
    ``fork_servers`` (owned by the caller), a command that is a Python program importing libraries
    is forked from a server that has imported them (``runtime.program``)."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        command: Sequence[str] = SAMPLE_APP,
        cwd: Path | None = None,
        output_lines: int = 500,
        fork_servers: ForkServers | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = tuple(command)
        self.cwd = cwd
        # Exactly ``env`` and what a process needs to start (host_environment), never this process's
        # whole environment; bind loopback only. The caller's knobs win except PORT and HOST, which the
        # local runtime owns, and output is unbuffered so that the kept lines are current.
        self.env = {
            **host_environment(),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
        }
        self.output: collections.deque[str] = collections.deque(maxlen=output_lines)
        self.started_at: float | None = None
        self.ready_after: float | None = None  # seconds from start to the first HTTP answer
        self.fork_servers = fork_servers
        self._process: asyncio.subprocess.Process | ForkedProcess | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        if self._process is not None:
            raise RuntimeError(f"task on {self.url} was already started")
        self.started_at = time.monotonic()
        cwd = self.cwd or Path.cwd()
        found = program(self.command, cwd) if self.fork_servers is not None and SUPPORTED else None
        if found is not None:
            with contextlib.suppress(OSError):  # no server: the task starts as a fresh process
                self._process, output = await self._fork(found, cwd)
                self._reader = asyncio.create_task(self._read_output(output))
                return
        process = await asyncio.create_subprocess_exec(
            *self.command,
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the simulator, which stops tasks
            preexec_fn=ends_with_parent(),  # and a SIGKILL of the simulator ends them too
        )
        assert process.stdout is not None
        self._process = process
        self._reader = asyncio.create_task(self._read_output(process.stdout))

    async def _fork(self, found: Program, cwd: Path) -> tuple[ForkedProcess, asyncio.StreamReader]:
        """The task forked from the server of its kind: its revision's environment (all of it but its
        PORT, so that what a library reads at import is the task's), folder and imports."""
        assert self.fork_servers is not None
        kind = ServerKind.of(
            {name: value for name, value in self.env.items() if name != "PORT"},
            cwd,
            found.preload,
            session=True,
            first_on_path=found.path0,
        )
        read, write = os.pipe()
        try:
            server = await self.fork_servers.get(kind)
            forked = await server.spawn(request(found, self.env, cwd), [write])
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)
        output = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(output), os.fdopen(read, "rb")
        )
        return forked, output

    async def _read_output(self, stream: asyncio.StreamReader) -> None:
        # Read until EOF even when nobody looks, so the child never blocks on a full pipe.
        async for line in stream:
            self.output.append(line.decode(errors="replace").rstrip("\n"))

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process else None

    @property
    def crashed(self) -> bool:
        """The process exited on its own (or was killed from outside), not through ``stop``."""
        return self.returncode is not None and not self._stopping

    async def wait_ready(self, timeout: float = 10.0, path: str = "/health", poll: float = 0.05) -> bool:
        """True once the task answers HTTP on ``path`` with any status (a RUNNING task: a task whose
        health check fails is running but unhealthy, which is the load balancer's call to make).
        False if the process exits first or ``timeout`` passes."""
        if self._process is None:
            raise RuntimeError("start() the task first")
        if not await answers_http(self.url + path, lambda: self.returncode is None, timeout, poll):
            return False
        assert self.started_at is not None
        self.ready_after = time.monotonic() - self.started_at
        return True

    async def wait_exit(self, timeout: float) -> int | None:
        """The exit status, or None if the process is still running after ``timeout``."""
        if self._process is None:
            return None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait(), timeout)
        return self._process.returncode

    async def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds, as ECS stops a task (stopTimeout)."""
        if self._process is None:
            return None
        if self._process.returncode is None:
            self._stopping = True  # a task that had already exited stays crashed
            self._signal(signal.SIGTERM)
            if await self.wait_exit(grace) is None:
                self._signal(signal.SIGKILL)
                await self.wait_exit(5.0)
        await self._finish_reading()
        return self._process.returncode

    async def kill(self) -> None:
        """SIGKILL without a stop: the task dies as on an out-of-memory kill; ``crashed`` turns true."""
        if self._process is not None and self._process.returncode is None:
            self._signal(signal.SIGKILL)
            await self.wait_exit(5.0)
        await self._finish_reading()

    def _signal(self, signum: int) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError):
            self._process.send_signal(signum)

    async def _finish_reading(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reader, 2.0)


class ProcessRuntime:
    """Tasks as host processes: a task's serving container runs as the command simulation.yml's
    ``containers:`` gives that container (in its working directory), or else ``command``, with its
    container definition's environment. No image runs, and only the serving container does."""

    name = "process"

    def __init__(
        self,
        command: Sequence[str],
        container_commands: Mapping[str, Sequence[str]],
        container_dirs: Mapping[str, Path],
        sim_config: Path | None,
    ) -> None:
        self.default_command = tuple(command)
        self.container_commands = container_commands
        self.container_dirs = container_dirs
        self.sim_config = sim_config
        self.processes: dict[str, AppProcess] = {}  # task ARN -> its process
        self.host: RuntimeHost | None = None
        self.fork_servers = ForkServers()  # what tasks fork from where they can (``runtime.program``)

    async def start(self, host: RuntimeHost) -> None:
        self.host = host  # its endpoint and region, for the tasks' environment

    async def close(self) -> None:
        await asyncio.gather(*(process.stop(grace=2.0) for process in self.processes.values()))
        await self.fork_servers.close()  # after the tasks it forked

    def command(self, container: str) -> Sequence[str] | str:
        """The local command of a service task's ``container`` (its ``loadBalancers[].containerName``),
        as ``ecs-bg simulate`` picks it; a string says why there is none."""
        commands = self.container_commands
        if not commands and self.default_command:
            return self.default_command
        if not commands:
            return (
                f"CannotStartContainerError: no command for container {container!r}: the process runtime "
                "runs the command simulation.yml's containers: gives it (or run its image with "
                "--runtime docker)"
            )
        if container not in commands:
            return (
                f"CannotStartContainerError: {self.sim_config}: containers has no command for "
                f"{container!r}, the container the service's loadBalancers[0].containerName routes to "
                f"(configured: {', '.join(sorted(commands))})"
            )
        return commands[container]

    async def start_task(self, task: Task, launch: Launch) -> str | None:
        """A service task runs its serving container's configured command; a RunTask task the command
        its overrides give that container, else the default one."""
        if launch.service:
            command = self.command(launch.container)
        else:
            given = {o["name"]: o for o in launch.overrides.get("containerOverrides", [])}
            command = given.get(launch.container, {}).get("command") or self.command(launch.container)
        if isinstance(command, str):
            raise CannotStart(command)
        cwd = self.container_dirs.get(launch.container, Path.cwd())
        process = AppProcess(
            self.environment(launch.environment), command=command, cwd=cwd, fork_servers=self.fork_servers
        )
        self.processes[task.arn] = process
        try:
            await process.start()
        except OSError as error:
            why = f"{error.strerror or error}: {command[0]!r}" if command else str(error)
            raise CannotStart(f"CannotStartContainerError: {launch.container}: {why}") from None
        return process.url

    def environment(self, environment: Mapping[str, str]) -> dict[str, str]:
        """A task's whole environment: what ECS sets for every task, then its container's own
        (``environment``: the task definition's, with RunTask's overrides), and nothing else.

        ECS sets AWS_EXECUTION_ENV (AWS_ECS_FARGATE on Fargate), AWS_REGION and AWS_DEFAULT_REGION,
        and the endpoints a task reaches at 169.254.170.2: ECS_CONTAINER_METADATA_URI(_V4),
        ECS_AGENT_URI and, with a task role, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ("Amazon ECS
        environment variables", ECS developer guide,
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-environment-variables.html).
        A host process cannot reach them at that address (the Docker runtime serves them to its
        containers), and an SDK sent to a credentials endpoint that does not answer fails, so the task
        role's stand-in is the local endpoint and its keys: the app's own AWS calls stay on this machine."""
        assert self.host is not None, "the runtime has not been started"
        region = self.host.region
        return {
            "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            **local_credentials(self.host.endpoint),
            **environment,
        }

    def exited(self, task: Task) -> TaskExit | None:
        """How a task's process ended on its own (not stopped), else None."""
        process = self.processes.get(task.arn)
        return TaskExit(process.returncode) if process is not None and process.crashed else None

    async def wait(self, task: Task) -> TaskExit:
        return TaskExit(await self.processes[task.arn].wait_exit(timeout=24 * 3600))

    async def stop_task(self, task: Task) -> int | None:
        """SIGTERM, then SIGKILL after 2 s; the exit status (None: there was no process)."""
        process = self.processes.get(task.arn)
        if process is None:
            return None
        status = await process.stop(grace=2.0)
        await self.fork_servers.close_idle()  # a drained revision's server goes with its last task
        return status

    def health(self, task: Task) -> str | None:
        return None  # no container health check runs: the load balancer's checks are the only ones
