"""Structured JSON logs (aws-lambda-powertools Logger) and keeping secrets out of them."""

from __future__ import annotations

import os
import re
from typing import IO, Final

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


def hook_logger(hook: str, stream: IO[str] | None = None) -> Logger:
    """The hook's logger: service name from POWERTOOLS_SERVICE_NAME, else the hook's own name."""
    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or hook, stream=stream)
