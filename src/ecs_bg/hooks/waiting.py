"""Waiting for a condition inside an invocation, and across invocations.

``wait_until`` polls a probe until shortly before the function's deadline; when the next poll
would not finish in time it raises ``StillWaiting``, which the handler turns into IN_PROGRESS with
the wait's state, so the next invocation resumes where this one stopped. ``StillWaiting`` is a
``BaseException``, as ``asyncio.CancelledError`` is: a stage function's defensive
``except Exception`` cannot turn a wait into FAILED by accident.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from ecs_bg.hooks.errors import CheckFailed
from ecs_bg.hooks.result import Verdict, VerdictStatus

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

# Time kept back before the deadline to build the answer and return it.
DEADLINE_MARGIN_SECONDS: Final = 2.0


class Clock(Protocol):
    def time(self) -> float: ...  # wall clock: wait state outlives the invocation

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class StillWaiting(BaseException):
    """The wait ``wait`` goes on in the next invocation; only the handler catches this."""

    def __init__(self, wait: str, reason: str, callback_delay: int) -> None:
        super().__init__(reason)
        self.wait = wait
        self.reason = reason
        self.callback_delay = callback_delay


class Waiter(Protocol):
    """What a wait needs of the hook context."""

    @property
    def state(self) -> dict[str, Any]: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def logger(self) -> Logger: ...

    def remaining_seconds(self) -> float: ...


def waited(ctx: Waiter, name: str) -> float:
    """Seconds since the wait ``name`` first started, in whichever invocation (0 if it has not)."""
    record = ctx.state.get("waits", {}).get(name)
    return ctx.clock.time() - float(record["startedAt"]) if record else 0.0


def wait_until(
    ctx: Waiter,
    name: str,
    probe: Callable[[], Verdict],
    *,
    interval: float = 5.0,
    timeout: float = 900.0,
    callback_delay: int | None = None,
) -> Verdict:
    """Poll ``probe`` every ``interval`` seconds until it passes, across invocations.

    PASSED returns the verdict; FAILED, or still PENDING ``timeout`` seconds after the wait first
    started (in whichever invocation), raises CheckFailed. When the next poll would not finish
    before the deadline, raises ``StillWaiting``: the invocation ends with IN_PROGRESS and ECS calls
    back after ``callback_delay`` seconds (default: ``interval``), resuming this wait.
    """
    waits: dict[str, Any] = ctx.state.setdefault("waits", {})
    record: dict[str, Any] = waits.setdefault(name, {"startedAt": ctx.clock.time(), "polls": 0})
    if record.get("passed"):
        return Verdict.passed(f"{name} passed in an earlier invocation")
    while True:
        began = ctx.clock.monotonic()
        verdict = probe()
        took = ctx.clock.monotonic() - began
        record["polls"] = record.get("polls", 0) + 1
        so_far = waited(ctx, name)
        ctx.logger.debug(
            "wait poll",
            extra={
                "wait": name,
                "verdict": verdict.status.value,
                "why": verdict.reason,
                "waitedSeconds": so_far,
            },
        )
        if verdict.status is VerdictStatus.PASSED:
            record["passed"] = True
            ctx.logger.info(
                "wait over",
                extra={"wait": name, "waitedSeconds": round(so_far, 3), "polls": record["polls"]},
            )
            return verdict
        if verdict.status is VerdictStatus.FAILED:
            raise CheckFailed(name, verdict.reason)
        if so_far >= timeout:
            raise CheckFailed(name, f"still not met after {timeout:g}s: {verdict.reason}")
        pause = min(interval, timeout - so_far)
        if ctx.remaining_seconds() - DEADLINE_MARGIN_SECONDS - took < pause:
            delay = callback_delay if callback_delay is not None else max(1, round(interval))
            raise StillWaiting(name, verdict.reason, delay)
        ctx.clock.sleep(pause)
