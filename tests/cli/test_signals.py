"""``until_stopped``: a signal cancels the work (its cleanup runs) and says which signal it was; the
process's own handlers are back afterwards, since a command may run in a process that goes on."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from ecs_bg.cli.signals import STOP_SIGNALS, Stopped, until_stopped


@pytest.fixture
def own_handlers() -> Iterator[dict[int, object]]:
    """A handler of this process's own on each stop signal, restored to what it was after the test."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise AssertionError(f"the process's own handler ran for {signum}")

    before = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum in STOP_SIGNALS:
        signal.signal(signum, handler)
    try:
        yield {signum: handler for signum in STOP_SIGNALS}
    finally:
        for signum, previous in before.items():
            signal.signal(signum, previous)


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_the_work_after_its_cleanup(signum: int, own_handlers: dict[int, object]) -> None:
    cleaned: list[bool] = []

    async def work() -> None:
        try:
            os.kill(os.getpid(), signum)
            await asyncio.sleep(10)
        finally:
            cleaned.append(True)

    with pytest.raises(Stopped) as stopped:
        asyncio.run(until_stopped(work()))
    assert stopped.value.signum == signum
    assert cleaned == [True]
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == own_handlers


def test_work_that_ends_leaves_the_process_handlers_as_they_were(own_handlers: dict[int, object]) -> None:
    async def work() -> str:
        return "done"

    assert asyncio.run(until_stopped(work())) == "done"
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == own_handlers
