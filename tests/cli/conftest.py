"""Fixtures of the CLI tests: ECS's answers from a local endpoint (moto behind it for the rest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli import local_ecs
from tests.cli.local_ecs import Ecs, serve


@pytest.fixture(scope="session", autouse=True)
def one_endpoint() -> Iterator[None]:
    """The endpoint ``serve`` shares between the session's tests, stopped after the last."""
    yield
    local_ecs.close()


@pytest.fixture
def ecs() -> Iterator[tuple[Ecs, str]]:
    """A fake ECS deployment served over the wire, and the endpoint's URL (moto empty)."""
    fake = Ecs()
    with serve(fake.answers()) as url:
        yield fake, url
