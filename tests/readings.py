"""How ECS may hand an IN_PROGRESS answer's hookDetails to the next invocation.

ECS's docs say "merged"; AWS's own sample had to re-send its configured keys, so ECS may replace
them (docs/aws-facts.md §2). A hook must behave the same under every reading.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ecs_bg.hooks.config import merge

# (what the last invocation received, what it returned) -> what the next one receives
Reading = Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]

READINGS: dict[str, Reading] = {
    "replace": lambda received, returned: dict(returned),
    "shallow-merge": lambda received, returned: {**received, **returned},
    "deep-merge": merge,
}
