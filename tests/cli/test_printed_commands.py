"""Every command ``status`` and ``watch`` print runs as printed: pasted, it reaches the same endpoint.

The commands are read from the output (plain and rich, which is 80 columns wide when not a
terminal), split with ``shlex`` and run in a fresh process whose ``AWS_ENDPOINT_URL`` is a closed
local port: a command missing its ``--endpoint-url`` fails there rather than going to real AWS.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecs_bg.cli.main import app
from tests.cli.local_ecs import IDS, Ecs, hook
from tests.conftest import LocalServer

runner = CliRunner()
BIN = Path(sys.executable).parent  # the virtual environment's bin: ecs-bg is there
COMMAND = re.compile(r"^\s*(?:approve:|reject:|or:)?\s*((?:ecs-bg|aws) .*)$")


def printed_commands(output: str) -> list[str]:
    return [match[1].strip() for line in output.splitlines() if (match := COMMAND.match(line))]


@pytest.mark.slow  # four CLIs started as processes, the AWS CLI's among them: 3.5 s of CPU
def test_each_printed_command_runs_as_printed(ecs: tuple[Ecs, str], tmp_path: Path, refused_url: str) -> None:
    fake, url = ecs
    fake.hooks = [hook("ecs-pause-1", "AWAITING_ACTION")]
    config = tmp_path / "config"  # a profile of its own: --profile must be carried too
    config.write_text("[profile paste]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env = {"AWS_CONFIG_FILE": str(config), "COLUMNS": "80"}
    given = ["--cluster", IDS.cluster, "--service", IDS.service, "--region", IDS.region,
             "--profile", "paste", "--endpoint-url", url]  # fmt: skip
    printed: list[str] = []
    for args in (["status", "--plain"], ["status"], ["watch", "--plain", "--timeout", "0"],
                 ["watch", "--timeout", "0"]):  # fmt: skip
        result = runner.invoke(app, [*args, *given], env=env)
        assert result.exit_code in (0, 3), result.output
        found = printed_commands(result.stdout)
        assert len(found) == 4, result.stdout  # approve, reject, and the AWS CLI's two
        printed += found
    assert all(len(command) > 80 for command in printed)  # longer than the width: none was wrapped

    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    guarded = clean | env | {"AWS_ENDPOINT_URL": refused_url, "PATH": f"{BIN}{os.pathsep}{clean['PATH']}"}
    for command in sorted(set(printed)):
        argv = shlex.split(command)
        if argv[0] == "aws" and shutil.which("aws") is None:
            continue
        before = len(fake.continued)
        done = subprocess.run(argv, env=guarded, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert len(fake.continued) == before + 1, command  # it reached the local endpoint
        action = "ROLLBACK" if "reject" in argv or "ROLLBACK" in argv else "CONTINUE"
        assert fake.continued[-1] == {
            "serviceDeploymentArn": IDS.deployment_arn, "hookId": "ecs-pause-1", "action": action
        }  # fmt: skip


@pytest.mark.parametrize("missing", ["--endpoint-url", "--profile"])
def test_the_guard_catches_a_command_without_its_options(
    ecs: tuple[Ecs, str], tmp_path: Path, http_server: LocalServer, missing: str
) -> None:
    """The control: without the option the watch was given, the pasted command does not get there.

    Its ``AWS_ENDPOINT_URL`` is a decoy that refuses every request at once: a closed port would do
    too, but botocore retries a refused connection with seconds of backoff before giving up."""
    fake, url = ecs
    fake.hooks = [hook("ecs-pause-1", "AWAITING_ACTION")]
    refusal = {"__type": "UnrecognizedClientException", "message": "not the endpoint the watch was given"}
    http_server.routes["/"] = (400, json.dumps(refusal))
    config = tmp_path / "config"
    config.write_text("[profile paste]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env = clean | {
        "AWS_CONFIG_FILE": str(config),
        "AWS_ENDPOINT_URL": http_server.url,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    argv = [str(BIN / "ecs-bg"), "approve", "--cluster", IDS.cluster, "--service", IDS.service,
            "--region", IDS.region, "--profile", "paste", "--endpoint-url", url]  # fmt: skip
    at = argv.index(missing)
    del argv[at : at + 2]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout
    assert fake.continued == []
    # Without --endpoint-url it went to AWS_ENDPOINT_URL; without --profile, nowhere (no credentials).
    assert http_server.hits.get("/", 0) == (1 if missing == "--endpoint-url" else 0), done.stderr
