"""The simulator's AWS endpoint, called with unmodified boto3: its own answers and moto's."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from ecs_bg.sim.events import ServiceIds
from ecs_bg.sim.local_aws import AwsError, LocalAws
from ecs_bg.sim.setup import put_gate_alarm

IDS = ServiceIds()


async def describe_revisions(request: dict[str, Any]) -> dict[str, Any]:
    if request["serviceRevisionArns"] != [IDS.green_arn]:
        raise AwsError("InvalidParameterException", "unknown revision")
    return {
        "serviceRevisions": [{"serviceRevisionArn": IDS.green_arn, "taskDefinition": "td:1"}],
        "failures": [],
    }


def target_health(group: str) -> list[dict[str, Any]]:
    return [
        {"Target": {"Id": "127.0.0.1", "Port": 8081}, "TargetHealth": {"State": "healthy"}},
        {
            "Target": {"Id": "127.0.0.1", "Port": 8082},
            "TargetHealth": {
                "State": "unhealthy",
                "Reason": "Target.ResponseCodeMismatch",
                "Description": "503",
            },
        },
    ]


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAws]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    aws = LocalAws({"DescribeServiceRevisions": describe_revisions}, target_health)
    asyncio.run_coroutine_threadsafe(aws.start(), loop).result(timeout=30)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    try:
        yield aws
    finally:
        asyncio.run_coroutine_threadsafe(aws.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def test_ecs_operations_moto_lacks_are_answered(endpoint: LocalAws) -> None:
    ecs = boto3.client("ecs", region_name="us-west-2")
    response = ecs.describe_service_revisions(serviceRevisionArns=[IDS.green_arn])
    assert response["serviceRevisions"][0]["taskDefinition"] == "td:1"
    with pytest.raises(ClientError, match="InvalidParameterException"):
        ecs.describe_service_revisions(serviceRevisionArns=[IDS.blue_arn])
    assert endpoint.calls == ["ecs:DescribeServiceRevisions"] * 2


def test_target_health_comes_from_the_simulation(endpoint: LocalAws) -> None:
    elbv2 = boto3.client("elbv2", region_name="us-west-2")
    response = elbv2.describe_target_health(
        TargetGroupArn="arn:aws:elasticloadbalancing:us-west-2:1:targetgroup/g/1"
    )
    descriptions = response["TargetHealthDescriptions"]
    assert [d["TargetHealth"]["State"] for d in descriptions] == ["healthy", "unhealthy"]
    assert descriptions[1]["TargetHealth"]["Reason"] == "Target.ResponseCodeMismatch"
    output = elbv2.meta.service_model.operation_model("DescribeTargetHealth").output_shape
    validate_parameters({k: v for k, v in response.items() if k != "ResponseMetadata"}, output)


def test_everything_else_is_moto(endpoint: LocalAws) -> None:
    ssm = boto3.client("ssm", region_name="us-west-2")
    ssm.put_parameter(Name="/ecs-bg/dev/approvals/svc/1", Value="approved", Type="String")
    assert ssm.get_parameter(Name="/ecs-bg/dev/approvals/svc/1")["Parameter"]["Value"] == "approved"
    cloudwatch = boto3.client("cloudwatch", region_name="us-west-2")  # CBOR through the proxy
    put_gate_alarm(cloudwatch, "a")
    assert cloudwatch.describe_alarms(AlarmNames=["a"])["MetricAlarms"][0]["AlarmName"] == "a"
    ecs = boto3.client("ecs", region_name="us-west-2")
    ecs.create_cluster(clusterName="c")
    assert ecs.list_clusters()["clusterArns"]
