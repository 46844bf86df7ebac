"""Tasks as real subprocesses of the sample service: readiness, crash on start, stop and kill."""

from __future__ import annotations

import os
import sys

import aiohttp
import pytest

from ecs_bg.deploy.interpreter import SUPPORTED
from ecs_bg.local.forkserver import ForkServers
from ecs_bg.local.runtime.process import AppProcess
from tests.sim.fleet import AppFleet
from tests.sim.stub_targets import run

# The sample service's tasks start as fresh interpreters, or forked from a server that has imported
# FastAPI (``runtime.program``), as the process runtime starts them: they behave the same.
STARTS = ["fresh", pytest.param("forked", marks=pytest.mark.skipif(not SUPPORTED, reason="Linux's"))]


@pytest.mark.parametrize("start", STARTS)
def test_fleet_starts_ready_tasks_that_serve_their_revision_and_stop_or_die(start: str) -> None:
    async def scenario() -> None:
        servers = ForkServers() if start == "forked" else None
        fleet = AppFleet("rev-7", count=2, env={"APP_COLOUR": "green"}, fork_servers=servers)
        try:
            assert await fleet.start(ready_timeout=15)
            assert len(set(fleet.urls)) == 2
            async with aiohttp.ClientSession() as session:
                for url in fleet.urls:
                    async with session.get(url + "/version") as response:
                        assert await response.json() == {"revision": "rev-7", "colour": "green"}
            first, second = fleet.tasks
            assert first.pid is not None
            with open(f"/proc/{first.pid}/stat") as stat:  # a forked task's parent is its server
                assert (int(stat.read().split(") ")[1].split()[1]) == os.getpid()) == (start == "fresh")
            assert first.ready_after is not None
            assert first.ready_after < 10
            await first.kill()
            assert first.crashed
            assert first.returncode == -9
        finally:
            await fleet.stop(grace=5)
            if servers is not None:
                await servers.close()
        assert second.returncode is not None
        assert not second.crashed  # stopped, not crashed
        assert any('"message": "started"' in line for line in second.output)

    run(scenario)


@pytest.mark.parametrize("start", STARTS)
def test_crash_on_start_is_reported_with_its_output(start: str) -> None:
    async def scenario() -> None:
        servers = ForkServers() if start == "forked" else None
        task = AppProcess({"APP_CRASH_ON_START": "true"}, fork_servers=servers)
        await task.start()
        assert not await task.wait_ready(timeout=15)
        await task.wait_exit(5)
        assert task.crashed
        assert task.returncode not in (None, 0)
        assert any("APP_CRASH_ON_START" in line for line in task.output)
        await task.stop()  # a no-op on an exited task, which stays crashed
        assert task.crashed
        if servers is not None:
            await servers.close()

    run(scenario)


def test_stop_kills_a_task_that_ignores_sigterm_after_the_grace_period() -> None:
    async def scenario() -> None:
        stubborn = (
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('up', flush=True); time.sleep(30)"
        )
        task = AppProcess(command=[sys.executable, "-c", stubborn], output_lines=10)
        await task.start()
        assert not await task.wait_ready(timeout=0.3)  # never serves HTTP: readiness times out
        assert await task.stop(grace=0.3) == -9
        assert not task.crashed
        assert list(task.output) == ["up"]

    run(scenario)
