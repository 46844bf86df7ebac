"""A service whose first revision (blue) never serves: there is nothing to deploy green over, and
``ecs-bg simulate`` says so in one line (exit 1), with no report and no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.fault_suite.test_fault_suite import SCENARIOS_DIR, simulate


def test_blue_that_exits_at_start_is_said_in_one_line(tmp_path: Path) -> None:
    scenario = tmp_path / "blue-exits-at-start"
    shutil.copytree(SCENARIOS_DIR / "green-exits-at-start", scenario)
    shutil.copytree(SCENARIOS_DIR.parent / "apps", tmp_path / "apps")  # ../../apps from the copy
    settings = yaml.safe_load((scenario / "simulation.yml").read_text())
    settings["containers"]["app"]["command"] = ["python", "../apps/faulty_app.py"]
    settings["revisions"]["blue"] = {"env": {"FAULT": "exit-at-start"}}
    settings["cdkApp"] = str(SCENARIOS_DIR.parents[2] / "infrastructure")  # the copy is elsewhere
    (scenario / "simulation.yml").write_text(yaml.safe_dump(settings))

    done, report = simulate(scenario, tmp_path)

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output, output
    (line,) = [line for line in output.splitlines() if line.startswith("error:")]
    assert "blue, the service's first revision, never served" in line
    assert "exited with status" in line, line
    assert not report.exists()
