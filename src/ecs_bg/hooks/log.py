"""Structured JSON logs (aws-lambda-powertools Logger) and keeping secrets out of them."""

from __future__ import annotations

import os
import re
from typing import IO, TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # imported where a logger is made: `import ecs_bg.hooks` stays cheap for the CLI
    from aws_lambda_powertools import Logger

# Keys every line of an invocation carries; reset at the start of each so a warm container never
# leaks one invocation's keys into the next.
INVOCATION_KEYS: Final = ("executionId", "stage", "cluster", "service", "revision", "hook")

# Webhook URLs (Slack, Teams) are bearer secrets in their path and query; so are credentials
# embedded in any URL. Keep the scheme and host, which are what an operator needs to debug.
_URL: Final = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?:[^\s/@]+@)?(?P<host>[^\s/?#]+)[^\s\"']*")


def redact(text: str) -> str:
    """``text`` with every URL cut to scheme and host."""
    return _URL.sub(lambda m: m["scheme"] + m["host"] + ("/…" if m.end() > m.end("host") else ""), text)


def error_summary(error: BaseException) -> str:
    """``Type: message``, redacted: the reason an answer gives for an error."""
    return redact(f"{type(error).__name__}: {error}")


def error_fields(error: BaseException) -> dict[str, Any]:
    """Type, redacted message and the innermost frame: enough to debug, no locals, no secrets."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    location = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame is not None else "?"
    return {"error": type(error).__name__, "why": redact(str(error)), "at": location}


def hook_logger(hook: str, stream: IO[str] | None = None) -> Logger:
    """The hook's logger: service name from POWERTOOLS_SERVICE_NAME, else the hook's own name."""
    from aws_lambda_powertools import Logger

    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or hook, stream=stream)
