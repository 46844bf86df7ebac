"""The simulator's AWS endpoint, called with unmodified boto3: its own answers and moto's."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ecs_bg.lifecycle.events import ServiceIds
from ecs_bg.local.endpoint import SIMULATION_APP_ID, LocalAws
from ecs_bg.local.errors import AwsError
from tests.aws_world import put_alarm

IDS = ServiceIds()


async def describe_revisions(request: dict[str, Any]) -> dict[str, Any]:
    if request["serviceRevisionArns"] != [IDS.green_arn]:
        raise AwsError("InvalidParameterException", "unknown revision")
    return {
        "serviceRevisions": [{"serviceRevisionArn": IDS.green_arn, "taskDefinition": "td:1"}],
        "failures": [],
    }


async def describe_deployments(request: dict[str, Any]) -> dict[str, Any]:
    return {"serviceDeployments": [{"serviceDeploymentArn": IDS.deployment_arn, "status": "SUCCESSFUL"}]}


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)


@pytest.fixture
def endpoint(loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAws]:
    answers = {
        "DescribeServiceRevisions": describe_revisions,
        "DescribeServiceDeployments": describe_deployments,
    }
    aws = LocalAws(answers)
    asyncio.run_coroutine_threadsafe(aws.start(), loop).result(timeout=30)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    try:
        yield aws
    finally:
        asyncio.run_coroutine_threadsafe(aws.stop(), loop).result(timeout=30)


def test_a_watcher_polling_from_outside_gets_its_next_answer_after_the_end(
    endpoint: LocalAws, loop: asyncio.AbstractEventLoop
) -> None:
    own = boto3.client("ecs", region_name="us-west-2", config=Config(user_agent_appid=SIMULATION_APP_ID))
    watcher = boto3.client("ecs", region_name="us-west-2")

    def poll(ecs: Any) -> None:
        ecs.describe_service_deployments(serviceDeploymentArns=[IDS.deployment_arn])

    def end_now() -> Future[None]:
        return asyncio.run_coroutine_threadsafe(endpoint.serve_watchers(time.monotonic(), limit=10), loop)

    for _ in range(3):
        poll(own)  # the simulation's own calls (and its hooks') are nobody watching
    assert end_now().result(timeout=1) is None
    poll(watcher)  # one call, like `ecs-bg status`: no wait either
    assert end_now().result(timeout=1) is None

    poll(watcher)  # polling: the endpoint stays for the next poll after the end
    serving = end_now()
    time.sleep(0.6)
    assert not serving.done()
    poll(watcher)
    serving.result(timeout=2)  # done once the watcher has gone quiet


def test_someone_who_rejected_a_pause_gets_the_end_when_their_watch_starts_after_it(
    loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ecs-bg reject`, then `ecs-bg watch`: the rollback may end before the watch's first poll."""

    async def continued(request: dict[str, Any]) -> dict[str, Any]:
        return {"serviceDeploymentArn": IDS.deployment_arn}

    aws = LocalAws(
        {"ContinueServiceDeployment": continued, "DescribeServiceDeployments": describe_deployments}
    )
    asyncio.run_coroutine_threadsafe(aws.start(), loop).result(timeout=30)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    try:
        operator = boto3.client("ecs", region_name="us-west-2")
        operator.continue_service_deployment(
            serviceDeploymentArn=IDS.deployment_arn, hookId="ecs-pause-1", action="ROLLBACK"
        )
        serving = asyncio.run_coroutine_threadsafe(aws.serve_watchers(time.monotonic(), limit=10), loop)
        time.sleep(0.6)
        assert not serving.done()  # still answering: the watch has not come yet
        operator.describe_service_deployments(serviceDeploymentArns=[IDS.deployment_arn])
        serving.result(timeout=2)  # it saw the end and went quiet
    finally:
        asyncio.run_coroutine_threadsafe(aws.stop(), loop).result(timeout=30)


def test_ecs_operations_moto_lacks_are_answered(endpoint: LocalAws) -> None:
    ecs = boto3.client("ecs", region_name="us-west-2")
    response = ecs.describe_service_revisions(serviceRevisionArns=[IDS.green_arn])
    assert response["serviceRevisions"][0]["taskDefinition"] == "td:1"
    with pytest.raises(ClientError, match="InvalidParameterException"):
        ecs.describe_service_revisions(serviceRevisionArns=[IDS.blue_arn])
    assert endpoint.calls == ["ecs:DescribeServiceRevisions"] * 2


def test_everything_else_is_moto(endpoint: LocalAws) -> None:
    ssm = boto3.client("ssm", region_name="us-west-2")
    ssm.put_parameter(Name="/ecs-bg/dev/approvals/svc/1", Value="approved", Type="String")
    assert ssm.get_parameter(Name="/ecs-bg/dev/approvals/svc/1")["Parameter"]["Value"] == "approved"
    cloudwatch = boto3.client("cloudwatch", region_name="us-west-2")  # CBOR through the proxy
    put_alarm(cloudwatch, "a")
    assert cloudwatch.describe_alarms(AlarmNames=["a"])["MetricAlarms"][0]["AlarmName"] == "a"
    ecs = boto3.client("ecs", region_name="us-west-2")
    ecs.create_cluster(clusterName="c")
    assert ecs.list_clusters()["clusterArns"]


def test_moto_starts_in_a_repository_whose_files_are_named_as_its_libraries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ecs-bg runs in the user's repository; a werkzeug.py or a yaml.py of theirs is not moto's."""
    for module in ("werkzeug", "yaml", "responses", "flask"):
        (tmp_path / f"{module}.py").write_text(
            f"raise SystemExit('the repository\\'s {module}.py was imported')\n"
        )
    monkeypatch.chdir(tmp_path)

    async def moto_answers() -> str:
        local = LocalAws({})
        await local.start()
        try:
            return await asyncio.wait_for(asyncio.shield(local._moto_ready), 60)  # type: ignore[arg-type]
        finally:
            await local.stop()

    assert asyncio.run(moto_answers()).startswith("http://127.0.0.1:")
