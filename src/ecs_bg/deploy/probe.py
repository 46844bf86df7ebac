"""What a hook function's code declares, learned by importing it as Lambda would, in its own process.

``python -m ecs_bg.deploy.probe CODE HANDLER`` reads a JSON list of hookDetails objects on stdin and
prints one JSON object: whether the handler is an ecs_bg ``LifecycleHook``, the checks its code
registers with their IAM permissions, and each hookDetails' problems as that hook itself judges
them (its own ``custom_keys``, the built-in and registered checks' settings). A hook not built on
ecs_bg judges nothing: its keys are its own. The CDK app grants the registered checks'
permissions; ``ecs-bg lint`` reports the problems (ECS025).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import LambdaFunction

PROBE_TIMEOUT = 60.0  # real seconds to import a hook's code


@dataclass(frozen=True)
class Probed:
    ecs_bg: bool
    # check name -> its permissions: {"actions": [...], "resource": ..., "wildcardReason": ...}
    checks: dict[str, list[dict[str, Any]]]
    problems: list[list[tuple[str, str]]]  # per hookDetails given: (path, reason)


def probe(function: LambdaFunction, details: list[dict[str, Any]] | None = None) -> Probed:
    """Import ``function``'s handler in a fresh interpreter; ``DefinitionError`` if it cannot."""
    try:
        done = subprocess.run(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-m", "ecs_bg.deploy.probe", str(function.code), function.handler],
            input=json.dumps(details or []),
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
    from ecs_bg.hooks.checks import custom_checks, validate_hook_details
    from ecs_bg.hooks.handler import LifecycleHook

    details = json.loads(sys.stdin.read() or "[]")
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever the hook prints while importing stays off the answer
    function = load_handler(code, handler)
    hook = getattr(function, "__self__", None)
    problems = [
        [[e.path, e.reason] for e in validate_hook_details(d, hook.custom_keys)]
        if isinstance(hook, LifecycleHook)
        else []
        for d in details
    ]
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


if __name__ == "__main__":
    sys.exit(_main(Path(sys.argv[1]).as_posix(), sys.argv[2]))
