"""``ecs-bg events`` and ``ecs-bg invoke`` with the real entry files, in Lambda-like workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecs_bg.cli.main import app
from ecs_bg.hooks.event import parse_event
from ecs_bg.simulate.scenarios import HOOKS
from tests.conftest import CDK_JSON, LocalServer

runner = CliRunner()
# No AWS here: switch off the checks that ask it, as the stack's ECS_BG_HOOK_DETAILS can.
NO_AWS = json.dumps({"notify": False, "targetHealth": False, "ecsReadiness": False})


def events(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["events", *args])
    assert result.exit_code == 0, result.output
    event: dict[str, object] = json.loads(result.stdout)
    return event


def test_events_are_what_a_hook_reads() -> None:
    event = parse_event(
        events(
            "--stage", "PRODUCTION_TRAFFIC_SHIFT", "--strategy", "LINEAR", "--step", "2", "--percent", "25"
        )
    )
    assert event.stage == "PRODUCTION_TRAFFIC_SHIFT"
    assert sorted(event.production_traffic_weights.values()) == [50, 50]
    assert not event.is_rollback


def test_a_rollback_event_turns_the_weights_back_to_blue() -> None:
    raw = events("--stage", "TEST_TRAFFIC_SHIFT", "--rollback", "--cluster", "c", "--service", "s")
    event = parse_event(raw)
    assert event.is_rollback
    assert event.test_traffic_weights[event.green_revision_arn] == 0
    assert (event.cluster, event.service) == ("c", "s")


def test_first_deployment_and_hook_details() -> None:
    raw = events("--stage", "PRE_SCALE_UP", "--first-deployment", "--hook-details", '{"smokeTest": false}')
    assert raw["hookDetails"] == {"smokeTest": False}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage", "PRE_SCALE_UP", "--rollback"], "re-invokes only"),
        (["--stage", "PRODUCTION_TRAFFIC_SHIFT", "--strategy", "CANARY", "--step", "3"], "2 traffic shift"),
        (["--stage", "PRE_SCALE_UP", "--hook-details", "[1]"], "JSON object"),
    ],
)
def test_events_refuse_what_ecs_never_sends(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["events", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, http_server: LocalServer) -> LocalServer:
    monkeypatch.setenv("ECS_BG_HOOK_DETAILS", NO_AWS)
    monkeypatch.setenv("ECS_BG_TEST_URL", http_server.url)
    return http_server


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["invoke", *args])
    return result.exit_code, result.output


def test_invoke_succeeded_prints_decision_timing_and_logs(no_aws: LocalServer) -> None:
    no_aws.routes["/health"] = (200, "ok")
    details = '{"smokeTest": {"path": "/health", "attempts": 1}}'
    code, output = invoke(
        "before_allow_traffic", "--stage", "POST_TEST_TRAFFIC_SHIFT", "--hook-details", details
    )
    assert code == 0, output
    assert '"hookStatus": "SUCCEEDED"' in output
    assert "ms (cold start)" in output
    assert "hook decision" in output  # the hook's own log lines
    assert no_aws.hits["/health"] == 1


def test_invoke_finds_the_entry_files_of_the_cdk_app_it_is_given_from_any_working_directory(
    http_server: LocalServer, tmp_path: Path
) -> None:
    """A real ``ecs-bg invoke`` started outside the repository, given the CDK app (its folder)."""
    http_server.routes["/health"] = (200, "ok")
    env = {**os.environ, "ECS_BG_HOOK_DETAILS": NO_AWS, "ECS_BG_TEST_URL": http_server.url, "COLUMNS": "200"}
    details = '{"smokeTest": {"path": "/health", "attempts": 1}}'
    args = ["before_allow_traffic", "--stage", "POST_TEST_TRAFFIC_SHIFT", "--hook-details", details]
    args += ["--cdk-json", str(CDK_JSON.parent)]
    done = subprocess.run(
        [sys.executable, "-m", "ecs_bg.cli", "invoke", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"hookStatus": "SUCCEEDED"' in done.stdout
    assert http_server.hits["/health"] == 1


def test_invoke_failed_exits_1_with_the_reason(no_aws: LocalServer, tmp_path: Path) -> None:
    no_aws.routes["/health"] = (500, "broken")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(events("--stage", "POST_TEST_TRAFFIC_SHIFT")))
    details = '{"smokeTest": {"path": "/health", "attempts": 1}}'
    code, output = invoke("before_allow_traffic", "--event", str(event), "--hook-details", details)
    assert code == 1, output
    assert "FAILED" in output
    assert "500" in output


def test_invoke_errors_and_timeouts_would_roll_back(tmp_path: Path) -> None:
    code, output = invoke(str(HOOKS / "raises_hook.py"), "--stage", "POST_SCALE_UP")
    assert code == 1
    assert "RuntimeError" in output
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text("import time\n\ndef handler(event, context):\n    time.sleep(30)\n")
    code, output = invoke(str(sleeper), "--stage", "PRE_SCALE_UP", "--timeout", "1")
    assert code == 1
    assert "Task timed out after 1.00 seconds" in output


def test_invoke_in_progress_exits_3() -> None:
    code, output = invoke(str(HOOKS / "never_done_hook.py"), "--stage", "PRE_SCALE_UP")
    assert code == 3
    assert "again after 10 s" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--stage", "PRE_SCALE_UP"], "no such hook entry file"),
        (["before_install"], "give --stage"),
        (["before_install", "--stage", "PRE_SCALE_UP", "--hook-details", "{"], "not JSON"),
    ],
)
def test_invoke_usage_errors(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["invoke", *args])
    assert result.exit_code == 2
    assert message in result.stderr


REPORTING_HOOK = """\
import json, os, pathlib

