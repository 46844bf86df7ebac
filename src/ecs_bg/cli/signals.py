"""Stopping a long-running command on a signal so that it stops what it started.

Python's default SIGTERM and SIGHUP end the process at once: no ``finally`` runs, and the app
processes it started (in their own sessions, so a terminal's Ctrl-C reaches only the parent) are
left holding their ports. Here each of the signals cancels the work instead, and its cleanup runs.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
T = TypeVar("T")


class Stopped(Exception):
    """The work was cancelled by ``signum``; whatever it started has been stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


async def until_stopped(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; SIGINT, SIGTERM or SIGHUP cancels it (its cleanup runs) and raises Stopped."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    received: list[int] = []

    def stop(signum: int) -> None:
        if not received:  # a second signal must not interrupt the cleanup the first one started
            received.append(signum)
            task.cancel()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        return await task
    except asyncio.CancelledError:
        if received:
            raise Stopped(received[0]) from None
        raise
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
