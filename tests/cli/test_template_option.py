"""``--template`` on ``simulate`` and ``local``: the command line names the synthesized stacks the local
world is built from, over simulation.yml's ``template:``, and a bad one is refused before anything starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.ecs_bg_process import ecs_bg_here


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecs_bg.cli", *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip


def here_or_run(*args: str) -> subprocess.CompletedProcess[str]:
    """``simulate`` reads its template before it starts anything: it is run in this process. ``local``
    asks the Docker engine and sets up its logging first: it runs as its own process."""
    return ecs_bg_here(*args, cwd=ROOT) if args[0] == "simulate" else run(*args)


@pytest.mark.parametrize("command", [["simulate", "--quiet"], ["local", "--port", "4597"]])
def test_a_missing_template_is_named(command: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.template.json"
    done = here_or_run(*command, "--template", str(missing))
    assert done.returncode == 2, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert f"template {missing} does not exist" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("command", [["simulate", "--quiet"], ["local", "--port", "4598"]])
def test_the_given_template_is_the_one_read(command: list[str], tmp_path: Path) -> None:
    # simulation.yml names the sample's template; a broken one on the command line is what is read.
    broken = tmp_path / "broken.template.json"
    broken.write_text('{"Resources": ')
    done = here_or_run(*command, "--template", str(broken))
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert str(broken) in output.replace("\n", ""), output
    assert "Traceback" not in output
