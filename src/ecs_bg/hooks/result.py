"""What a hook answers ECS, and the verdicts checks give on the way there.

ECS reads ``hookStatus``; with IN_PROGRESS it also reads ``callBackDelay`` (seconds until it invokes
the hook again) and passes the returned ``hookDetails`` to the next invocation (merged or replacing
the configured ones: the runtime answers so that both read the same). Nothing else belongs in the
response: ``callBackDelaySeconds`` and similar keys are silently ignored by ECS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from ecs_bg.hooks.ecs import CALLBACK_DELAY_SECONDS, HookStatus
from ecs_bg.hooks.errors import CheckFailed as CheckFailed

__all__ = [
    "DEFAULT_CALLBACK_DELAY",
    "MAX_CALLBACK_DELAY",
    "CheckFailed",
    "HookResult",
    "HookStatus",
    "Verdict",
    "VerdictStatus",
]

DEFAULT_CALLBACK_DELAY: Final = int(CALLBACK_DELAY_SECONDS.default or 0)  # ECS's when IN_PROGRESS names none
MAX_CALLBACK_DELAY: Final = int(CALLBACK_DELAY_SECONDS.maximum)


@dataclass(frozen=True)
class HookResult:
    status: HookStatus
    reason: str = ""  # logged, never sent: ECS has no field for it
    callback_delay: int | None = None
    hook_details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.callback_delay is None:
            return
        if self.status is not HookStatus.IN_PROGRESS:
            raise ValueError("callBackDelay applies only to IN_PROGRESS")
        delay = self.callback_delay
        if isinstance(delay, bool) or not isinstance(delay, int) or not 1 <= delay <= MAX_CALLBACK_DELAY:
            raise ValueError(
                f"callBackDelay must be whole seconds from 1 to {MAX_CALLBACK_DELAY}, got {delay!r}"
            )

    @classmethod
    def succeeded(cls, reason: str = "") -> HookResult:
        return cls(HookStatus.SUCCEEDED, reason)

    @classmethod
    def failed(cls, reason: str) -> HookResult:
        return cls(HookStatus.FAILED, reason)

    @classmethod
    def in_progress(
        cls,
        reason: str = "",
        *,
        callback_delay: int = DEFAULT_CALLBACK_DELAY,
        hook_details: Mapping[str, Any] | None = None,
    ) -> HookResult:
        return cls(HookStatus.IN_PROGRESS, reason, callback_delay, hook_details or {})

    def to_response(self) -> dict[str, Any]:
        """The dict the Lambda returns to ECS, and nothing more."""
        response: dict[str, Any] = {"hookStatus": self.status.value}
        if self.status is HookStatus.IN_PROGRESS:
            response["callBackDelay"] = self.callback_delay or DEFAULT_CALLBACK_DELAY
            if self.hook_details:
                response["hookDetails"] = dict(self.hook_details)
        return response


class VerdictStatus(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    PENDING = "PENDING"  # not yet decided: keep waiting, if the caller waits


@dataclass(frozen=True)
class Verdict:
    """One look at a condition: passed, failed, or not decided yet, and why."""

    status: VerdictStatus
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def passed(cls, reason: str = "", **data: Any) -> Verdict:
        return cls(VerdictStatus.PASSED, reason, data)

    @classmethod
    def failed(cls, reason: str, **data: Any) -> Verdict:
        return cls(VerdictStatus.FAILED, reason, data)

    @classmethod
    def pending(cls, reason: str, **data: Any) -> Verdict:
        return cls(VerdictStatus.PENDING, reason, data)
