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

    # What was there before comes back after: asyncio's removal would leave the default in its place,
    # and the process may go on (a command run in a test's process, in the shell of a REPL).
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop, signum)
    try:
        return await task
    except asyncio.CancelledError:
        if received:
            raise Stopped(received[0]) from None
        raise
    finally:
        for signum, handler in previous.items():
            loop.remove_signal_handler(signum)
            if handler is not None:  # None: set outside Python, which cannot be put back from here
                signal.signal(signum, handler)
