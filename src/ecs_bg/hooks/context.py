"""What a stage function gets: the event, its hookDetails and settings, the deadline, and ways to
wait for a condition and to run checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ecs_bg.hooks import waiting
from ecs_bg.hooks.checks.runner import run_checks
from ecs_bg.hooks.config import parse_config
from ecs_bg.hooks.event import HookEvent
from ecs_bg.hooks.result import Verdict
from ecs_bg.hooks.waiting import Clock

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

T = TypeVar("T")


@dataclass
class HookContext:
    """What a stage function gets: the event, its settings, the deadline and a way to wait."""

    event: HookEvent
    details: dict[str, Any]
    logger: Logger
    clock: Clock
    deadline: float  # on clock.monotonic()
    state: dict[str, Any] = field(default_factory=dict)
    # What the checks that ran found: the reason a SUCCEEDED decision gives.
    passed: list[str] = field(default_factory=list)

    def remaining_seconds(self) -> float:
        return self.deadline - self.clock.monotonic()

    def settings(self, cls: type[T], key: str) -> T:
        """The typed settings of ``key`` in hookDetails ({} when absent: every field defaulted)."""
        return parse_config(cls, self.details.get(key, {}), key)

    def run_checks(self, *names: str) -> list[Verdict]:
        """Run the named checks that hookDetails enables (see checks.runner.run_checks)."""
        return run_checks(self, *names)

    def waited(self, name: str) -> float:
        """Seconds since the wait ``name`` first started, in whichever invocation (0 if it has not)."""
        return waiting.waited(self, name)

    def wait_until(
        self,
        name: str,
        probe: Callable[[], Verdict],
        *,
        interval: float = 5.0,
        timeout: float = 900.0,
        callback_delay: int | None = None,
    ) -> Verdict:
        """Poll ``probe`` until it passes, across invocations (see waiting.wait_until)."""
        return waiting.wait_until(
            self, name, probe, interval=interval, timeout=timeout, callback_delay=callback_delay
        )
