"""What the libraries under a long-running command log (aiohttp's servers and client, asyncio) reaches
the terminal as one line each, never as a traceback.

With no handler configured, Python's last-resort handler prints a logged exception's whole traceback
on stderr: aiohttp logs one for any exception that escapes a request handler, asyncio one for a task
whose exception nobody read. The local servers handle what they expect (``local.hangups``); this is
the net under what they do not, so a user reads what went wrong without a traceback."""

from __future__ import annotations

import logging
import sys


class OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            message += f": {type(error).__name__}: {error}"
        return f"ecs-bg: {record.name}: {' '.join(message.split())}"


def one_line_logs() -> None:
    """Warnings and errors logged in this process go to stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLine())
    handler.setLevel(logging.WARNING)
    logging.getLogger().addHandler(handler)
