"""Posting a message to a webhook whose URL is kept in a secret or parameter."""

from __future__ import annotations

import contextlib
import json
from typing import Any, Final
from urllib.parse import urlsplit

from ecs_bg.hooks.notify import secrets
from ecs_bg.hooks.notify.message import Undelivered

# Webhooks are https; plain http only to this machine (the simulator, tests).
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})
# A repeated message beats a lost one: retry what the endpoints answer when they are busy or down.
_RETRY_STATUSES: Final = (429, 500, 502, 503, 504)


def post(reference: str, region: str, body: dict[str, Any], timeout_seconds: float) -> None:
    """POST ``body`` as JSON to the URL ``reference`` holds; ``Undelivered`` unless it answers 2xx."""
    import urllib3  # here, not at module level: only hooks that post pay for it

    url = url_in(reference, region)
    retries = urllib3.Retry(
        total=2,
        backoff_factor=0.2,
        status_forcelist=_RETRY_STATUSES,
        allowed_methods=None,  # POST included
        raise_on_status=False,
        respect_retry_after_header=False,  # a long Retry-After would outlast the function
    )
    pool = urllib3.PoolManager(retries=retries, timeout=urllib3.Timeout(total=timeout_seconds))
    try:
        response = pool.request(
            "POST", url, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
    except urllib3.exceptions.HTTPError as error:
        # The exception's text holds the URL; its type is enough to act on.
        cause = getattr(error, "reason", None) or error
        raise Undelivered(f"webhook unreachable: {type(cause).__name__}") from None
    finally:
        pool.clear()
    if not 200 <= response.status < 300:
        answer = " ".join(response.data.decode(errors="replace").split())[:120]
        raise Undelivered(f"webhook answered HTTP {response.status}" + (f": {answer}" if answer else ""))


def url_in(reference: str, region: str) -> str:
    """The webhook URL a secret or parameter holds: raw, or JSON ``{"url": ...}``."""
    url = secrets.read(reference, region).strip()
    if url.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            url = str(json.loads(url).get("url", "")).strip()
    parts = urlsplit(url)
    if not parts.hostname or not (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    ):
        raise Undelivered(
            f"{secrets.describe(reference)} does not hold an https webhook URL "
            '(the URL, or JSON {"url": "https://…"})'
        )
    return url
