"""An init that Lambda runs ahead of the first invocation (provisioned concurrency, SnapStart) does
what the enabled checks' first run would do first; an on-demand init leaves it to that run.

Each case is a fresh interpreter importing one of the seed's entry files, as Lambda's does."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import LAMBDA_DIR, ROOT

PROBE = """
import json, sys
import {module} as entry
from ecs_bg.hooks import aws
from ecs_bg.lifecycle.events import lifecycle_event
print(json.dumps({{
    "boto3": "boto3" in sys.modules,
    "urllib3": "urllib3" in sys.modules,
    "clients": aws.client.cache_info().currsize,
    "answer": entry.handler(lifecycle_event("PRE_SCALE_UP"), None),
}}))
"""


def init(module: str, initialization: str, region: str = "eu-west-1") -> tuple[dict, str]:
    env = {
        **os.environ,
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization,
        "AWS_REGION": region,
        "PYTHONPATH": str(LAMBDA_DIR),
        "ECS_BG_HOOK_DETAILS": '{"notify": false}',
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1]), done.stdout + done.stderr


@pytest.mark.parametrize("initialization", ["provisioned-concurrency", "snap-start"])
def test_an_init_ahead_makes_the_default_checks_clients(initialization: str) -> None:
    # before_allow_traffic's defaults: targetHealth (ECS, then Elastic Load Balancing) and smokeTest.
    probe, _ = init("before_allow_traffic_hook", initialization)
    assert probe["boto3"]
    assert probe["urllib3"]
    assert probe["clients"] == 2  # ecs and elbv2, in the function's region


def test_an_on_demand_init_loads_nothing_a_check_may_not_need() -> None:
    probe, _ = init("before_allow_traffic_hook", "on-demand")
    assert not probe["boto3"]
    assert not probe["urllib3"]
    assert probe["clients"] == 0


def test_a_hook_whose_checks_call_no_aws_loads_no_boto3_even_ahead() -> None:
    probe, _ = init("before_install_hook", "provisioned-concurrency")  # notify, switched off here
    assert not probe["boto3"]


def test_a_failed_preparation_is_logged_and_the_hook_still_answers() -> None:
    probe, output = init("before_allow_traffic_hook", "provisioned-concurrency", region="not a region!")
    assert probe["clients"] == 0
    assert "checks not prepared at init" in output
    # The hook answers as it does when nothing was prepared (it has no PRE_SCALE_UP function: FAILED).
    assert probe["answer"] == init("before_allow_traffic_hook", "on-demand")[0]["answer"]
