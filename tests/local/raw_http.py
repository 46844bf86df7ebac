"""Raw HTTP for the request-policy tests: any method, path, Host and headers, as a browser or an
attacker would send them, and the answer as it came."""

from __future__ import annotations

import asyncio
import http.client
import threading
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lowercase names
    body: bytes

    @property
    def cors(self) -> dict[str, str]:
        """The answer's CORS headers (Access-Control-*)."""
        return {k: v for k, v in self.headers.items() if k.startswith("access-control-")}


def send(
    url: str,
    method: str = "POST",
    path: str = "/",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
) -> Answer:
    """One request to ``url``'s host and port; a ``Host`` in ``headers`` replaces the real one."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request(method, path, body=body or None, headers=dict(headers or {}))
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


class Loop:
    """An event loop in a thread of its own, for servers that tests reach over real sockets."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@contextmanager
def background_loop() -> Iterator[Loop]:
    loop = Loop()
    try:
        yield loop
    finally:
        loop.close()
