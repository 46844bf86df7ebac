"""``ecs-bg watch --started-after``: right after a deploy, the newest deployment may be the previous one.

The local endpoint lists only the previous, SUCCESSFUL deployment for the first polls, as ECS may
just after UpdateService; the new one appears later and rolls back. A watch that followed the
newest deployment at once would report the previous success; this one waits for the new one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from typer.testing import CliRunner

from ecs_bg.cli.main import app
from ecs_bg.lifecycle.events import ServiceIds
from tests.cli.local_ecs import serve

runner = CliRunner()
IDS = ServiceIds()
WHERE = ["--cluster", IDS.cluster, "--service", IDS.service, "--region", IDS.region]
DEPLOYED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
PREVIOUS = IDS.deployment_arn + "0"


class Ecs:
    def __init__(self, appears_after_polls: int) -> None:
        self.appears_after_polls = appears_after_polls
        self.polls = 0
        self.described: list[str] = []

    async def list_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        self.polls += 1
        previous = {
            "serviceDeploymentArn": PREVIOUS,
            "status": "SUCCESSFUL",
            "createdAt": (DEPLOYED_AT - timedelta(hours=1)).timestamp(),
        }
        new = {
            "serviceDeploymentArn": IDS.deployment_arn,
            "status": "ROLLBACK_SUCCESSFUL",
            "createdAt": DEPLOYED_AT.timestamp(),
        }
        listed = [previous, new] if self.polls > self.appears_after_polls else [previous]
        return {"serviceDeployments": listed}

    async def describe_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        [arn] = request["serviceDeploymentArns"]
        self.described.append(arn)
        ended = "SUCCESSFUL" if arn == PREVIOUS else "ROLLBACK_SUCCESSFUL"
        deployment = {"serviceDeploymentArn": arn, "status": ended, "lifecycleStage": "CLEAN_UP"}
        return {"serviceDeployments": [deployment], "failures": []}

    def answers(self) -> dict[str, Any]:
        return {
            "ListServiceDeployments": self.list_service_deployments,
            "DescribeServiceDeployments": self.describe_service_deployments,
        }


def watch(fake: Ecs, *options: str) -> Any:
    with serve(fake.answers()) as url:
        return runner.invoke(app, ["watch", *WHERE, "--endpoint-url", url, "--plain", *options])


def test_the_watch_waits_for_the_deployment_started_after_the_deploy() -> None:
    fake = Ecs(appears_after_polls=2)
    since = (DEPLOYED_AT - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = watch(fake, "--interval", "0.1", "--timeout", "20", "--started-after", since)
    assert result.exit_code == 1, result.output  # the new deployment rolled back: the build fails
    assert fake.polls == 3
    assert fake.described == [IDS.deployment_arn]


def test_without_it_the_previous_success_would_pass_the_build() -> None:
    """Why the pipeline passes --started-after: this is the false pass it prevents."""
    fake = Ecs(appears_after_polls=2)
    result = watch(fake, "--interval", "0.1", "--timeout", "20")
    assert result.exit_code == 0, result.output
    assert fake.described == [PREVIOUS]


def test_epoch_seconds_work_too_and_no_new_deployment_times_out() -> None:
    fake = Ecs(appears_after_polls=1000)
    since = str(int(DEPLOYED_AT.timestamp()) - 60)
    result = watch(fake, "--interval", "0.1", "--timeout", "1", "--started-after", since)
    assert result.exit_code == 3, result.output
    assert "no deployment of my-service in my-cluster created since 2026-11-30T11:59:00Z" in result.stderr
    assert fake.described == []


def test_a_time_that_is_not_one_is_refused() -> None:
    result = watch(Ecs(appears_after_polls=0), "--started-after", "yesterday")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --started-after: 'yesterday' is neither ISO 8601 (2026-11-30T12:00:00Z) nor epoch seconds"
    )
