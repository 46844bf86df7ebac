"""The hooks' unit tests: in-process, against moto and local HTTP servers."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _retries_without_backoff(retries_without_backoff: None) -> None:
    """Throttling is retried at once (tests/conftest.py): a retried call costs no second here."""
