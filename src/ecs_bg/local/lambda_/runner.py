"""Run Lambda functions the way Lambda does: in worker processes, cold then warm, with a timeout.

Each function keeps idle workers (warm execution environments); an invocation takes one or starts
a new one (a cold start: a fresh interpreter importing the handler's module, or one forked from a
server that has imported the runtime's SDK already: ``forkserver``). The function's
timeout is enforced by killing the worker, as Lambda ends an environment that overruns; the next
invocation starts cold. The runner talks to a worker over a private socket; the worker's stdout and
stderr both go to a file the runner owns, so everything the function prints or logs is captured per
invocation (also when it times out or crashes), and nothing it prints can break the protocol. What
comes back is judged by the caller exactly as ECS judges it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from ecs_bg.deploy.functions import LambdaFunction
from ecs_bg.deploy.interpreter import startup_environment
from ecs_bg.local.forkserver import ForkedProcess, ForkServers, ServerKind
from ecs_bg.local.lambda_.packages import (
    RUNTIME_DISTRIBUTIONS,
    Package,
    PackagingFailed,
    forkable,
    package,
    provided_modules,
)
from ecs_bg.local.parent_death import ends_with_parent

DEFAULT_REGION: Final = "us-east-1"
# Where this local runtime's bootstrap (the worker) lives, as Lambda's is in /var/runtime.
RUNTIME_DIR: Final = Path(__file__).resolve().parent
START_TIMEOUT: Final = 30.0  # real seconds a cold start's import may take (Lambda's init phase: 10 s)
# What a worker's fork server imports ahead: the runtime's SDK (its dependencies come with it), the
# same for every function: Lambda's Python runtime ships it ("Building Lambda functions with Python",
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html); then botocore's data for the
# services hooks call, read once for every worker (sdk_data).
PRELOADED: Final = ("boto3", "ecs_bg.local.lambda_.sdk_data")


@dataclass(frozen=True)
class Invocation:
    function: str
    response: Any  # what the handler returned (None on error)
    error: str | None  # a function error: exception, timeout, crash, unserializable response
    duration_ms: float
    cold: bool
    output: str = ""  # everything the function wrote to stdout and stderr during it (and its init)
    init_output: str = ""  # of ``output``, what a cold start's init wrote (its first part)
    request_id: str = ""
    log_group: str = ""  # where Lambda would have put ``output``
    log_stream: str = ""

    @property
    def logs(self) -> list[dict[str, Any]]:
        """The output's JSON-object lines (structured logs such as Powertools'); other lines are skipped."""
        lines = []
        for line in self.output.splitlines():
            with contextlib.suppress(ValueError):
                parsed = json.loads(line)
                if isinstance(parsed, dict):
                    lines.append(parsed)
        return lines


@dataclass(frozen=True)
class Initialized:
    """An execution environment initialized ahead of its first invocation: where it logs, and what
    its init wrote."""

    log_group: str
    log_stream: str
    output: str


def lambda_environment(
    function: LambdaFunction, region: str, log_stream: str, initialization: str = "on-demand"
) -> dict[str, str]:
    """What Lambda's runtime sets in every execution environment (Lambda developer guide, "Defined
    runtime environment variables"); these names are reserved, so the function's own cannot change them.
    ``AWS_LAMBDA_INITIALIZATION_TYPE`` is on-demand, provisioned-concurrency or snap-start (same page,
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
    The execution role's keys and session token, reserved too, are the runner's ``environment``'s to
    give (``LambdaRunner``); ``_X_AMZN_TRACE_ID`` (X-Ray tracing) and ``AWS_LAMBDA_RUNTIME_API`` (a
    custom runtime's API) name nothing served here and are not set."""
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization,
        "AWS_LAMBDA_LOG_GROUP_NAME": function.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "LAMBDA_TASK_ROOT": str(function.code),
        "LAMBDA_RUNTIME_DIR": str(RUNTIME_DIR),
        "_HANDLER": function.handler,
        "TZ": ":UTC",
    }


def lambda_unreserved(function: LambdaFunction) -> dict[str, str]:
    """The variables Lambda sets that a function's configuration may change (same page): its locale,
    PATH and LD_LIBRARY_PATH. Lambda's LD_LIBRARY_PATH also names its image's own folders
    (/var/lang/lib, /lib64, /usr/lib64, /opt/lib); here the runtime's and the function's folders stand
    in, the system's being the dynamic loader's defaults anyway. The interpreter starts from its own
    path, not through PATH."""
    runtime, task = RUNTIME_DIR, function.code
    return {
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": f"{runtime}:{runtime}/lib:{task}:{task}/lib",
    }


def _log_stream() -> str:
    """A new execution environment's log stream, in Lambda's form ``YYYY/MM/DD/[$LATEST]<32 hex>``."""
    return f"{datetime.datetime.now(datetime.UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"


class _Worker:
    def __init__(
        self,
        process: asyncio.subprocess.Process | ForkedProcess,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        output: IO[bytes],
        log_stream: str,
    ) -> None:
        self.process = process
        self.reader = reader
        self.writer = writer
        self.output = output  # the file the worker's stdout and stderr write to
        self.log_stream = log_stream
        self.read_to = 0
        self.init_output = ""  # what its init wrote, once it is ready

    def take_output(self) -> str:
        """What the worker wrote since the last call."""
        # pread, not seek: the worker shares this file's offset, and it appends (O_APPEND) meanwhile.
        size = os.fstat(self.output.fileno()).st_size
        data = os.pread(self.output.fileno(), size - self.read_to, self.read_to)
        self.read_to += len(data)
        return data.decode(errors="replace")

    async def answer(self) -> dict[str, Any]:
        line = await self.reader.readline()
        if not line:
            raise ConnectionError(f"Runtime.ExitError: the worker exited with {await self.process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.writer.write((json.dumps(payload) + "\n").encode())
        await self.writer.drain()
        return await self.answer()

    async def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()
        self.writer.close()

    async def end(self) -> str:
        """Kill it (a timeout, a crash): what it wrote last."""
        await self.kill()
        output = self.take_output()
        self.output.close()
        return output


class LambdaRunner:
    def __init__(
        self,
        functions: dict[str, LambdaFunction],
        *,
        environment: dict[str, str] | None = None,
        cwd: Path | None = None,
        fork_servers: ForkServers | None = None,
    ) -> None:
        """``functions`` by the id callers invoke them with; ``environment`` is every function's, under
        each function's own environment and Lambda's reserved variables: the execution role's access
        (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or a profile), AWS_ENDPOINT_URL.
        A worker gets nothing else: never this process's own environment. With ``fork_servers`` (owned
        by the caller) a cold start forks from one of them where it can (``forkserver``)."""
        self.functions = functions
        self.environment = environment or {}
        self.cwd = cwd
        self._idle: dict[str, list[_Worker]] = {name: [] for name in functions}
        self._busy: set[_Worker] = set()
        self._provisioning: dict[str, asyncio.Task[_Worker]] = {}
        self._packages: dict[str, asyncio.Future[Package]] = {}  # function name -> its package
        self.fork_servers = fork_servers

    async def provision(self, name: str) -> Initialized | None:
        """Start a worker for ``name`` ahead of its first invocation, as Lambda's provisioned
        concurrency initializes an execution environment before it is invoked: that invocation is
        then warm. A worker that fails to start is dropped; the invocation cold-starts and says why.
        None: there was nothing to start (a worker is idle or starting) or it failed."""
        if self._idle[name] or name in self._provisioning:
            return None
        function = self.functions[name]
        starting = asyncio.ensure_future(self._start(function, "provisioned-concurrency"))
        self._provisioning[name] = starting
        try:
            worker = await starting
        except _StartFailed:
            return None
        finally:
            del self._provisioning[name]
        self._idle[name].append(worker)
        return Initialized(function.log_group, worker.log_stream, worker.init_output)

    async def invoke(self, name: str, event: Any) -> Invocation:
        function = self.functions[name]
        began = time.perf_counter()
        if name in self._provisioning:  # being initialized ahead: this invocation waits for it
            await asyncio.wait([self._provisioning[name]])
        cold = not self._idle[name]
        request_id = str(uuid.uuid4())
        record = {"request_id": request_id, "log_group": function.log_group}
        init_output = ""
        if cold:
            try:
                worker = await self._start(function)
            except _StartFailed as failed:
                output = failed.output  # all of it from the init that failed
                return Invocation(name, None, failed.error, _ms(began), cold, output, output, **record)
            init_output = worker.init_output
        else:
            worker = self._idle[name].pop()
        self._busy.add(worker)
        payload = {
            "event": event,
            "context": {
                "function_name": function.name,
                "timeout_seconds": function.timeout_seconds,
                "deadline_ms": int((time.time() + function.timeout_seconds) * 1000),
                "memory_limit_in_mb": function.memory_mb,
                "aws_request_id": request_id,
                "region": self._region(),
                "log_stream_name": worker.log_stream,
            },
        }
        record["log_stream"] = worker.log_stream
        # The function's deadline counts from the call, as Lambda's does; a cold start's import
        # happened before it (Lambda's init phase has its own limit).
        error: str | None = None
        answer: dict[str, Any] = {}
        try:
            answer = await asyncio.wait_for(worker.request(payload), timeout=function.timeout_seconds)
        except TimeoutError:
            # Lambda's own words, seconds to two places: AWS's runtime interface emulator writes
            # "Task timed out after %.2f seconds" (aws/aws-lambda-runtime-interface-emulator,
            # internal/lambda-managed-instances/rapid/invoke, BuildInvokeAppError).
            error = f"Task timed out after {function.timeout_seconds:.2f} seconds"
        except (ConnectionError, OSError, ValueError) as failure:
            error = str(failure)
        except asyncio.CancelledError:
            # Whoever asked has gone (a stop): the worker would run on, untracked, past its parent.
            await asyncio.shield(worker.end())
            raise
        finally:
            self._busy.discard(worker)
        if error is not None:
            output = init_output + await worker.end()
            return Invocation(name, None, error, _ms(began), cold, output, init_output, **record)
        self._idle[name].append(worker)
        output = init_output + worker.take_output()
        return Invocation(
            name, answer.get("response"), answer.get("error"), _ms(began), cold, output, init_output, **record
        )

    async def _package(self, function: LambdaFunction) -> Package:
        """The function's package, built once per runner (a cold start reuses it, as Lambda reuses
        the deployment package)."""
        if function.name not in self._packages:
            self._packages[function.name] = asyncio.ensure_future(package(function))
        try:
            return await asyncio.shield(self._packages[function.name])
        except PackagingFailed:
            del self._packages[function.name]  # the next cold start tries again
            raise

    def _region(self) -> str:
        env = self.environment
        return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION

    async def _start(self, function: LambdaFunction, initialization: str = "on-demand") -> _Worker:
        log_stream = _log_stream()
        env = {
            **lambda_unreserved(function),
            **self.environment,
            **function.environment,
            **lambda_environment(function, self._region(), log_stream, initialization),
            "PYTHONUNBUFFERED": "1",  # a line printed just before a timeout still reaches the log
        }
        env.setdefault("POWERTOOLS_SERVICE_NAME", function.hook or function.name)
        if function.unavailable is not None:
            raise _StartFailed(f"Runtime.ImportModuleError: {function.unavailable}", "")
        try:
            built = await self._package(function)
        except PackagingFailed as error:
            raise _StartFailed(f"Runtime.ImportModuleError: {error}", "") from None
        ours, theirs = socket.socketpair()
        output = tempfile.TemporaryFile("a+b")  # noqa: SIM115 - closed with the worker
        packaged = {"folders": [str(f) for f in built.folders], "provided": sorted(built.provided)}
        cwd = self.cwd or built.folders[0]  # Lambda runs the function in its task root (/var/task)
        process: asyncio.subprocess.Process | ForkedProcess | None = None
        try:
            loader_changed = "LD_PRELOAD" in env or (
                env.get("LD_LIBRARY_PATH") != lambda_unreserved(function)["LD_LIBRARY_PATH"]
            )
            servers = self.fork_servers
            if servers is not None and forkable(
                built.folders, _runtime_modules(), loader_changed=loader_changed
            ):
                with contextlib.suppress(OSError):  # no server: the worker starts as a fresh interpreter
                    # Kept for this process's next run: it names nothing of this one (KEPT).
                    server = await servers.get(
                        ServerKind.of(startup_environment(env), RUNTIME_DIR, PRELOADED, keep=True)
                    )
                    request = {
                        "entry": "ecs_bg.local.lambda_.worker:forked",
                        "env": env,
                        "cwd": str(cwd),
                        "package": packaged,
                        "handler": function.handler,
                    }
                    process = await server.spawn(request, [output.fileno(), theirs.fileno()])
            if process is None:
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-P",  # the working directory (the task root) is not where the worker's own code is
                    "-m",
                    "ecs_bg.local.lambda_.worker",
                    str(theirs.fileno()),
                    json.dumps(packaged),
                    function.handler,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                    env=env,
                    cwd=cwd,
                    pass_fds=(theirs.fileno(),),
                    preexec_fn=ends_with_parent(),  # a worker busy in its handler ends with a killed ecs-bg
                )
        except OSError as error:
            ours.close()
            output.close()
            raise _StartFailed(f"Runtime.ExitError: {error}", "") from None
        finally:
            theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours)
        worker = _Worker(process, reader, writer, output, log_stream)
        try:
            ready = await asyncio.wait_for(worker.answer(), timeout=START_TIMEOUT)
        except asyncio.CancelledError:  # stopped during a cold start: the worker goes too
            await asyncio.shield(worker.end())
            raise
        except (TimeoutError, ConnectionError, ValueError) as error:
            ready = {"ready": False, "error": f"Runtime.ExitError: the worker did not start: {error}"}
        if not ready.get("ready"):
            raise _StartFailed(str(ready.get("error", "the worker did not start")), await worker.end())
        worker.init_output = worker.take_output()
        return worker

    async def close(self) -> None:
        for building in self._packages.values():
            building.cancel()
        for starting in list(self._provisioning.values()):
            starting.cancel()
        await asyncio.gather(*self._provisioning.values(), return_exceptions=True)
        workers = [w for idle in self._idle.values() for w in idle] + list(self._busy)
        for worker in workers:
            worker.writer.close()  # the worker's request loop ends: it exits
        for worker in workers:
            try:
                await asyncio.wait_for(worker.process.wait(), timeout=2)
            except TimeoutError:
                await worker.kill()
            worker.output.close()
        for idle in self._idle.values():
            idle.clear()
        self._busy.clear()


class _StartFailed(Exception):
    def __init__(self, error: str, output: str) -> None:
        super().__init__(error)
        self.error = error
        self.output = output


def _runtime_modules() -> frozenset[str]:
    return provided_modules(RUNTIME_DISTRIBUTIONS)


def _ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 1)
