"""Cold starts forked from a server that has imported the runtime's SDK: the execution environment is
the one a fresh interpreter gets (environment, working directory, time zone, imports), and a function
that bundles its own copy of a runtime module, or native libraries, starts fresh instead."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import tempfile
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.deploy.functions import LambdaFunction
from ecs_bg.deploy.interpreter import SUPPORTED
from ecs_bg.local.forkserver import KEPT, ForkServer, ForkServers, ServerKind
from ecs_bg.local.lambda_.packages import forkable
from ecs_bg.local.lambda_.runner import PRELOADED, Invocation, LambdaRunner

pytestmark = pytest.mark.skipif(not SUPPORTED, reason="the fork server is Linux's (pidfds)")

# What the handler's module saw at its import, and what the handler sees when called.
REPORTS = """
import os, sys, time
PRELOADED = "boto3" in sys.modules  # a fresh interpreter has not imported it yet
import boto3

def handler(event, context):
    return {
        "preloaded": PRELOADED,
        "boto3": getattr(boto3, "MARK", "runtime"),
        "environment": dict(os.environ),
        "cwd": os.getcwd(),
        "tzname": list(time.tzname),
        "parent_is_runner": os.getppid() == event["runner"],
        "parent": os.getppid(),
    }
"""


def invoke(function: LambdaFunction, servers: ForkServers | None) -> Invocation:
    async def once() -> Invocation:
        runner = LambdaRunner(
            {"f": function}, environment={"AWS_ACCESS_KEY_ID": "local"}, fork_servers=servers
        )
        try:
            return await runner.invoke("f", {"runner": os.getpid()})
        finally:
            await runner.close()
            if servers is not None:
                await servers.close()

    return asyncio.run(once())


def reporting(folder: Path) -> LambdaFunction:
    folder.mkdir()
    (folder / "reports.py").write_text(REPORTS)
    return LambdaFunction("reporting", folder, "reports.handler", environment={"GREETING": "hello"})


def test_a_forked_environment_is_a_fresh_one_s(tmp_path: Path) -> None:
    fresh = invoke(reporting(tmp_path / "fresh"), None)
    forked = invoke(reporting(tmp_path / "forked"), ForkServers())
    assert fresh.error is None, fresh.output
    assert forked.error is None, forked.output
    theirs: dict[str, Any] = fresh.response
    ours: dict[str, Any] = forked.response
    assert (theirs["preloaded"], ours["preloaded"]) == (False, True)  # the server did serve it
    assert (theirs["parent_is_runner"], ours["parent_is_runner"]) == (True, False)
    differs = {"LAMBDA_TASK_ROOT", "AWS_LAMBDA_LOG_STREAM_NAME", "LD_LIBRARY_PATH"}  # paths, streams
    assert {k: v for k, v in ours["environment"].items() if k not in differs} == {
        k: v for k, v in theirs["environment"].items() if k not in differs
    }
    assert ours["environment"]["GREETING"] == "hello"
    assert ours["tzname"] == theirs["tzname"] == ["UTC", "UTC"]  # TZ=:UTC, Lambda's reserved value
    assert Path(ours["cwd"]).name == "forked"
    assert Path(theirs["cwd"]).name == "fresh"


def test_the_next_run_of_the_process_forks_from_the_kept_runtime_server(tmp_path: Path) -> None:
    """Lambda's runtime server names nothing of one run: closed with its run, it is kept, idle, and the
    next run of the process forks its cold starts from it, each as fresh as before."""
    first = invoke(reporting(tmp_path / "first"), ForkServers())
    second = invoke(reporting(tmp_path / "second"), ForkServers())
    assert first.error is None, first.output
    assert second.error is None, second.output
    assert first.response["preloaded"] is second.response["preloaded"] is True
    assert second.response["parent"] == first.response["parent"]  # the same server
    assert Path(second.response["cwd"]).name == "second"
    assert first.response["environment"].keys() == second.response["environment"].keys()


def test_a_kept_server_that_has_ended_is_not_taken(tmp_path: Path) -> None:
    first = invoke(reporting(tmp_path / "first"), ForkServers())
    server = first.response["parent"]
    os.kill(server, signal.SIGKILL)
    os.waitid(os.P_PID, server, os.WEXITED | os.WNOWAIT)  # it has ended; KEPT reaps it
    second = invoke(reporting(tmp_path / "second"), ForkServers())
    assert second.error is None, second.output
    assert second.response["preloaded"] is True
    assert second.response["parent"] != server


def test_a_server_of_a_kind_not_kept_ends_with_its_run(tmp_path: Path) -> None:
    async def run() -> int | None:
        servers = ForkServers()
        server = await servers.get(ServerKind.of({"PYTHONUNBUFFERED": "1"}, tmp_path, PRELOADED))
        await servers.close()
        return server._process.poll()

    assert asyncio.run(run()) is not None
    assert all(kind.cwd != str(tmp_path) for kind in KEPT._servers)


# What a worker's own botocore session finds read when it starts.
READ_AHEAD = """
import botocore.session

