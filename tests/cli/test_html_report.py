"""``ecs-bg simulate --html`` as a person opens it: a real simulation through the CLI, the page in a real
headless Chromium. The README's screenshot comes from here: ``ECS_BG_SCREENSHOTS=docs/images`` writes it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import chromium, open_page
from tests.conftest import ROOT
from tests.ecs_bg_process import ecs_bg_here
from tests.fault_suite import test_fault_suite as fault_suite

pytestmark = pytest.mark.slow

# The README shows the rollback: weights moving to green and back, green's errors, the reason.
README_SCENARIO = "degrade-after-shift"


def test_the_console_check_sees_what_the_policy_blocks(tmp_path: Path) -> None:
    """The control for the test below: an inline script is refused, and the refusal is an error."""
    page = tmp_path / "blocked.html"
    page.write_text(
        '<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        "<p>blocked</p><script>document.title = 'ran'</script>"
    )
    assert any("Content Security Policy" in error for error in open_page(page).errors)


@pytest.mark.parametrize("scenario", ["good", README_SCENARIO])
def test_the_page_of_a_simulation_shows_every_stage_without_console_errors(
    scenario: str, tmp_path: Path
) -> None:
    chromium()  # skip before the simulation when there is no browser here
    report, html = tmp_path / "report.json", tmp_path / "report.html"
    done = ecs_bg_here(
        *("simulate", "--quiet", "--scenario", scenario),
        *("--report", str(report), "--html", str(html)),
        cwd=ROOT,
    )
    assert html.is_file(), done.stdout + done.stderr
    data = json.loads(report.read_text())

    page = open_page(html)

    assert page.errors == []
    for stage in data["stages"]:
        name = stage["stage"] + (f" · step {stage['step']}" if "step" in stage else "")
        assert name in page.text
    assert data["status"] in page.text
    if data["rollbackReason"]:
        assert data["rollbackReason"] in page.text
    assert page.png.startswith(b"\x89PNG")
    assert len(page.png) > 20_000
    (tmp_path / "report.png").write_bytes(page.png)
    if (folder := os.environ.get("ECS_BG_SCREENSHOTS")) and scenario == README_SCENARIO:
        (Path(folder) / "report.png").write_bytes(page.png)

    # What the charts are drawn from: weights from the start, every production request in an interval.
    weights, intervals = data["traffic"]["weights"], data["traffic"]["production"]["intervals"]
    assert weights[0] == {
        "at": 0.0,
        "production": {"blue": 100, "green": 0},
        "test": {"blue": 100, "green": 0},
    }
    assert weights[-1]["production"]["blue" if data["rollbackReason"] else "green"] == 100
    assert sum(interval["requests"] for interval in intervals) == data["traffic"]["production"]["requests"]
    assert all(invocation["start"] is not None for invocation in data["hookInvocations"])


# Each scenario's entries of a kind its expected.yml holds it to (the fault suite checks that much), so
# that between them every check below runs at least once, whatever the timing of a run.
HAS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "pause-times-out-continue": lambda data: data["pauseHooks"],
    "linear-in-halves": lambda data: data["stepBakes"],
    "rollback-hook-fails": lambda data: data["statusReason"],
    "green-keeps-dying": lambda data: data["alarms"]["changes"],  # alarmChanged
    "green-dies-once-after-scale-up": lambda data: data["tasks"]["replacements"],  # replacements: 1
}


@pytest.mark.parametrize("name", HAS)
def test_the_page_shows_what_the_json_report_tells(name: str, tmp_path: Path) -> None:
    """PAUSE hooks, step bakes, the reasons, the final state, replacements and alarms: each of the JSON
    report's entries for a fault-suite scenario that has them is on the page a person sees."""
    chromium()
    html = tmp_path / "report.html"
    done, report = fault_suite.simulate(fault_suite.SCENARIOS_DIR / name, tmp_path, "--html", str(html))
    assert report.exists(), done.stdout + done.stderr
    data = json.loads(report.read_text())

    page = open_page(html)

    assert page.errors == []
    text = page.text
    for pause in data["pauseHooks"]:
        assert f"{pause['hookId']}\t{pause['stage']}\t{pause['status']}" in text
    for bake in data["stepBakes"]:
        assert f"step {bake['step']} bake\t{bake['start']:.0f}" in text
    for invocation in data["hookInvocations"]:
        assert f"\t{invocation['start']:.0f}\t" in text or f"\t{invocation['start']:.1f}\t" in text
    for reason in (data["rollbackReason"], data["statusReason"]):
        if reason:
            assert reason in text
    final = data["finalState"]
    assert f"green still serves\t{'yes' if final['greenServing'] else 'no'}" in text
    tasks = ", ".join(f"{name} {count}" for name, count in final["runningTasks"].items())
    assert f"running tasks\t{tasks}" in text
    for replacement in data["tasks"]["replacements"]:
        assert f"{replacement['group']}\t{replacement['cause']}" in text
    for alarm in data["alarms"]["watched"]:
        assert alarm["alarm"] in text
    for change in data["alarms"]["changes"]:
        assert f"{change['alarm']}\t{change['state']}\t{change['reason']}" in text
    for problem in [*data["alarms"]["problems"], *data["rollbackProblems"]]:
        assert problem in text
    assert HAS[name](data)
