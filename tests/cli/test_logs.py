"""Under `local` and `simulate`, what a library logs (aiohttp's "Error handling request", asyncio's
"Task exception was never retrieved") reaches the user as one line, never as a traceback."""

from __future__ import annotations

import subprocess
import sys

LOGS_AN_ERROR = """
import contextlib
import logging
from ecs_bg.cli.logs import one_line_logs
with one_line_logs():
    logging.getLogger("aiohttp.server").info("not shown: below a warning")
    try:
        raise ConnectionResetError("Connection\\nlost")
    except ConnectionResetError:
        logging.getLogger("aiohttp.server").exception("Error handling request from %s", "127.0.0.1")
logging.getLogger("after").error("the command's block has ended")
"""


def test_a_logged_exception_is_one_line_naming_the_logger_and_the_error() -> None:
    done = subprocess.run([sys.executable, "-c", LOGS_AN_ERROR], capture_output=True, text=True, check=True)
    assert done.stdout == ""
    # After the block, Python's last resort prints the message alone: the handler went with the block.
    assert done.stderr.splitlines() == [
        "ecs-bg: aiohttp.server: Error handling request from 127.0.0.1: "
        "ConnectionResetError: Connection lost",
        "the command's block has ended",
    ]


def test_without_it_python_prints_the_traceback() -> None:
    """The behaviour the handler replaces (Python's last-resort handler), so the test above can fail."""
    script = LOGS_AN_ERROR.replace("one_line_logs()", "contextlib.nullcontext()")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "Traceback (most recent call last)" in done.stderr