def handler(event, context):
    raw = pathlib.Path("/proc/self/environ").read_bytes().split(b"\\0")
    initial = dict(item.decode().split("=", 1) for item in raw if item)
    pathlib.Path(os.environ["REPORT_TO"]).write_text(json.dumps(initial))
    return {"hookStatus": "SUCCEEDED"}
"""


def test_invoke_gives_the_hook_the_user_s_aws_access_and_nothing_else_of_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``invoke`` runs the user's hook against their account: their AWS settings and HOME (~/.aws)
    are meant for it, as the execution role's access is in Lambda; the rest of the shell is not."""
    (tmp_path / "reporter.py").write_text(REPORTING_HOOK)
    monkeypatch.setenv("AWS_PROFILE", "the-users-profile")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    (tmp_path / "config").write_text("[profile the-users-profile]\nregion = eu-west-1\n")
    monkeypatch.setenv("ECS_BG_TEST_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("GITHUB_TOKEN", "LEAKED-github")
    monkeypatch.setenv("MY_APP_SECRET", "LEAKED-made-up")
    report = tmp_path / "environment.json"
    result = runner.invoke(
        app,
        ["invoke", str(tmp_path / "reporter.py"), "--handler", "reporter.handler", "--stage", "PRE_SCALE_UP",
         "--env", f"REPORT_TO={report}"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    seen = json.loads(report.read_text())
    assert (seen["AWS_PROFILE"], seen["AWS_CONFIG_FILE"]) == ("the-users-profile", str(tmp_path / "config"))
    assert seen["AWS_SESSION_TOKEN"] == os.environ["AWS_SESSION_TOKEN"]  # the user's, meant for it
    assert seen["HOME"] == os.environ["HOME"]
    assert seen["ECS_BG_TEST_URL"] == "http://127.0.0.1:9/"
    assert seen["AWS_LAMBDA_FUNCTION_NAME"] == "reporter"
    assert seen["PATH"] == "/usr/local/bin:/usr/bin/:/bin:/opt/bin"  # Lambda's, not the shell's
    assert "GITHUB_TOKEN" not in seen
    assert "MY_APP_SECRET" not in seen
    shell = {name for name in os.environ if not name.startswith(("AWS_", "ECS_BG_", "POWERTOOLS_"))}
    # Of the shell's other names, only those Lambda or the runner set themselves, with their own values.
    assert shell & set(seen) <= {"HOME", "PATH", "LANG", "LD_LIBRARY_PATH", "TZ", "PYTHONUNBUFFERED"}
    assert (seen["LANG"], seen["TZ"], seen["PYTHONUNBUFFERED"]) == ("en_US.UTF-8", ":UTC", "1")
