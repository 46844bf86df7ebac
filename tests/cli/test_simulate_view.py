"""``ecs-bg simulate`` as ``make demo`` runs it: with the live view (no ``--quiet``), to the end."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # a whole simulated deployment


def test_the_live_view_follows_the_deployment_to_its_end() -> None:
    env = {**os.environ, "COLUMNS": "160"}
    done = subprocess.run(
        [sys.executable, "-m", "ecs_bg.cli", "simulate"],
        capture_output=True, text=True, timeout=240, cwd=ROOT, env=env, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output, output
    # The view's last state stays on screen: every stage's table row and the final status.
    assert "BLUE_GREEN deployment: SUCCESSFUL" in output, output
    assert "CLEAN_UP" in output
    assert "after_allow_traffic" in output  # hooks under the names the report gives them
    assert "scenario good: SUCCESSFUL" in output
