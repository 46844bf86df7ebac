"""``ecs-bg demo`` as a newcomer runs it: a real subprocess from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_demo_shows_a_deployment_and_a_rollback() -> None:
    wide = {**os.environ, "COLUMNS": "250"}  # one table row per line, so reasons read whole
    done = subprocess.run(
        [sys.executable, "-m", "ecs_bg.cli", "demo"],
        cwd=ROOT,
        env=wide,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "healthy green: SUCCESSFUL" in out
    assert "ROLLBACK_SUCCESSFUL" in out
    assert "status 500, expected 200" in out
    assert "rollback in progress" in out
    assert "answered 200" in out
