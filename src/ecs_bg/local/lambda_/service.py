"""The local Lambda: the functions a deployment's hooks name, each run as Lambda runs it.

The functions are the stack's (as the CDK app builds them) with simulation.yml's overrides and
additions. Each has its own runner (its execution environments); each invocation's log lines go to
CloudWatch Logs ``/aws/lambda/<function>`` behind the local endpoint, as Lambda writes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecs_bg.deploy.functions import LambdaFunction
from ecs_bg.hooks.aws import error_code
from ecs_bg.local.forkserver import ForkServers
from ecs_bg.local.lambda_.runner import Invocation, LambdaRunner


class LambdaService:
    def __init__(
        self,
        functions: Mapping[str, LambdaFunction],
        *,
        timeout_cap: Callable[[str], float | None],
        environment: Callable[[], dict[str, str]],
        logs: Callable[[], Any],
    ) -> None:
        """``functions`` by name; ``timeout_cap(name)``: the real seconds a function may run at most
        (None: its own timeout); ``environment()``: what every function's environment holds besides its own;
        ``logs()``: the local CloudWatch Logs client."""
        self.functions = dict(functions)
        self.runners: dict[str, LambdaRunner] = {}  # function name -> its runner
        self.fork_servers = ForkServers()  # every function's cold starts fork from these
        self._timeout_cap = timeout_cap
        self._environment = environment
        self._logs = logs
        self._log_streams: set[tuple[str, str]] = set()  # (group, stream) made in CloudWatch Logs

    async def close(self) -> None:
        await asyncio.gather(*(runner.close() for runner in self.runners.values()))
        await self.fork_servers.close()  # after the workers it forked

    def _runner(self, name: str) -> LambdaRunner | None:
        """The runner of function ``name`` (None: there is no such function)."""
        runner = self.runners.get(name)
        function = self.functions.get(name)
        if runner is None and function is not None:
            cap = self._timeout_cap(name)
            if cap is not None:
                function = dataclasses.replace(function, timeout_seconds=min(function.timeout_seconds, cap))
            runner = self.runners[name] = LambdaRunner(
                {name: function}, environment=self._environment(), fork_servers=self.fork_servers
            )
        return runner

    async def provision(self, names: Sequence[str]) -> None:
        """Initialize the functions ahead of their first invocation (``LambdaRunner.provision``): a
        deployment's hooks then take what their handlers take, not a Python start each. Each
        environment's init is logged as Lambda logs it."""
        runners = [(name, self._runner(name)) for name in dict.fromkeys(names)]

        async def provision(name: str, runner: LambdaRunner) -> None:
            initialized = await runner.provision(name)
            if initialized is not None:
                lines = [_init_start(), *_lines(initialized.output)]
                await asyncio.to_thread(self._put_logs, initialized.log_group, initialized.log_stream, lines)

        await asyncio.gather(*(provision(name, runner) for name, runner in runners if runner is not None))

    async def invoke(self, name: str, event: dict[str, Any]) -> Invocation:
        """Invoke function ``name`` as Lambda would run it (``ecs_bg.deploy.functions``)."""
        runner = self._runner(name)
        if runner is None:
            # Lambda's answer to an unknown function; ECS takes a failed invocation as FAILED.
            return Invocation(name, None, f"ResourceNotFoundException: Function not found: {name}", 0, False)
        done = await runner.invoke(name, event)
        await asyncio.to_thread(self._write_logs, done)
        return done

    def _write_logs(self, done: Invocation) -> None:
        """START, everything the function wrote, END and REPORT in its stream of ``/aws/lambda/<name>``,
        as Lambda writes them (the stream is its worker's: one per execution environment), after a
        cold start's INIT_START and what its init wrote."""
        group = done.log_group or f"/aws/lambda/{done.function}"
        stream = done.log_stream or f"{time.strftime('%Y/%m/%d')}/[$LATEST]{secrets.token_hex(16)}"
        request = done.request_id or secrets.token_hex(8)
        lines = [_init_start(), *_lines(done.init_output)] if done.cold else []
        lines.append(f"START RequestId: {request} Version: $LATEST")
        lines += _lines(done.output[len(done.init_output) :])
        if done.error:
            lines.append(json.dumps({"errorMessage": done.error}))
        lines += [
            f"END RequestId: {request}",
            f"REPORT RequestId: {request}\tDuration: {done.duration_ms} ms",
        ]
        self._put_logs(group, stream, lines)

    def _put_logs(self, group: str, stream: str, lines: list[str]) -> None:
        """Append ``lines`` to the stream, making it (and its group) the first time, or again when
        someone deleted it meanwhile (``aws logs delete-log-group``). Lambda's log delivery is not
        the invocation: a log that cannot be written is lost, and nothing else. Errors are told by
        their code, not by the client's exception classes: threads sharing a new client may each
        make those."""
        logs = self._logs()
        events = [{"timestamp": int(time.time() * 1000), "message": line} for line in lines]
        with contextlib.suppress(BotoCoreError, ClientError):
            if (group, stream) in self._log_streams:
                with ignoring("ResourceNotFoundException"):
                    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
                    return
            with ignoring("ResourceAlreadyExistsException"):
                logs.create_log_group(logGroupName=group)
            with ignoring("ResourceAlreadyExistsException"):
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
            self._log_streams.add((group, stream))
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def _init_start() -> str:
    """The line Lambda logs each time it creates an execution environment, naming its runtime
    ("Identifying Lambda runtime version changes", Lambda developer guide,
    https://docs.aws.amazon.com/lambda/latest/dg/runtime-management-identify.html)."""
    return f"INIT_START Runtime Version: python:{sys.version_info.major}.{sys.version_info.minor}.local"


@contextlib.contextmanager
def ignoring(code: str) -> Iterator[None]:
    """Suppress the AWS error ``code`` (a ClientError with that code), and only it."""
    try:
        yield
    except ClientError as error:
        if error_code(error) != code:
            raise


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]
