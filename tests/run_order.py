"""The order ``make test``'s workers take tests in: tests that mostly wait on real time are spread among
those that keep the cores busy.

A test marked ``waits`` spends most of its time waiting on real time, not on the CPU: a simulated
deployment's 30-minute bake is 7.5 s at speed 240, a fault is timed in real seconds, a deploy tool
polls. Collected in file order, the fault suite's 55 simulations ran on every worker at once and left
half of this machine's two cores idle for a minute and a half (docs/simulator.md). xdist's
``--dist loadgroup`` hands out single tests in collection order (groups first), so this order decides
what runs beside what.

Waiting tests go between two tests only where no fixture of theirs outlives a test (a module's
``ecs-bg local``), so that a worker does not tear one down and set it up again around them. They are
placed in proportion to the slow tests already passed, so that none is left for the quick unit tests
at the end, and spaced by how long each waits, so that two long ones rarely wait side by side. The
longest go first, so that none is left to run alone at the end: ``pytest.mark.waits(seconds)`` says
roughly how long a test takes where that is far more than TYPICAL_WAIT (a deploy tool's timeout, a
low clock speed). Waiting modules are otherwise mixed evenly with each other.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import pytest

WAITS = "waits"
TYPICAL_WAIT = 5.0  # seconds: a simulated deployment of the fault suite or the scenarios, roughly


def waits(item: pytest.Item) -> bool:
    return item.get_closest_marker(WAITS) is not None


def waits_seconds(item: pytest.Item) -> float:
    """The rough wall time a ``waits`` test takes: what its mark says, or TYPICAL_WAIT."""
    mark = item.get_closest_marker(WAITS)
    if mark is None:
        return 0.0
    return float(mark.kwargs.get("seconds", mark.args[0] if mark.args else TYPICAL_WAIT))


def busy_weight(item: pytest.Item) -> int:
    """1 for a slow test xdist hands out alone; a test of an ``xdist_group`` runs wherever its group
    does (first, under ``--dist loadgroup``), whatever its place in the order."""
    slow = item.get_closest_marker("slow") is not None
    return int(slow and item.get_closest_marker("xdist_group") is None)


def _by_module(items: Iterable[pytest.Item]) -> list[list[pytest.Item]]:
    return [list(block) for _, block in itertools.groupby(items, key=lambda item: item.path)]


def _kept_fixtures(item: pytest.Item) -> set[int]:
    """The fixtures a test uses that outlive it (class, module or package scope)."""
    info = getattr(item, "_fixtureinfo", None)  # pytest's own, as xdist reads it; absent on a non-Python item
    if info is None:
        return set()
    return {
        id(definition)
        for definitions in info.name2fixturedefs.values()
        for definition in definitions
        if definition.scope in ("class", "module", "package")
    }


def _room_between(before: pytest.Item, after: pytest.Item | None) -> bool:
    """Whether a test of another module may run between these two on one worker without tearing down
    and setting up again a fixture both use."""
    return after is None or not (_kept_fixtures(before) & _kept_fixtures(after))


def _evenly_mixed(blocks: Sequence[Sequence[pytest.Item]]) -> list[pytest.Item]:
    """The blocks' items merged so that each block's are spread evenly over the whole."""
    placed = [(index / len(block), item) for block in blocks for index, item in enumerate(block)]
    return [item for _, item in sorted(placed, key=lambda pair: pair[0])]


def spread_waits(items: list[pytest.Item]) -> list[pytest.Item]:
    """``items`` in the order above."""
    waiting = sorted(
        _evenly_mixed(_by_module(item for item in items if waits(item))), key=waits_seconds, reverse=True
    )
    others = [item for item in items if not waits(item)]
    busy = sum(busy_weight(item) for item in others)
    if not waiting or busy == 0:
        return items
    # Where each waiting test starts, as a share of all the waiting: it goes in once as large a share
    # of the busy tests has gone before it.
    seconds = [waits_seconds(item) for item in waiting]
    total = sum(seconds) or 1.0  # waits(seconds=0) everywhere: all start at once
    starts = [before / total for before in itertools.accumulate(seconds, initial=0.0)]
    ordered: list[pytest.Item] = []
    placed = passed = 0
    for item, after in zip(others, [*others[1:], None], strict=True):
        ordered.append(item)
        passed += busy_weight(item)
        while placed < len(waiting) and starts[placed] <= passed / busy and _room_between(item, after):
            ordered.append(waiting[placed])
            placed += 1
    return ordered + waiting[placed:]
