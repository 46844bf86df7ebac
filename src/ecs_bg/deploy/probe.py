"""What a hook function's code declares, learned by importing it as Lambda would, in its own process.

``python -m ecs_bg.deploy.probe CODE HANDLER`` reads a JSON list of hookDetails objects on stdin and
prints one JSON object: whether the handler is an ecs_bg ``LifecycleHook``, the checks its code
registers with their IAM permissions, and each hookDetails' problems as that hook itself judges
them when it starts (its own ``custom_keys``, the built-in and registered checks' settings), over
its entry file's defaults and the function's ``ECS_BG_HOOK_DETAILS`` as at run time. A hook not
built on ecs_bg judges nothing: its keys are its own. The CDK app grants the registered checks'
permissions; ``ecs-bg lint`` (ECS025) and the stack's hookDetails context
(``stack_context.hook_details_problems``) report the problems.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.hooks.config import HOOK_DETAILS_ENV

if TYPE_CHECKING:  # not imported in the probing process, which starts once per hook and should be quick
    from ecs_bg.deploy.functions import LambdaFunction
    from ecs_bg.hooks.handler import LifecycleHook

PROBE_TIMEOUT = 60.0  # real seconds to import a hook's code
# What this process has learned already, by everything the answer depends on (``_inputs``): `ecs-bg
# simulate` judges each hook's hookDetails twice (lint, then the world's functions), each a process.
_PROBED: dict[tuple[object, ...], Probed] = {}


@dataclass(frozen=True)
class Probed:
    ecs_bg: bool
    # check name -> its permissions: {"actions": [...], "resource": ..., "wildcardReason": ...}
    checks: dict[str, list[dict[str, Any]]]
    problems: list[list[tuple[str, str]]]  # per hookDetails given: (path, reason)


def probe(function: LambdaFunction, details: list[dict[str, Any]] | None = None) -> Probed:
    """Import ``function``'s handler in a fresh interpreter with the function's environment, as Lambda
    would (its code may read a variable as it loads); ``DefinitionError`` if it cannot."""
    environment = {**os.environ, **function.environment}
    if HOOK_DETAILS_ENV not in function.environment:  # only the function's own layer, never the caller's
        environment.pop(HOOK_DETAILS_ENV, None)
    key = _inputs(function, details or [], environment)
    if key not in _PROBED:
        _PROBED[key] = _probe(function, details or [], environment)
    return _PROBED[key]


def _inputs(
    function: LambdaFunction, details: list[dict[str, Any]], environment: dict[str, str]
) -> tuple[object, ...]:
    """What a probe's answer depends on: the function's code and this interpreter's ecs_bg.hooks as
    their files are now (an edit while `ecs-bg local` runs probes again), its handler, environment and
    the hookDetails judged."""
    hooks = importlib.util.find_spec("ecs_bg.hooks")  # found, not imported
    folders = [function.code, *map(Path, (hooks and hooks.submodule_search_locations) or [])]
    return (
        str(function.code),
        function.handler,
        json.dumps(details, sort_keys=True, default=str),
        frozenset(environment.items()),
        tuple(_files(folder) for folder in folders),
    )


def _files(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file below ``folder`` with its modification time and size (compiled bytecode aside)."""
    found: list[tuple[str, int, int]] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            with contextlib.suppress(OSError):  # gone since the listing: its absence is in the key
                stat = os.stat(os.path.join(root, name))
                found.append((os.path.join(root, name), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


def _probe(function: LambdaFunction, details: list[dict[str, Any]], environment: dict[str, str]) -> Probed:
    try:
        done = subprocess.run(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-m", "ecs_bg.deploy.probe", str(function.code), function.handler],
            env=environment,
            input=json.dumps(details),
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DefinitionError(
            f"{function.name}: importing {function.handler} took over {PROBE_TIMEOUT:g} s"
        ) from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        why = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        raise DefinitionError(
            f"{function.name}: cannot import {function.handler} from {function.code}: {why}"
        )
    answer = json.loads(lines[-1])
    return Probed(
        answer["ecsBg"],
        answer["checks"],
        [[(str(path), str(reason)) for path, reason in problems] for problems in answer["problems"]],
    )


def _main(code: str, handler: str) -> int:
    from ecs_bg.deploy.handler import load_handler
    from ecs_bg.hooks.checks import custom_checks
    from ecs_bg.hooks.handler import LifecycleHook

    details = json.loads(sys.stdin.read() or "[]")
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever the hook prints while importing stays off the answer
    function = load_handler(code, handler)
    hook = getattr(function, "__self__", None)
    problems = [_judged(hook, d) if isinstance(hook, LifecycleHook) else [] for d in details]
    checks = {
        name: [
            {"actions": list(p.actions), "resource": p.resource, "wildcardReason": p.wildcard_reason}
            for p in check.permissions
        ]
        for name, check in custom_checks().items()
    }
    is_ecs_bg = isinstance(hook, LifecycleHook)
    out.write(json.dumps({"ecsBg": is_ecs_bg, "checks": checks, "problems": problems}) + "\n")
    return 0


def _judged(hook: LifecycleHook, details: dict[str, Any]) -> list[list[str]]:
    """The problems of ``details`` as ``hook`` judges them when it starts: layered over its entry file's
    defaults and ECS_BG_HOOK_DETAILS (which may give a check's required settings), each problem of a
    key that ``details`` set; the other layers' keys are theirs to answer for."""
    from ecs_bg.hooks.checks import validate_hook_details
    from ecs_bg.hooks.config import ConfigError, layered_details

    try:
        layered = layered_details(hook.defaults, details)
    except ConfigError as error:  # ECS_BG_HOOK_DETAILS itself is no JSON object: every run fails so
        return [[error.path, error.reason]]
    return [
        [e.path, e.reason]
        for e in validate_hook_details(layered, hook.custom_keys)
        if any(e.path == key or e.path.startswith((f"{key}.", f"{key}[")) for key in details)
    ]


if __name__ == "__main__":
    sys.exit(_main(Path(sys.argv[1]).as_posix(), sys.argv[2]))
