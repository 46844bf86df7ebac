"""The hook functions' logs in CloudWatch Logs, written by the local ECS's world: many environments
starting at once each get their stream, and a log that cannot be written never costs an invocation.

moto runs as `ecs-bg local` runs it (its own process); the functions are the stack's, in workers."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from botocore.exceptions import ClientError

from ecs_bg.lifecycle.events import lifecycle_event
from ecs_bg.local.lambda_.service import ignoring
from ecs_bg.local.moto_server import COMMAND as MOTO_COMMAND
from ecs_bg.local.options import LocalOptions
from ecs_bg.local.runtime.process import AppProcess
from ecs_bg.local.world import World
from tests.cloud import sample_cloud
from tests.conftest import CDK_JSON
from tests.sim.stub_targets import run

NO_AWS = {"ECS_BG_HOOK_DETAILS": json.dumps({"notify": False, "targetHealth": False, "ecsReadiness": False})}


@pytest.mark.slow  # three worlds, each starting every function
def test_environments_initialized_together_each_log_their_init() -> None:
    """Each provisioning writes its INIT_START while the others write theirs, through one new
    client shared by threads; three fresh worlds in a row, so a race would show."""

    async def scenario() -> None:
        moto = AppProcess(command=MOTO_COMMAND)
        await moto.start()
        assert await moto.wait_ready(timeout=60, path="/moto-api/")
        try:
            for _ in range(3):
                world = World(LocalOptions(hook_environment=NO_AWS, cdk_json=CDK_JSON), sample_cloud())
                await world.start(moto.url)
                names = sorted(world.lambda_.functions)
                try:
                    await world.lambda_.provision(names)
                finally:
                    await world.close()
                logs = world.client("logs")
                for name in names:
                    group = f"/aws/lambda/{name}"
                    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
                    newest = max(streams, key=lambda stream: stream["creationTime"])["logStreamName"]
                    first = logs.get_log_events(logGroupName=group, logStreamName=newest, startFromHead=True)
                    assert first["events"][0]["message"].startswith("INIT_START Runtime Version: python:")
        finally:
            await moto.kill()

    run(scenario, timeout=180)


def test_an_aws_error_is_told_by_its_code_not_by_its_class() -> None:
    """Threads first touching a new boto3 client's ``exceptions`` may each make their own classes
    (botocore builds them lazily, unlocked): "already exists" raised as one thread's class slipped
    past another's ``except`` and stalled a deployment's hook. The world matches the code."""
    response = {"Error": {"Code": "ResourceAlreadyExistsException", "Message": "exists"}}
    made_elsewhere = type("ResourceAlreadyExistsException", (ClientError,), {})
    with ignoring("ResourceAlreadyExistsException"):
        raise made_elsewhere(response, "CreateLogGroup")
    other = {"Error": {"Code": "AccessDeniedException", "Message": "no"}}
    with pytest.raises(ClientError, match="AccessDenied"), ignoring("ResourceAlreadyExistsException"):
        raise made_elsewhere(other, "CreateLogGroup")


def test_a_log_that_cannot_be_written_loses_the_log_not_the_invocation() -> None:
    async def refuse(request: web.Request) -> web.Response:
        body = {"__type": "AccessDeniedException", "message": "logs refused for this test"}
        return web.json_response(body, status=400, content_type="application/x-amz-json-1.1")

    async def scenario() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", refuse)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        world = World(LocalOptions(hook_environment=NO_AWS, cdk_json=CDK_JSON), sample_cloud())
        await world.start(f"http://127.0.0.1:{port}")
        try:
            name = next(name for name in world.lambda_.functions if "before-install" in name)
            await world.lambda_.provision([name])  # its INIT_START is refused too
            done = await world.lambda_.invoke(name, lifecycle_event("PRE_SCALE_UP"))
            assert done.error is None
            assert done.response == {"hookStatus": "SUCCEEDED"}
        finally:
            await world.close()
            await runner.cleanup()

    run(scenario, timeout=120)
