"""A local endpoint that answers ECS calls with a test's own handlers, over the wire, in a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ecs_bg.sim.local_aws import JsonAnswer, LocalAws


@contextmanager
def serve(answers: Mapping[str, JsonAnswer]) -> Iterator[str]:
    """The endpoint's URL while it serves ``answers`` (operation name -> async handler)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    aws = LocalAws(dict(answers))
    asyncio.run_coroutine_threadsafe(aws.start(), loop).result(timeout=30)
    try:
        yield aws.url
    finally:
        asyncio.run_coroutine_threadsafe(aws.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
