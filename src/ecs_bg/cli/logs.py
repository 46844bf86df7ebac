"""What the libraries under a long-running command log (aiohttp's servers and client, asyncio) reaches
the terminal as one line each, never as a traceback.

With no handler configured, Python's last-resort handler prints a logged exception's whole traceback
on stderr: aiohttp logs one for any exception that escapes a request handler, asyncio one for a task
whose exception nobody read. The local servers handle what they expect (``local.hangups``); this is
the net under what they do not, so a user reads what went wrong without a traceback."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator


class OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            message += f": {type(error).__name__}: {error}"
        return f"ecs-bg: {record.name}: {' '.join(message.split())}"


@contextlib.contextmanager
def one_line_logs() -> Iterator[None]:
    """Warnings and errors logged in this process go to stderr, one line each, while the block runs:
    the handler goes with the command, so a command run in another's process (a test's) leaves none
    behind writing to an output that has gone."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLine())
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
