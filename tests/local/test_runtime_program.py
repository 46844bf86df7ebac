"""Process-runtime tasks forked from a server that has imported their libraries: which commands fork,
and a forked task is, to its own code, the process a fresh interpreter would be (environment,
arguments, path, working directory, what a library read at import, exit status, signals)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.deploy.interpreter import SUPPORTED
from ecs_bg.local.forkserver import ForkServers
from ecs_bg.local.runtime.process import AppProcess
from ecs_bg.local.runtime.program import Program, program

# A library beside the program (on PYTHONPATH) that reads its environment at import, as some do.
ENVLIB = """
import os, sys
SEEN = os.environ.get("REVISION")
print("envlib: imported", file=sys.stderr)  # as a library's warning at import
"""

# A program that says what it sees, then serves until stopped (or exits as FATE says).
REPORTER = """
import json, os, sys, time
PRELOADED = "envlib" in sys.modules  # a fresh interpreter has not imported it yet
import envlib

def report():
    print(json.dumps({
        "preloaded": PRELOADED,
        "seen": envlib.SEEN,
        "name": __name__,
        "argv": sys.argv,
        "path0": sys.path[0],
        "cwd": os.getcwd(),
        "environment": dict(os.environ),
        "session": os.getsid(0) == os.getpid(),
    }), flush=True)

report()
fate = os.environ.get("FATE", "")
if fate == "exit-3":
    sys.exit(3)
if fate == "raise":
    raise RuntimeError("the program failed at start")
time.sleep(60)
"""


def layout(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A program folder (script and package) and a library folder; the environment that finds it."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "envlib.py").write_text(ENVLIB)
    here = tmp_path / "service"
    (here / "reporter").mkdir(parents=True)
    (here / "reporter.py").write_text(REPORTER)
    (here / "reporter" / "__init__.py").write_text("")
    (here / "reporter" / "__main__.py").write_text(REPORTER)
    return here, {"PYTHONPATH": str(tmp_path / "lib"), "REVISION": "blue", "PYTHONUNBUFFERED": "1"}


def test_which_commands_fork(tmp_path: Path) -> None:
    here, _ = layout(tmp_path)
    (here / "reporter" / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import botocore\n"
        "def later():\n    import boto3\n"
        "try:\n    import yaml\nexcept ImportError:\n    yaml = None\n"
        "from . import typed\nfrom reporter import typed as again\n"
    )
    as_module = program([sys.executable, "-m", "reporter", "--flag"], here)
    assert isinstance(as_module, Program)
    assert as_module.argv == ("-m", "reporter", "--flag")
    assert as_module.path0 == here.resolve()
    # Its own package is not imported ahead; what functions and TYPE_CHECKING import is not either.
    assert "envlib" in as_module.preload
    assert "yaml" in as_module.preload
    assert not {"reporter", "boto3", "botocore", "__future__"} & set(as_module.preload)

    script = program([sys.executable, "reporter.py"], here)
    assert script is not None
    assert script.path0 == here.resolve()

    (here / "plain.py").write_text("import json, http.server\n")
    assert program([sys.executable, "plain.py"], here) is None  # the standard library alone
    assert program([sys.executable, "-u", "reporter.py"], here) is None  # interpreter options
    assert program(["python3.11", "reporter.py"], here) is None  # another interpreter
    assert program(["node", "server.js"], here) is None
    assert program([sys.executable, "missing.py"], here) is None  # its own error, as the interpreter says


async def _report(task: AppProcess) -> dict[str, Any]:
    for _ in range(200):
        for line in task.output:
            if line.startswith("{"):
                report: dict[str, Any] = json.loads(line)
                return report
        await asyncio.sleep(0.05)
    raise AssertionError(f"no report: {list(task.output)}")


def _run(command: list[str], here: Path, env: dict[str, str], servers: ForkServers | None) -> dict[str, Any]:
    """The program's report, and its output up to it (``output``)."""

    async def scenario() -> dict[str, Any]:
        task = AppProcess(env, command=command, cwd=here, fork_servers=servers)
        try:
            await task.start()
            report = await _report(task)
            lines = list(task.output)
            return {
                **report,
                "output": lines[: next(i for i, line in enumerate(lines) if line.startswith("{"))],
            }
        finally:
            await task.stop(grace=2)
            if servers is not None:
                await servers.close()

    return asyncio.run(scenario())


