"""Fixtures of the CLI tests: ECS's answers from a local endpoint (moto behind it for the rest)."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

from tests.cli.local_ecs import Ecs, serve
from tests.sigv4 import signed_request


@pytest.fixture
def ecs() -> Iterator[tuple[Ecs, str]]:
    """A fake ECS deployment served over the wire, and the endpoint's URL."""
    fake = Ecs()
    with serve(fake.answers()) as url:
        # moto's backends live in this process and outlast its server: start each test with none.
        urllib.request.urlopen(signed_request("POST", f"{url}/moto-api/reset"), timeout=10)
        yield fake, url
