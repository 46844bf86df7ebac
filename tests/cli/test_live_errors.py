"""What the live commands say when AWS cannot be asked or says no: one line, a non-zero exit.

ECS's answers come over the wire from the local endpoint, with handcrafted deployments and errors
(the simulator's PAUSE runs are in test_live.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecs_bg.cli.main import app
from ecs_bg.local.errors import AwsError
from tests.cli.local_ecs import IDS, Ecs, hook

runner = CliRunner()
WHERE = ["--cluster", IDS.cluster, "--service", IDS.service, "--region", IDS.region]


def one_line_error(args: list[str], code: int = 2) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # never a traceback
    return lines[0]


def test_no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, refused_url: str) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata to ask here
    monkeypatch.setenv("AWS_ENDPOINT_URL", refused_url)
    for command in ("status", "watch", "approve", "reject"):
        assert one_line_error([command, *WHERE]).startswith("error: no AWS credentials found")


def test_unknown_profile() -> None:
    assert "could not be found" in one_line_error(["status", *WHERE, "--profile", "nobody"])


@pytest.mark.usefixtures("retries_without_backoff")  # botocore retries a refused connection
def test_unreachable_endpoint(refused_url: str) -> None:
    line = one_line_error(["status", *WHERE, "--endpoint-url", refused_url])
    assert line == f"error: cannot reach the AWS endpoint {refused_url}/"


def test_unknown_service(ecs: tuple[Ecs, str]) -> None:
    _, url = ecs
    line = one_line_error(["watch", "--cluster", IDS.cluster, "--service", "nope", "--endpoint-url", url])
    assert line == f"error: no service nope in cluster {IDS.cluster} ({IDS.region})"


def test_access_denied(ecs: tuple[Ecs, str]) -> None:
    fake, url = ecs
    fake.error = AwsError("AccessDeniedException", "User: x is not authorized to perform: ecs:List...")
    line = one_line_error(["status", *WHERE, "--endpoint-url", url])
    assert line.startswith("error: access denied calling ecs:ListServiceDeployments")


def test_config_supplies_cluster_and_service(ecs: tuple[Ecs, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = ecs
    monkeypatch.setenv("ECS_CLUSTER", IDS.cluster)
    monkeypatch.setenv("ECS_SERVICE", IDS.service)
    monkeypatch.setenv("AWS_REGION", IDS.region)
    result = runner.invoke(app, ["status", "--plain", "--endpoint-url", url])  # ecspresso/ecspresso.yml
    assert result.exit_code == 0, result.output
    assert "my-service (my-cluster): IN_PROGRESS at POST_SCALE_UP" in result.stdout
    assert "1/2 tasks running" in result.stdout
    assert one_line_error(["status", "--config", "missing.yml"]).startswith("error: missing.yml: cannot read")


def test_approve_refuses_when_nothing_is_paused(ecs: tuple[Ecs, str]) -> None:
    fake, url = ecs
    fake.hooks = [hook("after_install", "IN_PROGRESS", "AWS_LAMBDA")]
    line = one_line_error(["approve", *WHERE, "--endpoint-url", url], code=1)
    assert line == "error: refused: no PAUSE hook is awaiting action (stage POST_SCALE_UP)"
    assert fake.continued == []


def test_several_pauses_need_a_hook_id(ecs: tuple[Ecs, str]) -> None:
    fake, url = ecs
    fake.hooks = [hook("ecs-pause-1", "AWAITING_ACTION"), hook("ecs-pause-2", "AWAITING_ACTION")]
    line = one_line_error(["reject", *WHERE, "--endpoint-url", url], code=1)
    assert "2 PAUSE hooks are awaiting action (ecs-pause-1, ecs-pause-2): choose one with --hook-id" in line
    result = runner.invoke(app, ["reject", *WHERE, "--endpoint-url", url, "--hook-id", "ecs-pause-2"])
    assert result.exit_code == 0, result.output
    assert fake.continued == [
        {"serviceDeploymentArn": IDS.deployment_arn, "hookId": "ecs-pause-2", "action": "ROLLBACK"}
    ]