@pytest.mark.skipif(not SUPPORTED, reason="the fork server is Linux's (pidfds)")
@pytest.mark.parametrize("command", [["-m", "reporter", "x"], ["reporter.py", "x"]], ids=["module", "script"])
def test_a_forked_task_is_a_fresh_process_s_equal(tmp_path: Path, command: list[str]) -> None:
    here, env = layout(tmp_path)
    fresh = _run([sys.executable, *command], here, env, None)
    forked = _run([sys.executable, *command], here, env, ForkServers())
    assert (fresh["preloaded"], forked["preloaded"]) == (False, True)  # the server did serve it
    for report in (fresh, forked):
        report["environment"].pop("PORT")  # each task has its own
    assert {k: v for k, v in forked.items() if k != "preloaded"} == {
        k: v for k, v in fresh.items() if k != "preloaded"
    }
    assert forked["name"] == "__main__"
    assert forked["argv"][1:] == ["x"]
    assert Path(forked["argv"][0]).name in ("reporter.py", "__main__.py")
    assert forked["path0"] == str(here.resolve())
    assert forked["session"] is True  # a session of its own, as start_new_session gives
    assert forked["output"] == ["envlib: imported"]  # what a preloaded library printed at import
    assert set(forked["environment"]) >= {"HOST", "REVISION", "PYTHONPATH"}


@pytest.mark.skipif(not SUPPORTED, reason="the fork server is Linux's (pidfds)")
def test_a_module_beside_the_program_that_shadows_a_preloaded_one_is_imported(tmp_path: Path) -> None:
    """``json.py`` beside the program: a fresh interpreter imports it wherever json is imported, so the
    task cannot fork from a server that has imported the standard library's: it starts fresh."""
    here, env = layout(tmp_path)
    (here / "json.py").write_text(
        "from _json import *  # noqa\nimport sys\nprint('{\"shadowed\": true}', flush=True)\n"
    )
    (here / "reports.py").write_text("import json\nimport envlib\nimport time\ntime.sleep(60)\n")
    forked = _run([sys.executable, "reports.py"], here, env, ForkServers())
    assert forked == {"shadowed": True, "output": []}


@pytest.mark.skipif(not SUPPORTED, reason="the fork server is Linux's (pidfds)")
def test_each_revision_s_tasks_fork_from_a_server_with_its_environment(tmp_path: Path) -> None:
    """A library that reads its environment at import reads the task's, not another revision's."""
    here, env = layout(tmp_path)

    async def scenario() -> list[dict[str, Any]]:
        servers = ForkServers()
        tasks = [
            AppProcess(
                {**env, "REVISION": revision},
                command=[sys.executable, "reporter.py"],
                cwd=here,
                fork_servers=servers,
            )
            for revision in ("blue", "green", "blue")
        ]
        try:
            for task in tasks:
                await task.start()
            return [await _report(task) for task in tasks]
        finally:
            await asyncio.gather(*(task.stop(grace=2) for task in tasks))
            await servers.close()

    reports = asyncio.run(scenario())
    assert [r["seen"] for r in reports] == ["blue", "green", "blue"]
    assert all(r["preloaded"] for r in reports)
    assert len({r["environment"]["PORT"] for r in reports}) == 3


