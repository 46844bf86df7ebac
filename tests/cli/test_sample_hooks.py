"""Hooks written the way public samples write them, run through ``ecs-bg invoke`` as a user runs it:
``app.lambda_handler``, bare JSON values and text printed on both streams, a helper module beside
the entry file, settings from environment variables, no ecs_bg at all (tests/fixtures/sample_hooks)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, copy_sample_simulation_yml
from tests.ecs_bg_process import ecs_bg_here

SAMPLES = ROOT / "tests" / "fixtures" / "sample_hooks"


def ecs_bg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("AWS_DEFAULT_REGION", None)  # Lambda sets it; the tool must too
    env.pop("AWS_REGION", None)
    return subprocess.run(
        [sys.executable, "-m", "ecs_bg.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def in_this_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``ecs_bg`` for a command that ends by itself, run in this process (tests/ecs_bg_process.py)."""
    return ecs_bg_here(*args, cwd=cwd, env={"AWS_DEFAULT_REGION": None, "AWS_REGION": None})


def test_a_sample_style_hook_runs_and_its_output_is_shown(tmp_path: Path) -> None:
    done = ecs_bg(
        "invoke",
        str(SAMPLES / "app.py"),
        "--handler",
        "lambda_handler",
        "--stage",
        "POST_TEST_TRAFFIC_SHIFT",
        "--env",
        "MIN_GREEN_WEIGHT=0",
        "--cluster",
        "shop",
        "--service",
        "web",
        "--region",
        "eu-west-1",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shown = done.stdout.splitlines()
    # Every bare JSON value printed, on either stream, is the function's log, shown as written.
    for value in ("42", '"a bare string"', "null", "[1, 2, 3]", "7", "plain words on stderr"):
        assert value in shown, value
    assert '  "executionDetails": {' in shown  # json.dumps(event, indent=2), line by line
    assert any('"cluster": "shop"' in line or "/shop" in line for line in shown)
    # The root logger, as Lambda's runtime sets it up, with Lambda's variables.
    assert any("region eu-west-1, function app" in line for line in shown), done.stdout
    assert shown[0].startswith("/aws/lambda/app ")  # the log group and stream it went to
    assert "SUCCEEDED" in done.stdout
    assert done.stderr == ""


def test_settings_from_the_environment_decide(tmp_path: Path) -> None:
    done = ecs_bg(
        "invoke",
        str(SAMPLES / "app.py"),
        "--handler",
        "app.lambda_handler",
        "--stage",
        "TEST_TRAFFIC_SHIFT",  # no weight reaches 101 %
        "--env",
        "MIN_GREEN_WEIGHT=101",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout
    assert "want 101%" in done.stdout
    assert "FAILED" in done.stdout


def test_a_wrong_handler_is_lambdas_import_error(tmp_path: Path) -> None:
    done = ecs_bg("invoke", str(SAMPLES / "app.py"), "--stage", "PRE_SCALE_UP", cwd=tmp_path)
    assert done.returncode == 1
    assert "Runtime.ImportModuleError" in done.stdout or "no callable 'handler'" in done.stdout
    done = ecs_bg(
        "invoke", str(SAMPLES / "app.py"), "--handler", "a b", "--stage", "PRE_SCALE_UP", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "--handler must be module.function" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_bad_env_pair_is_a_usage_error(tmp_path: Path) -> None:
    done = in_this_process(
        "invoke", str(SAMPLES / "app.py"), "--env", "NOEQUALS", "--stage", "PRE_SCALE_UP", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "--env 'NOEQUALS' must be KEY=VALUE" in done.stderr


def with_hook(tmp_path: Path, arn: str, stages: list[str]) -> Path:
    """The repository's ecspresso files in ``tmp_path`` with one more Lambda hook, targeting ``arn``."""
    for name in ("ecspresso.yml", "ecs-service-def.json", "ecs-task-def.json"):
        shutil.copy(ROOT / "ecspresso" / name, tmp_path / name)
    copy_sample_simulation_yml(tmp_path)
    service = tmp_path / "ecs-service-def.json"
    document = json.loads(service.read_text())
    hooks = document["deploymentConfiguration"]["lifecycleHooks"]
    hooks.append({**hooks[0], "hookTargetArn": arn, "lifecycleStages": stages})
    service.write_text(json.dumps(document, indent=2))
    return tmp_path / "ecspresso.yml"


def simulate(config: Path, *args: str) -> dict[str, Any]:
    report = config.parent / "report.json"
    done = in_this_process(
        "simulate",
        "--config",
        str(config),
        "--sim-config",
        str(config.parent / "simulation.yml"),
        "--quiet",
        "--report",
        str(report),
        "--html",
        str(config.parent / "report.html"),
        *args,
        cwd=config.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(report.read_text())
    return result


@pytest.mark.slow
def test_a_sample_style_hook_in_a_simulated_deployment(tmp_path: Path) -> None:
    # A function the stack does not have, added by simulation.yml's functions: (code relative to it).
    config = with_hook(
        tmp_path,
        "arn:aws:lambda:ap-northeast-1:123456789012:function:sample-hook",
        ["POST_TEST_TRAFFIC_SHIFT"],
    )
    code = os.path.relpath(SAMPLES, tmp_path)
    with (tmp_path / "simulation.yml").open("a") as file:
        file.write(
            "functions:\n"
            "  sample-hook:\n"
            f"    code: {code}\n"
            "    handler: app.lambda_handler\n"
            "    environment: {MIN_GREEN_WEIGHT: '0'}\n"
            "    timeoutSeconds: 20\n"
            "    memoryMB: 512\n"
        )
    report = simulate(config)
    assert report["status"] == "SUCCESSFUL"
    (sample,) = [i for i in report["hookInvocations"] if i["hook"] == "sample-hook"]
    assert sample["hookStatus"] == "SUCCEEDED"
    lines = sample["output"].splitlines()
    for value in ("42", '"a bare string"', "null", "[1, 2, 3]", "7", "plain words on stderr"):
        assert value in lines, value
    assert any("region ap-northeast-1, function sample-hook" in line for line in lines)
    assert sample["logGroup"] == "/aws/lambda/sample-hook"
    assert "[$LATEST]" in sample["logStream"]
    # The built-in hooks' own output is kept too, per invocation, with their decision line.
    (before_install,) = [i for i in report["hookInvocations"] if i["hook"] == "before_install"]
    assert '"message":"hook decision"' in before_install["output"]
    page = (tmp_path / "report.html").read_text()
    assert "plain words on stderr" in page
    assert "&quot;a bare string&quot;" in page


def simulate_quietly(config: Path, here: Path) -> subprocess.CompletedProcess[str]:
    """``ecs-bg simulate`` of ``config`` with the simulation.yml in ``here``, refused before it starts
    anything: run in this process."""
    return in_this_process(
        "simulate", "--config", str(config), "--sim-config", str(here / "simulation.yml"), "--quiet", cwd=here
    )


def test_a_hook_arn_of_no_known_function_is_refused(tmp_path: Path) -> None:
    config = with_hook(
        tmp_path, "arn:aws:lambda:ap-northeast-1:123456789012:function:nowhere", ["PRE_SCALE_UP"]
    )
    done = simulate_quietly(config, tmp_path)
    assert done.returncode == 2
    assert "function:nowhere' is none of the stack's hook functions" in " ".join(done.stdout.split())


def test_functions_in_simulation_yml_are_checked(tmp_path: Path) -> None:
    config = with_hook(tmp_path, "arn:aws:lambda:ap-northeast-1:123456789012:function:x", ["PRE_SCALE_UP"])
    with (tmp_path / "simulation.yml").open("a") as file:
        file.write("functions:\n  x:\n    memoryMB: 64\n")
    done = simulate_quietly(config, tmp_path)
    assert done.returncode == 2
    assert "functions.x.memoryMB must be an integer from 128 to 10240, got 64" in " ".join(
        done.stdout.split()
    )


def test_lint_leaves_the_keys_of_a_hook_not_built_on_ecs_bg_to_it(tmp_path: Path) -> None:
    # The stack's function for the sample (hookFunctions names its handler); its own key is its business.
    cdk_json = tmp_path / "cdk.json"
    context = {"hookCode": str(SAMPLES), "hookFunctions": {"sample": {"handler": "app.lambda_handler"}}}
    cdk_json.write_text(json.dumps({"context": context}))
    arns = {
        "ecs-bg-sample-dev": [],  # judged by the hook itself: not ecs_bg, so any key
        "somebody-elses": [],  # no function of the stack: nothing says which keys it takes
    }
    for name, refused in arns.items():
        config = with_hook(
            tmp_path, f"arn:aws:lambda:ap-northeast-1:123456789012:function:{name}", ["PRE_SCALE_UP"]
        )
        service = tmp_path / "ecs-service-def.json"
        document = json.loads(service.read_text())
        document["deploymentConfiguration"]["lifecycleHooks"][-1]["hookDetails"] = {"S3_BUCKET_NAME": "b"}
        service.write_text(json.dumps(document))
        outputs = ROOT / "tests" / "fixtures" / "cdk-outputs.json"
        args = ["--config", str(config), "--outputs-file", str(outputs), "--cdk-json", str(cdk_json)]
        done = in_this_process("lint", *args, "--format", "json", cwd=tmp_path)
        findings = json.loads(done.stdout)["findings"]
        paths = [f["path"].rsplit(".", 1)[-1] for f in findings if f["rule"] == "ECS025"]
        assert paths == refused, (name, findings)
