"""moto's server loads what the local AWS uses, once: every botocore session it makes shares one
loader (EC2's region list alone makes three, each parsing endpoints.json), and SSM's backend loads
without EC2's until a Run Command's targets need it."""

from __future__ import annotations

import subprocess
import sys

import pytest

SESSIONS = """
import botocore.session
from ecs_bg.local import botocore_data
{share}
loaders = {{id(botocore.session.Session().get_component("data_loader")) for _ in range(3)}}
print(len(loaders))
"""


def sessions_loaders(share: str) -> int:
    script = SESSIONS.format(share=share)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_every_session_of_moto_s_process_shares_one_loader() -> None:
    assert sessions_loaders("botocore_data.share()") == 1


def test_otherwise_each_session_has_its_own() -> None:
    assert sessions_loaders("") == 3


SSM_WITHOUT_EC2 = """
import os, sys
os.environ.pop("AWS_ENDPOINT_URL", None)  # moto answers AWS's own endpoints
os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
from ecs_bg.local.moto_server import import_ssm_without_ec2
import_ssm_without_ec2()
import boto3
from moto import mock_aws
with mock_aws():
    ssm = boto3.client("ssm", region_name="eu-west-1")
    ssm.put_parameter(Name="/app/flag", Value="on", Type="String")
    value = ssm.get_parameter(Name="/app/flag")["Parameter"]["Value"]
    print(value, "moto.ec2" in sys.modules)
    # Run Command finds its targets' instances in EC2's backend: now, and only now, it loads.
    command = ssm.send_command(
        DocumentName="AWS-RunShellScript",
        Targets=[{"Key": "tag:Name", "Values": ["web"]}],
        Parameters={"commands": ["true"]},
    )["Command"]
    print(command["TargetCount"], "moto.ec2" in sys.modules)
"""


@pytest.mark.slow  # it imports all of moto's EC2 backend, on purpose: 4 s of CPU
def test_ssm_serves_parameters_without_ec2_and_run_command_still_finds_its_targets() -> None:
    script = [sys.executable, "-c", SSM_WITHOUT_EC2]
    done = subprocess.run(script, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["on False", "0 True"]
