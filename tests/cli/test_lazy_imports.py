"""``ecs-bg --help`` stays fast: the commands import their heavy dependencies only when they run.

A fresh interpreter each time, since this process has long imported everything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_a_simulation_refused_at_its_files_starts_no_server_and_asks_no_engine(tmp_path: Path) -> None:
    """A typo in the service definition is said before the local world's server, its load generator
    or a Docker engine's client (all aiohttp) are even imported, let alone started, and before any
    process probes a hook function's code (the CDK app's hookDetails context)."""
    scenario = Path(__file__).parents[1] / "fault_suite" / "scenarios" / "misspelled-key"
    code = (
        "import sys\n"
        "started = []\n"
        "def probes(event, args):\n"
        "    if event == 'subprocess.Popen' and 'ecs_bg.deploy.probe' in map(str, args[1]):\n"
        "        started.append(args[1])\n"
        "sys.addaudithook(probes)\n"
        "from ecs_bg.cli.main import app\n"
        "try:\n    app()\nexcept SystemExit as end:\n"
        "    print('exit', end.code, sorted(m for m in sys.modules if m.split('.')[0] == 'aiohttp')[:1])\n"
        "    print('started', started)\n"
    )
    args = ["simulate", "--quiet", "--config", str(scenario / "ecspresso.yml")]
    args += ["--sim-config", str(scenario / "simulation.yml"), "--runtime", "docker"]
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert "bakeTimeInMinute" in done.stdout + done.stderr, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-2:] == ["exit 2 []", "started []"], done.stdout