@pytest.mark.skipif(not SUPPORTED, reason="the fork server is Linux's (pidfds)")
def test_a_forked_task_ends_as_a_fresh_one_does(tmp_path: Path) -> None:
    here, env = layout(tmp_path)

    async def scenario() -> None:
        servers = ForkServers()
        command = [sys.executable, "reporter.py"]
        try:
            exits = AppProcess({**env, "FATE": "exit-3"}, command=command, cwd=here, fork_servers=servers)
            await exits.start()
            assert await exits.wait_exit(10) == 3
            assert exits.crashed

            raises = AppProcess({**env, "FATE": "raise"}, command=command, cwd=here, fork_servers=servers)
            await raises.start()
            assert await raises.wait_exit(10) == 1
            await raises.stop()
            assert any("RuntimeError: the program failed at start" in line for line in raises.output)

            serves = AppProcess(env, command=command, cwd=here, fork_servers=servers)
            await serves.start()
            assert (await _report(serves))["preloaded"]
            assert await serves.stop(grace=5) == -signal.SIGTERM
            assert not serves.crashed

            killed = AppProcess(env, command=command, cwd=here, fork_servers=servers)
            await killed.start()
            await _report(killed)
            await killed.kill()
            assert killed.returncode == -signal.SIGKILL
            assert killed.crashed
        finally:
            await servers.close()

    asyncio.run(scenario())


@pytest.mark.skipif(not SUPPORTED, reason="the fork server is Linux's (pidfds)")
def test_a_revision_s_server_ends_with_its_last_task(tmp_path: Path) -> None:
    """A long ``ecs-bg local`` deploys revision after revision: a drained revision's server goes."""
    here, env = layout(tmp_path)

    def server_of(task: AppProcess) -> int:
        assert task.pid is not None
        with open(f"/proc/{task.pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])

    def running(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    async def scenario() -> None:
        servers = ForkServers()
        command = [sys.executable, "reporter.py"]
        blue = [AppProcess(env, command=command, cwd=here, fork_servers=servers) for _ in range(2)]
        green = AppProcess({**env, "REVISION": "green"}, command=command, cwd=here, fork_servers=servers)
        try:
            for task in (*blue, green):
                await task.start()
                await _report(task)
            blue_server, green_server = server_of(blue[0]), server_of(green)
            assert server_of(blue[1]) == blue_server != green_server
            await blue[0].stop(grace=2)
            await servers.close_idle()
            assert running(blue_server)  # its other task still runs
            await blue[1].stop(grace=2)
            await servers.close_idle()
            for _ in range(100):
                if not running(blue_server):
                    break
                await asyncio.sleep(0.05)
            assert not running(blue_server)
            assert running(green_server)
            assert green.returncode is None
        finally:
            await asyncio.gather(*(task.stop(grace=2) for task in (*blue, green)))
            await servers.close()

    asyncio.run(scenario())


@pytest.mark.skipif(not SUPPORTED, reason="the fork server is Linux's (pidfds)")
def test_a_library_that_needs_its_task_s_port_at_import_starts_fresh(tmp_path: Path) -> None:
    """The server has the task's environment but its PORT: a library that reads PORT as it is
    imported fails there, the server ends, and the task starts as a fresh process, with its PORT."""
    here, env = layout(tmp_path)
    (tmp_path / "lib" / "portlib.py").write_text("import os\nPORT = int(os.environ['PORT'])\n")
    (here / "ported.py").write_text(
        "import json, time\nimport portlib\n"
        "print(json.dumps({'port': portlib.PORT}), flush=True)\ntime.sleep(60)\n"
    )

    async def scenario() -> tuple[int, int, bool]:
        servers = ForkServers()
        task = AppProcess(env, command=[sys.executable, "ported.py"], cwd=here, fork_servers=servers)
        try:
            await task.start()
            report = await _report(task)
            assert task.pid is not None
            with open(f"/proc/{task.pid}/stat") as stat:
                fresh = int(stat.read().rsplit(")", 1)[1].split()[1]) == os.getpid()
            return report["port"], task.port, fresh
        finally:
            await task.stop(grace=2)
            await servers.close()

    seen, port, fresh = asyncio.run(scenario())
    assert seen == port
    assert fresh  # its parent is the runtime, not a server
