"""``ecs-bg`` run as a user runs it: a subprocess of this environment's interpreter, in a folder of the
test's choosing, with a wide terminal so that one-line errors stay on one line; and, for a command
that starts nothing (a refusal, a lint), the same command run in the test's own process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

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
    *args: str, cwd: Path, env: Mapping[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    """``ecs-bg args…`` in ``cwd``, in this process, for a command that stops before it starts anything
    (a refusal, a lint): the exit status and output a user would see, without an interpreter to start
    and ecs-bg's libraries to import (0.5 to 0.8 s of CPU a command). ``env``: the variables to set, or
    to unset (None), for the command's run. An exception escaping the command fails the test, as a
    traceback would. What only a process shows (what it imports, starts and asks first; signals) is
    tested through ``ecs_bg`` (tests/cli/test_lazy_imports.py)."""
    from typer.testing import CliRunner

    from ecs_bg.cli.main import app

    with contextlib.chdir(cwd):
        done = CliRunner().invoke(app, list(args), env={**(env or {}), **WIDE}, catch_exceptions=False)
    return subprocess.CompletedProcess(["ecs-bg", *args], done.exit_code, done.stdout, done.stderr)
