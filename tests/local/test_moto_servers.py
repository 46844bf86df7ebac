"""moto's servers kept between the local worlds of one process (local/moto_servers.py): the next world
takes the kept one emptied, a dead one is replaced, other moto settings get a server of their own, none
outlives its process, and none is given more of the environment than moto's settings."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecs_bg.local.endpoint import LocalAws
from tests.local.test_moto_server_parent import _alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def client(service: str, url: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def world(work: Callable[[str, int], None] = lambda url, pid: None) -> tuple[str, int]:
    """A local endpoint started and stopped in a run of its own, as ``ecs-bg simulate`` makes one;
    ``work`` is given its URL and its moto's pid. Its moto's URL and pid."""

    async def run() -> tuple[str, int]:
        aws = LocalAws({})
        await aws.start()
        try:
            await asyncio.wait_for(asyncio.shield(aws._moto_ready), 60)  # type: ignore[arg-type]
            moto = aws._moto
            assert moto is not None
            await asyncio.to_thread(work, aws.url, moto.pid)
            return moto.url, moto.pid
        finally:
            await aws.stop()

    return asyncio.run(run())


def test_the_next_world_takes_the_kept_server_emptied() -> None:
    def fill(url: str, pid: int) -> None:
        client("logs", url).create_log_group(logGroupName="/left/behind")
        client("ssm", url).put_parameter(Name="/left/behind", Value="1", Type="String")

    def empty(url: str, pid: int) -> None:
        assert client("logs", url).describe_log_groups()["logGroups"] == []
        assert client("ssm", url).describe_parameters()["Parameters"] == []

    first = world(fill)
    assert world(empty) == first  # the same server, as a new one


def test_a_kept_server_that_has_died_is_replaced() -> None:
    _, first_pid = world()
    os.kill(first_pid, signal.SIGKILL)
    _, second_pid = world(lambda url, pid: client("logs", url).describe_log_groups())
    assert second_pid != first_pid
    assert not _alive(first_pid)


def test_other_moto_settings_get_a_server_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    _, first = world()
    monkeypatch.setenv("MOTO_ACM_VALIDATION_WAIT", "5")
    _, second = world()
    assert second != first
    assert not _alive(first)  # only one is kept


def test_moto_is_given_its_settings_and_no_secret_of_the_developer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-developers-own")
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_example")
    monkeypatch.setenv("MOTO_ACM_VALIDATION_WAIT", "7")
    monkeypatch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", "1000")
    environment: dict[str, str] = {}

    def read(url: str, pid: int) -> None:
        entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        environment.update(entry.decode().split("=", 1) for entry in entries if b"=" in entry)  # type: ignore[misc]

    world(read)
    assert not {"AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "GITHUB_TOKEN"} & environment.keys()
    assert environment["MOTO_ACM_VALIDATION_WAIT"] == "7"
    assert environment["INITIAL_NO_AUTH_ACTION_COUNT"] == "1000"
    assert environment["PATH"] == os.environ["PATH"]


def test_no_kept_server_outlives_its_process() -> None:
    program = "from tests.local.test_moto_servers import world\nprint(world()[1], flush=True)\n"
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    moto = int(done.stdout.split()[-1])
    deadline = time.monotonic() + 10
    while _alive(moto) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(moto), "the kept moto outlived the process that kept it"
