"""Run hook entry files the way Lambda does: in worker processes, cold then warm, with a timeout.

Each function keeps idle workers (warm execution environments); an invocation takes one or starts
a new one (a cold start: a fresh interpreter importing the entry file). The function's timeout is
enforced by killing the worker, as Lambda ends an environment that overruns; the next invocation
starts cold. What comes back is judged by the caller exactly as ECS judges it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

# The seed's entry files, found from this source tree (the repository), never from the working directory.
INFRASTRUCTURE: Final = Path(__file__).resolve().parents[3] / "infrastructure"
LAMBDA_DIR: Final = INFRASTRUCTURE / "lib" / "constructs" / "lambda"
# The CDK app's settings: its hookDetails context reaches each function as ECS_BG_HOOK_DETAILS.
CDK_JSON: Final = INFRASTRUCTURE / "cdk.json"


@dataclass(frozen=True)
class FunctionSpec:
    entry: Path  # the entry file, e.g. infrastructure/lib/constructs/lambda/before_install_hook.py
    timeout_seconds: float = 300.0
    memory_mb: int = 256
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Invocation:
    function: str
    response: Any  # what the handler returned (None on error)
    error: str | None  # a function error: exception, timeout, crash, unserializable response
    duration_ms: float
    cold: bool
    logs: list[dict[str, Any]] = field(default_factory=list)


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write((json.dumps(payload) + "\n").encode())
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            raise ConnectionError(f"Runtime.ExitError: the worker exited with {await self.process.wait()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()


class LambdaRunner:
    def __init__(
        self,
        functions: dict[str, FunctionSpec],
        *,
        environment: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.functions = functions
        self.environment = environment or {}
        self.cwd = cwd
        self._idle: dict[str, list[_Worker]] = {name: [] for name in functions}
        self._busy: set[_Worker] = set()

    async def invoke(self, name: str, event: Any) -> Invocation:
        spec = self.functions[name]
        began = time.perf_counter()
        cold = not self._idle[name]
        try:
            worker = self._idle[name].pop() if not cold else await self._start(name, spec)
        except (ConnectionError, OSError) as error:
            return Invocation(name, None, str(error), _ms(began), cold)
        self._busy.add(worker)
        payload = {
            "event": event,
            "context": {
                "function_name": name,
                "timeout_seconds": spec.timeout_seconds,
                "memory_limit_in_mb": spec.memory_mb,
                "aws_request_id": str(uuid.uuid4()),
            },
        }
        # The function's deadline counts from the call, as Lambda's does; a cold start's import
        # happened before it (Lambda's init phase has its own limit).
        try:
            answer = await asyncio.wait_for(worker.request(payload), timeout=spec.timeout_seconds)
        except TimeoutError:
            await worker.kill()
            return Invocation(
                name, None, f"Task timed out after {spec.timeout_seconds:g} seconds", _ms(began), cold
            )
        except (ConnectionError, OSError) as error:
            await worker.kill()
            return Invocation(name, None, str(error), _ms(began), cold)
        except asyncio.CancelledError:
            # Whoever asked has gone (a stop): the worker would run on, untracked, past its parent.
            await asyncio.shield(worker.kill())
            raise
        finally:
            self._busy.discard(worker)
        if worker.process.returncode is None:
            self._idle[name].append(worker)
        return Invocation(
            name, answer.get("response"), answer.get("error"), _ms(began), cold, answer.get("logs", [])
        )

    async def _start(self, name: str, spec: FunctionSpec) -> _Worker:
        env = {**os.environ, **self.environment, **spec.environment, "AWS_LAMBDA_FUNCTION_NAME": name}
        env.setdefault("POWERTOOLS_SERVICE_NAME", name)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ecs_bg.sim.worker",
            str(spec.entry),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            cwd=self.cwd,
        )
        worker = _Worker(process)
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        except asyncio.CancelledError:  # stopped during a cold start: the worker goes too
            await asyncio.shield(worker.kill())
            raise
        ready = json.loads(
            line or b'{"ready": false, "error": "Runtime.ExitError: the worker exited at start"}'
        )
        if not ready.get("ready"):
            await worker.kill()
            raise ConnectionError(ready.get("error", "the worker did not start"))
        return worker

    async def close(self) -> None:
        workers = [w for idle in self._idle.values() for w in idle] + list(self._busy)
        for worker in workers:
            if worker.process.stdin is not None:
                worker.process.stdin.close()
        for worker in workers:
            try:
                await asyncio.wait_for(worker.process.wait(), timeout=2)
            except TimeoutError:
                await worker.kill()
        for idle in self._idle.values():
            idle.clear()
        self._busy.clear()


def _ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 1)
