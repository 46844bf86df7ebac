"""The local Lambda context's deadline: Lambda hands the runtime an absolute deadline
(Lambda-Runtime-Deadline-Ms), so time a worker spends before it takes the request counts against the
function, as the runner's own timeout does."""

from __future__ import annotations

import time

from ecs_bg.local.lambda_.context import LocalLambdaContext


def test_a_deadline_given_counts_from_the_call_not_from_the_worker() -> None:
    # The runner called 4.5 s ago with a 6 s timeout: the handler has 1.5 s left, not 6.
    deadline_ms = int((time.time() + 1.5) * 1000)
    context = LocalLambdaContext("late", timeout_seconds=6.0, deadline_ms=deadline_ms)
    assert 1000 < context.get_remaining_time_in_millis() <= 1500


def test_without_a_deadline_the_timeout_runs_from_now() -> None:
    context = LocalLambdaContext("direct", timeout_seconds=6.0)
    assert 5500 < context.get_remaining_time_in_millis() <= 6000


def test_a_deadline_already_past_leaves_nothing() -> None:
    context = LocalLambdaContext("past", timeout_seconds=6.0, deadline_ms=int((time.time() - 1) * 1000))
    assert context.get_remaining_time_in_millis() == 0
