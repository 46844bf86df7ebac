"""moto's server, a child of ``ecs-bg local``, ends when its parent does, even when the parent is
killed (SIGKILL) and cannot stop it: no moto is left holding a port on the developer's machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from ecs_bg.local.ports import free_port

# A parent that starts moto's server as the endpoint does, says its child's pid, then waits forever.
PARENT = """
import os, subprocess, time
from ecs_bg.local.moto_server import COMMAND
env = {**os.environ, "ECS_BG_PARENT_PID": str(os.getpid())}
child = subprocess.Popen(COMMAND, env=env)
print(child.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has ended too (reaped by whoever adopts it).
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_moto_server_ends_when_its_parent_is_killed() -> None:
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(free_port())}
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=env, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 20
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(child), "moto's server outlived the ecs-bg that started it"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
