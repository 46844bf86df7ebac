"""``ecs-bg --help`` stays fast: the commands import their heavy dependencies only when they run.

A fresh interpreter each time, since this process has long imported everything.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "aiohttp", "moto", "cfnlint", "ecs_bg.simulate.simulation")
LOADED = f"sorted(m for m in {HEAVY!r} if m in sys.modules)"


@pytest.mark.parametrize(
    "code",
    [
        f"import ecs_bg.cli.main, sys; print({LOADED})",
        # What --help and argument parsing do: typer builds every command from its signature.
        f"import sys, typer; from ecs_bg.cli.main import app; typer.main.get_command(app); print({LOADED})",
    ],
    ids=["import", "build-commands"],
)
def test_the_cli_imports_no_heavy_dependency_before_a_command_runs(code: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
