"""Keeping webhook URLs out of the transport libraries' own logs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Final

_TRANSPORTS: Final = ("botocore", "urllib3")


@contextlib.contextmanager
def transport_logs_muted() -> Iterator[None]:
    """botocore logs response bodies (a secret's value) and urllib3 request paths (a webhook's
    secret part) at DEBUG, and urllib3 warns with the path on retries: keep both out of the logs
    while a webhook URL is in play, whatever level the function logs at."""
    loggers = [logging.getLogger(name) for name in _TRANSPORTS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