def handler(event, context):
    loader = botocore.session.Session().get_component("data_loader")
    return sorted(key[1] for key in loader._cache if key[0] == "load_service_model")
"""


def test_a_forked_worker_finds_botocore_s_data_read(tmp_path: Path) -> None:
    """The runtime server reads the hook services' models once (lambda_/sdk_data.py); a worker forked
    from it makes its clients without reading them again. A fresh interpreter reads them itself."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "reads.py").write_text(READ_AHEAD)
    function = LambdaFunction("reads", tmp_path / "code", "reads.handler")
    forked = invoke(function, ForkServers())
    fresh = invoke(function, None)
    assert forked.error is None, forked.output
    assert {"ecs", "elbv2", "cloudwatch", "ssm"} <= set(forked.response)
    assert fresh.response == []


def test_a_function_bundling_its_own_boto3_imports_its_own(tmp_path: Path) -> None:
    function = reporting(tmp_path / "code")
    (tmp_path / "code" / "boto3").mkdir()
    (tmp_path / "code" / "boto3" / "__init__.py").write_text('MARK = "bundled"\n')
    done = invoke(function, ForkServers())
    assert done.error is None, done.output
    assert done.response["boto3"] == "bundled"
    assert done.response["preloaded"] is False


def test_what_is_not_forked(tmp_path: Path) -> None:
    runtime = {"boto3", "botocore"}
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "app.py").write_text("")
    assert forkable([tmp_path / "plain"], runtime, loader_changed=False)
    assert not forkable([tmp_path / "plain"], runtime, loader_changed=True)  # LD_LIBRARY_PATH, LD_PRELOAD
    (tmp_path / "native").mkdir()
    (tmp_path / "native" / "_speedups.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    assert not forkable([tmp_path / "native"], runtime, loader_changed=False)
    (tmp_path / "libs" / "lib").mkdir(parents=True)
    assert not forkable([tmp_path / "libs"], runtime, loader_changed=False)
    (tmp_path / "sdk" / "botocore").mkdir(parents=True)
    assert not forkable([tmp_path / "sdk"], runtime, loader_changed=False)


def test_a_cancelled_cold_start_kills_its_worker_and_the_next_gets_its_own(tmp_path: Path) -> None:
    """A stop can cancel a cold start after the server was asked to fork: the server's answer is
    still that request's (the next cold start must not take its worker), and its worker ends."""
    reporting(tmp_path / "code")
    request = {
        "entry": "ecs_bg.local.lambda_.worker:forked",
        "env": {"PATH": os.defpath},
        "cwd": str(tmp_path / "code"),
        "package": {"folders": [str(tmp_path / "code")], "provided": []},
        "handler": "reports.handler",
    }

    async def scenario() -> None:
        server = await ForkServer.start(ServerKind.of({"PYTHONUNBUFFERED": "1"}, tmp_path, PRELOADED))
        output = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
        try:
            ours, theirs = socket.socketpair()
            first = asyncio.ensure_future(server.spawn(request, [output.fileno(), theirs.fileno()]))
            await asyncio.sleep(0)  # asked: the server forks, its answer is on its way
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            theirs.close()
            orphan, _ = await asyncio.open_connection(sock=ours)
            await asyncio.wait_for(orphan.read(), 10)  # its end of the channel closes: it was killed

            ours, theirs = socket.socketpair()
            second = await server.spawn(request, [output.fileno(), theirs.fileno()])
            theirs.close()
            reader, writer = await asyncio.open_connection(sock=ours)
            assert json.loads(await asyncio.wait_for(reader.readline(), 10)) == {"ready": True}
            writer.close()  # its request loop ends: it exits
            assert await asyncio.wait_for(second.wait(), 10) == 0
        finally:
            output.close()
            await server.close()

    asyncio.run(scenario())
