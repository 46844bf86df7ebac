"""The CLI tests share one local endpoint (tests/cli/local_ecs.py); each test still gets its own ECS
answers and an empty moto behind them."""

from __future__ import annotations

import boto3

from tests.cli.local_ecs import IDS, Ecs, serve


def test_each_serve_has_its_own_answers_and_an_empty_moto() -> None:
    first, second = Ecs(), Ecs()
    continued = {"serviceDeploymentArn": IDS.deployment_arn, "hookId": "h", "action": "CONTINUE"}
    with serve(first.answers()) as url:
        boto3.client("logs", region_name=IDS.region, endpoint_url=url).create_log_group(logGroupName="/left")
        boto3.client("ecs", region_name=IDS.region, endpoint_url=url).continue_service_deployment(
            serviceDeploymentArn=IDS.deployment_arn, hookId="h", action="CONTINUE"
        )
    with serve(second.answers()) as again:
        assert again == url  # the same endpoint
        logs = boto3.client("logs", region_name=IDS.region, endpoint_url=url)
        assert logs.describe_log_groups()["logGroups"] == []
        boto3.client("ecs", region_name=IDS.region, endpoint_url=url).continue_service_deployment(
            serviceDeploymentArn=IDS.deployment_arn, hookId="h", action="CONTINUE"
        )
    assert first.continued == [continued]
    assert second.continued == [continued]
