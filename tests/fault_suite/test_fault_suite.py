"""The fault suite: each scenario is a directory of user files, run through ``ecs-bg simulate`` as a user
runs it, and held to the outcome its ``expected.yml`` takes from AWS's documentation (``source``).

A scenario directory has what a user writes: ``ecspresso.yml``, ``ecs-service-def.json``,
``ecs-task-def.json``, ``simulation.yml``, their own hooks (``hooks/``, via ``lambdaDir``) and a small
app that misbehaves on cue (``../../apps/faulty_app.py``, told what to do by each revision's task
definition). ``expected.yml`` keys:

- ``source``: where the expected outcome comes from (an AWS doc URL and section);
- ``exit``: the command's exit code (2: refused before anything starts; 0: SUCCESSFUL; 1: otherwise);
- ``error``: for exit 2, the strings the one error line names (file, JSON path, value);
- ``status``, ``rollbackReason`` (a substring), ``productionErrorsAtMost``, ``invoked`` (hook ids),
  ``hookStatuses`` (per hook, in order), ``replacements`` and ``replacementsAtMost`` (tasks the
  scheduler replaced, at least and at most),
  ``replacementCause`` (a substring of the first replacement's cause),
  ``alarmChanged`` (alarms that went into ALARM), ``notEvaluated`` (alarm -> a substring of why the
  simulator could not evaluate it), ``reportHas`` (report keys);
- ``speeds``: clock speeds at which the same status must come out (the speed-invariance property).

Every scenario that deploys is marked ``slow`` (a whole simulated deployment, seconds each) and ``waits``
(``make test`` spreads those among the busy tests: tests/run_order.py); those refused before anything
starts (exit 2) stay in the quick loop. All run in the test's own process, as
``ecs_bg_here`` runs a command: what only a process shows (its end on SIGTERM, what it leaves
running) is tested with ``ecs-bg simulate`` as a process, in tests/sim/test_local_ecs_cli.py.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ecs_bg_process import diagnosis, ecs_bg_here

SCENARIOS_DIR = Path(__file__).parent / "scenarios"
SCENARIOS = sorted(path for path in SCENARIOS_DIR.iterdir() if path.is_dir())


def expectation(scenario: Path) -> dict[str, Any]:
    expected: dict[str, Any] = yaml.safe_load((scenario / "expected.yml").read_text())
    return expected


def deploys(scenario: Path) -> bool:
    """Whether ``ecs-bg simulate`` gets as far as a deployment (exit 2: refused before anything starts)."""
    return expectation(scenario)["exit"] != 2


def scenario_param(scenario: Path) -> Any:
    # A deploying scenario waits out its bakes and faults in real time (tests/run_order.py).
    marks = [pytest.mark.slow, pytest.mark.waits] if deploys(scenario) else []
    return pytest.param(scenario, marks=marks, id=scenario.name)


def arguments(scenario: Path, report: Path, *extra: str) -> list[str]:
    return [
        *("simulate", "--quiet", "--report", str(report)),
        *("--config", str(scenario / "ecspresso.yml"), "--sim-config", str(scenario / "simulation.yml")),
        *extra,
    ]


def simulate(scenario: Path, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``ecs-bg simulate`` on ``scenario`` in this process (tests/ecs_bg_process.py): its exit status and
    output, and where its report is written."""
    report = tmp_path / "report.json"
    done = ecs_bg_here(*arguments(scenario, report, *extra), cwd=tmp_path)
    return done, report


@pytest.mark.parametrize("scenario", [scenario_param(scenario) for scenario in SCENARIOS])
def test_scenario_ends_as_aws_documents(scenario: Path, tmp_path: Path) -> None:
    expected = expectation(scenario)
    assert str(expected["source"]).strip(), "every expectation names its source"
    done, report_file = simulate(scenario, tmp_path)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == expected["exit"], output
    if expected["exit"] == 2:
        lines = [line for line in output.splitlines() if line.strip()]
        assert len(lines) == 1, output
        for part in expected["error"]:
            assert part in lines[0], lines[0]
        assert not report_file.exists()
        return
    assert report_file.exists(), output
    report = json.loads(report_file.read_text())
    assert report["status"] == expected["status"], output + diagnosis(report)
    if "rollbackReason" in expected:
        assert expected["rollbackReason"].lower() in (report["rollbackReason"] or "").lower()
    invocations = report["hookInvocations"]
    if "invoked" in expected:
        assert set(expected["invoked"]) <= {invocation["hook"] for invocation in invocations}
    for hook, statuses in expected.get("hookStatuses", {}).items():
        assert [i["hookStatus"] for i in invocations if i["hook"] == hook] == statuses
    if "productionErrorsAtMost" in expected:
        assert report["traffic"]["production"]["errors"] <= expected["productionErrorsAtMost"]
    if "replacements" in expected:
        assert len(report["tasks"]["replacements"]) >= expected["replacements"]
    if "replacementsAtMost" in expected:
        assert len(report["tasks"]["replacements"]) <= expected["replacementsAtMost"], report["tasks"]
    if "replacementCause" in expected:
        assert expected["replacementCause"] in report["tasks"]["replacements"][0]["cause"]
    for alarm in expected.get("alarmChanged", []):  # a user's alarm goes OK first (it starts without data)
        assert {"alarm": alarm, "state": "ALARM"} in [
            {"alarm": change["alarm"], "state": change["state"]} for change in report["alarms"]["changes"]
        ], report["alarms"]
    not_evaluated = {a["alarm"]: a.get("why", "") for a in report["alarms"]["watched"] if not a["evaluated"]}
    for alarm, why in expected.get("notEvaluated", {}).items():
        assert why in not_evaluated.get(alarm, ""), report["alarms"]
    # Any other alarm is judged: one quietly not evaluated would pass a scenario that should fail.
    assert set(not_evaluated) <= set(expected.get("notEvaluated", {})), report["alarms"]
    for key in expected.get("reportHas", []):
        assert report.get(key), key
    if report["status"] != "SUCCESSFUL":
        # However it ended, nothing of green is left serving (ROLLBACK_FAILED included).
        assert not report["finalState"]["greenServing"], report["finalState"]


SPEEDS = [
    (scenario, speed)
    for scenario in SCENARIOS
    for speed in expectation(scenario).get("speeds", [])
    if speed != yaml.safe_load((scenario / "simulation.yml").read_text()).get("speed")
]


@pytest.mark.slow
@pytest.mark.waits(seconds=10)  # at a lower speed: 3 to 14 s each, against 3 s at the scenario's own
@pytest.mark.parametrize(("scenario", "speed"), SPEEDS, ids=lambda value: getattr(value, "name", str(value)))
def test_speed_does_not_change_the_outcome(scenario: Path, speed: float, tmp_path: Path) -> None:
    """Real-time work (an app starting, health answers, hook runtime) is never judged by the sped-up
    clock: the same scenario at another speed ends in the same status."""
    done, report_file = simulate(scenario, tmp_path, "--speed", str(speed))
    assert done.returncode == expectation(scenario)["exit"], done.stdout + done.stderr
    assert json.loads(report_file.read_text())["status"] == expectation(scenario)["status"]
