"""``ecs-bg`` run as a user runs it: a subprocess of this environment's interpreter, in a folder of the
test's choosing, with a wide terminal so that one-line errors stay on one line; and, for a command
that ends by itself (a refusal, a lint, a simulation), the same command run in the test's own process."""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

WIDE = {"COLUMNS": "250"}


def ecs_bg(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``ecs-bg args…`` in ``cwd`` with ``env`` (default: this process's), its exit status and output."""
    return subprocess.run(
        [sys.executable, "-m", "ecs_bg.cli", *args],
        cwd=cwd,
        env={**(os.environ if env is None else env), **WIDE},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ecs_bg_here(
    *args: str, cwd: Path, env: Mapping[str, str | None] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``ecs-bg args…`` in ``cwd``, in this process, for a command that ends by itself and stops what it
    started (a refusal, a lint, a simulation): the exit status and output a user would see, without an
    interpreter to start and ecs-bg's libraries to import (0.5 to 1.5 s of CPU a command). ``env``: the
    variables to set, or to unset (None), for the command's run. An exception escaping the command
    fails the test, as a traceback would. What only a process shows (what it imports, starts and asks
    first; signals) is tested through ``ecs_bg`` (tests/cli/test_lazy_imports.py,
    tests/sim/test_local_ecs_cli.py). A command still running after ``timeout`` seconds ends this
    process, printing where each thread was, as a subprocess's timeout would end the test: no hang
    holds a test run up."""
    from typer.testing import CliRunner

    from ecs_bg.cli.main import app

    faulthandler.dump_traceback_later(timeout, exit=True)
    try:
        with contextlib.chdir(cwd):
            done = CliRunner().invoke(app, list(args), env={**(env or {}), **WIDE}, catch_exceptions=False)
    finally:
        faulthandler.cancel_dump_traceback_later()
    return subprocess.CompletedProcess(["ecs-bg", *args], done.exit_code, done.stdout, done.stderr)


def diagnosis(outcome: dict[str, Any]) -> str:
    """What a failed simulation's report says went wrong: the first failed requests, the tasks the scheduler
    replaced (with why they stopped) and the reason for a rollback."""
    production = outcome["traffic"]["production"]
    return "\n" + json.dumps(
        {
            "rollbackReason": outcome["rollbackReason"],
            "failures": production["failures"][:5],
            "replacements": outcome["tasks"]["replacements"][:10],
            "stages": outcome["stages"],
        },
        indent=1,
    )
