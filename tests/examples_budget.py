"""How many examples a property test generates: all of them in ``make test`` and CI, a quarter in the
quick loop (``-m 'not slow'``), as Hypothesis's documentation suggests for a fast local loop beside a
thorough CI run (settings profiles). Every property still runs in both; the thorough run finds more."""

from __future__ import annotations

# Set by tests/conftest.py's pytest_configure, before any test module is imported.
quick_loop = False

QUICK_SHARE = 4  # the quick loop runs one example in this many


def examples(full: int) -> int:
    """``full`` in a thorough run, a quarter (at least 20) in the quick loop."""
    return max(full // QUICK_SHARE, 20) if quick_loop else full
