"""How many examples a property test generates: all of them in ``make test`` and CI, a quarter in the
quick loop (``-m 'not slow'``). Hypothesis's documentation, on settings profiles: "during development
you may want to lower the number of examples to speed up the tests. However, in a CI environment you
may want more examples so you are more likely to find bugs"
(https://hypothesis.readthedocs.io/en/latest/settings.html). A profile cannot do it here: each test's
own ``max_examples`` overrides a profile's. Every property still runs in both loops."""

from __future__ import annotations

# Set by tests/conftest.py's pytest_configure, before any test module is imported.
quick_loop = False

QUICK_SHARE = 4  # the quick loop runs one example in this many


def examples(full: int) -> int:
    """``full`` in a thorough run, a quarter (at least 20) in the quick loop."""
    return max(full // QUICK_SHARE, 20) if quick_loop else full
