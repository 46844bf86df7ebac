"""Invoke a hook entry file the way Lambda does, capturing its decision, timing and log lines."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_bg.local.lambda_.context import LocalLambdaContext

Handler = Callable[[Any, Any], Any]


@dataclass
class LoadedHook:
    """An entry file imported once (a warm container) with its log output captured."""

    path: Path
    handler: Handler
    logs: io.StringIO


@dataclass(frozen=True)
class Invocation:
    response: Any
    duration_ms: float
    logs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reason(self) -> str:
        decision: dict[str, Any] = next(
            (line for line in reversed(self.logs) if line.get("message") == "hook decision"), {}
        )
        return str(decision.get("reason") or "")


def load_hook(path: Path, handler_name: str = "handler") -> LoadedHook:
    """Import ``path`` as Lambda would; stdout written while importing (loggers) is captured."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered under its name before it runs, as an import (and Lambda's) does: dataclasses declared
    # under `from __future__ import annotations` look their module up there.
    sys.modules[spec.name] = module
    logs = io.StringIO()
    # Loggers bind the stream current when they are made, so their lines land in ``logs`` from now on.
    with contextlib.redirect_stdout(logs):
        spec.loader.exec_module(module)
    handler = getattr(module, handler_name, None)
    if not callable(handler):
        raise AttributeError(f"{path}: no callable {handler_name!r}")
    return LoadedHook(path, handler, logs)


def invoke(hook: LoadedHook, event: Any, context: LocalLambdaContext) -> Invocation:
    """Call the handler once; what it logged during the call comes back parsed."""
    start = hook.logs.tell()
    began = time.perf_counter()
    with contextlib.redirect_stdout(hook.logs):
        response = hook.handler(event, context)
    duration_ms = (time.perf_counter() - began) * 1000
    hook.logs.seek(start)
    lines = []
    for line in hook.logs.read().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            lines.append(json.loads(line))
    return Invocation(response, round(duration_ms, 1), lines)
