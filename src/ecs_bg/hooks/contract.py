"""The response contract as ECS reads it: what a hook's answer means to the deployment.

``result.py`` builds answers; ``judge`` reads any answer, ours or not, exactly as ECS does. The
simulator's engine and ``ecs-bg invoke`` both judge with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ecs_bg.hooks.config import json_type
from ecs_bg.hooks.ecs import HookStatus

HOOK_STATUSES: Final = tuple(HookStatus)


@dataclass(frozen=True)
class HookAnswer:
    """A hook's response as ECS reads it; ``problem`` is set when it rolls the deployment back."""

    status: str
    problem: str | None = None
    callback_delay: int | None = None
    hook_details: Mapping[str, Any] = field(default_factory=dict)


def judge(response: object, error: str | None, default_delay: int) -> HookAnswer:
    """Read a hook's response exactly as ECS does (docs/aws-facts.md §2): anything unexpected rolls back."""
    if error is not None:
        return HookAnswer("ERROR", f"the invocation failed: {error}")
    if not isinstance(response, Mapping):
        return HookAnswer("INVALID", f"returned {json_type(response)}, not an object with hookStatus")
    if "hookStatus" not in response:
        keys = ", ".join(map(str, response)) or "none"
        return HookAnswer("INVALID", f"returned no hookStatus (keys: {keys})")
    status = response["hookStatus"]
    if status not in HOOK_STATUSES:
        return HookAnswer(
            "INVALID", f"returned hookStatus {status!r}; ECS accepts {', '.join(HOOK_STATUSES)}"
        )
    if status == HookStatus.FAILED:
        return HookAnswer(HookStatus.FAILED, "returned FAILED")
    if status == HookStatus.SUCCEEDED:
        return HookAnswer(HookStatus.SUCCEEDED)
    delay = response.get("callBackDelay", default_delay)
    if isinstance(delay, bool) or not isinstance(delay, int) or delay < 0:
        return HookAnswer("INVALID", f"returned callBackDelay {delay!r}; it must be whole seconds, 0 or more")
    details = response.get("hookDetails", {})
    if not isinstance(details, Mapping):
        # Not documented either way; ECS could not merge it, so it counts as an invalid response.
        return HookAnswer("INVALID", f"returned hookDetails as {json_type(details)}, not an object")
    return HookAnswer(HookStatus.IN_PROGRESS, None, delay, details)
