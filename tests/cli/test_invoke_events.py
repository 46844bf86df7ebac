"""The event ``ecs-bg invoke`` sends: a real deployment's revisions and weights at each stage
(``live.hook_event``), and --rollback and --step as ``ecs-bg events`` takes them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ecs_bg.hooks.ecs import Stage, Strategy
from ecs_bg.live.hook_event import RealDeployment
from tests.conftest import ROOT
from tests.ecs_bg_process import ecs_bg, ecs_bg_here

PREFIX = "arn:aws:ecs:eu-west-1:111122223333:"
GREEN = PREFIX + "service-revision/shop/web/222"
BLUE = PREFIX + "service-revision/shop/web/111"
SAMPLES = ROOT / "tests" / "fixtures" / "sample_hooks"


def deployment(
    strategy: Strategy = Strategy.BLUE_GREEN, percent: float = 100.0, blue: str | None = BLUE
) -> RealDeployment:
    return RealDeployment(
        arn=PREFIX + "service-deployment/shop/web/abc",
        service_arn=PREFIX + "service/shop/web",
        region="eu-west-1",
        green=GREEN,
        blue=blue,
        strategy=strategy,
        percent=percent,
    )


def test_the_weights_are_the_stages_with_the_real_revisions() -> None:
    real = deployment()
    shift = real.event(Stage.PRODUCTION_TRAFFIC_SHIFT)["executionDetails"]
    assert shift == {
        "serviceArn": PREFIX + "service/shop/web",
        "targetServiceRevisionArn": GREEN,
        "testTrafficWeights": {},
        "productionTrafficWeights": {GREEN: 100, BLUE: 0},
    }
    assert real.event(Stage.TEST_TRAFFIC_SHIFT)["executionDetails"]["testTrafficWeights"] == {
        GREEN: 100,
        BLUE: 0,
    }
    back = real.event(Stage.PRODUCTION_TRAFFIC_SHIFT, rollback=True)["executionDetails"]
    assert back["productionTrafficWeights"] == {GREEN: 0, BLUE: 100}
    assert back["targetServiceRevisionArn"] == GREEN  # green, during a rollback too
    assert real.event(Stage.POST_SCALE_UP)["resourceArn"] == real.arn
    linear = deployment(Strategy.LINEAR, 25.0).event(Stage.PRODUCTION_TRAFFIC_SHIFT, step=2)
    assert linear["executionDetails"]["productionTrafficWeights"] == {GREEN: 50, BLUE: 50}
    first = deployment(blue=None).event(Stage.PRODUCTION_TRAFFIC_SHIFT)
    assert first["executionDetails"]["productionTrafficWeights"] == {GREEN: 100}


INVOKE_SAMPLE = ("invoke", str(SAMPLES / "app.py"), "--handler", "lambda_handler")


def invoke(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return ecs_bg(*INVOKE_SAMPLE, *args, cwd=cwd)


def test_invoke_sends_a_rollbacks_event(tmp_path: Path) -> None:
    done = invoke("--stage", "TEST_TRAFFIC_SHIFT", "--rollback", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    start = done.stdout.index("\n{\n") + 1  # the sample prints the event with json.dumps(indent=2)
    event = json.JSONDecoder().raw_decode(done.stdout[start:])[0]
    weights = event["executionDetails"]["testTrafficWeights"]
    assert weights[event["executionDetails"]["targetServiceRevisionArn"]] == 0


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--stage", "PRE_SCALE_UP", "--rollback"], "ECS re-invokes only TEST_TRAFFIC_SHIFT and PRODUCTION"),
        (["--stage", "PRODUCTION_TRAFFIC_SHIFT", "--step", "2"], "has 1 traffic shift step(s), not 2"),
        (
            ["--event", "x.json", "--latest", "--cluster", "c", "--service", "s"],
            "build the event at a --stage",
        ),
        (["--stage", "PRE_SCALE_UP", "--latest", "--deployment", "arn"], "give --deployment ARN or --latest"),
    ],
)
def test_invoke_refuses_what_ecs_never_sends(tmp_path: Path, args: list[str], why: str) -> None:
    # Refused before the hook starts: run in this process (tests/ecs_bg_process.py).
    done = ecs_bg_here(*INVOKE_SAMPLE, *args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    (line,) = done.stderr.splitlines()
    assert why in line


@pytest.mark.slow  # botocore's retries of an unreachable endpoint take seconds
def test_invoke_latest_says_in_one_line_why_it_cannot_ask_ecs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"  # botocore would ask the instance metadata for a region
    latest = ("--stage", "PRE_SCALE_UP", "--latest", "--cluster", "shop", "--service", "web")
    for args, why in [
        ((), "no AWS region: pass --region or set AWS_REGION"),
        (("--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:9"), "cannot reach the AWS endpoint"),
    ]:
        keys = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}
        done = ecs_bg("invoke", str(SAMPLES / "app.py"), *latest, *args, cwd=tmp_path, env={**env, **keys})
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stdout == ""  # the function never ran
        (line,) = done.stderr.splitlines()
        assert why in line, line
