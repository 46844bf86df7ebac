"""A wrong value in the stack's hookDetails context stops ``ecs-bg lint``, ``simulate`` and ``invoke``
before anything runs, naming the file, the hook, the key and the value (each command run in the test's
process: it starts nothing)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CONFIG, FIXTURE_OUTPUTS, LAMBDA_DIR, ROOT
from tests.ecs_bg_process import ecs_bg_here

WRONG = {
    "after-install": {"ecsReadiness": {"minHealthyPercent": 0}},
    "before-allow-traffic": {"smokeTest": {"timeoutSeconds": "5"}},
    "before-install": {"notify": {"snsTopicArn": 7}},
}


@pytest.fixture
def cdk_json(tmp_path: Path) -> Path:
    """The repository's cdk.json with the wrong hookDetails, beside the repository's hooks."""
    document = json.loads((ROOT / "infrastructure" / "cdk.json").read_text())
    document["context"].update(hookCode=str(LAMBDA_DIR), hookDetails=WRONG)
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps(document))
    return path


def refused(done: subprocess.CompletedProcess[str], cdk_json: Path, printed: str = "") -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    where = f"{cdk_json}: context: hookDetails"
    assert (printed or done.stderr).splitlines() == [
        f"error: {where}.after-install.ecsReadiness.minHealthyPercent: 0 is out of range [1, 100]",
        f"{where}.before-allow-traffic.smokeTest.timeoutSeconds: expected a number, got '5'",
        f"{where}.before-install.notify.snsTopicArn: expected a string or null, got number 7",
    ]


def test_lint_refuses_the_context(cdk_json: Path, tmp_path: Path) -> None:
    args = ["--config", str(CONFIG), "--outputs-file", str(FIXTURE_OUTPUTS), "--cdk-json", str(cdk_json)]
    refused(ecs_bg_here("lint", *args, cwd=tmp_path), cdk_json)
    # The same files with the repository's own context lint clean.
    clean = ecs_bg_here("lint", *args[:-1], str(ROOT / "infrastructure" / "cdk.json"), cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_simulate_refuses_it_before_any_deployment_starts(cdk_json: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = ecs_bg_here("simulate", "--cdk-json", str(cdk_json), "--quiet", "--report", str(report), cwd=ROOT)
    refused(done, cdk_json, done.stdout)  # simulate prints its errors on its console, stdout
    assert not report.exists()


def test_invoke_refuses_it_before_the_hook_runs(cdk_json: Path, tmp_path: Path) -> None:
    done = ecs_bg_here(
        "invoke", "before_install", "--stage", "PRE_SCALE_UP", "--cdk-json", str(cdk_json), cwd=tmp_path
    )
    refused(done, cdk_json)
    assert done.stdout == ""  # no log line: the function never started
