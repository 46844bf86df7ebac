"""The handler wrapper: dispatch, never raising, rollbacks, logs, and waiting across invocations."""

from __future__ import annotations

import io
import itertools
from typing import Any

import pytest

from ecs_bg.hooks import HookContext, HookResult, LifecycleHook, Stage, Verdict
from ecs_bg.hooks.checks import CHECKS
from ecs_bg.hooks.config import MAX_HOOK_DETAILS_BYTES, STATE_BUDGET_BYTES, STATE_KEY, json_size
from ecs_bg.lifecycle.events import lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.conftest import VirtualClock, log_lines
from tests.readings import READINGS, Reading

_names = itertools.count()


def new_hook(clock: VirtualClock | None = None, **kwargs: Any) -> tuple[LifecycleHook, io.StringIO]:
    stream = io.StringIO()
    # A unique name per hook: Powertools loggers of one name share their first handler.
    return LifecycleHook(f"test-hook-{next(_names)}", clock=clock, log_stream=stream, **kwargs), stream


def test_dispatches_on_the_stage_and_one_function_serves_several_stages() -> None:
    hook, _ = new_hook()
    seen: list[Stage] = []

    @hook.stage(Stage.TEST_TRAFFIC_SHIFT, Stage.POST_TEST_TRAFFIC_SHIFT)
    def check(ctx: HookContext) -> None:
        seen.append(ctx.event.stage)

    @hook.stage(Stage.PRE_SCALE_UP)
    def refuse(ctx: HookContext) -> HookResult:
        return HookResult.failed("not today")

    assert hook.handler(lifecycle_event("TEST_TRAFFIC_SHIFT")) == {"hookStatus": "SUCCEEDED"}
    assert hook.handler(lifecycle_event("POST_TEST_TRAFFIC_SHIFT")) == {"hookStatus": "SUCCEEDED"}
    assert hook.handler(lifecycle_event("PRE_SCALE_UP")) == {"hookStatus": "FAILED"}
    assert seen == [Stage.TEST_TRAFFIC_SHIFT, Stage.POST_TEST_TRAFFIC_SHIFT]
    assert hook.stages == {Stage.TEST_TRAFFIC_SHIFT, Stage.POST_TEST_TRAFFIC_SHIFT, Stage.PRE_SCALE_UP}


def test_registering_a_stage_twice_is_refused() -> None:
    hook, _ = new_hook()
    hook.stage(Stage.PRE_SCALE_UP)(lambda ctx: None)
    with pytest.raises(ValueError, match="already handled"):
        hook.stage(Stage.PRE_SCALE_UP)(lambda ctx: None)


def test_a_stage_without_a_function_fails_and_says_how_to_fix_it() -> None:
    hook, stream = new_hook()
    hook.stage(Stage.PRE_SCALE_UP)(lambda ctx: None)
    assert hook.handler(lifecycle_event("POST_SCALE_UP")) == {"hookStatus": "FAILED"}
    decision = log_lines(stream)[-1]
    assert "has no function for POST_SCALE_UP (it handles: PRE_SCALE_UP)" in decision["reason"]


def test_an_exception_becomes_failed_with_its_reason_logged_and_secrets_kept_out() -> None:
    hook, stream = new_hook()

    @hook.stage(Stage.PRE_SCALE_UP)
    def notify(ctx: HookContext) -> None:
        raise ConnectionError("POST https://hooks.slack.com/services/T000/B000/SECRETTOKEN failed")

    assert hook.handler(lifecycle_event("PRE_SCALE_UP")) == {"hookStatus": "FAILED"}
    logs = stream.getvalue()
    assert "SECRETTOKEN" not in logs
    lines = log_lines(stream)
    raised = next(line for line in lines if line["message"] == "stage function raised")
    assert raised["error"] == "ConnectionError"
    assert raised["why"] == "POST https://hooks.slack.com/… failed"
    assert raised["at"].endswith(f"test_runtime.py:{notify.__code__.co_firstlineno + 2}")
    assert lines[-1]["reason"] == "notify raised ConnectionError: POST https://hooks.slack.com/… failed"


def test_a_malformed_event_fails_with_a_log_line_naming_the_field() -> None:
    hook, stream = new_hook()
    hook.stage(Stage.PRE_SCALE_UP)(lambda ctx: None)
    event = lifecycle_event("PRE_SCALE_UP")
    del event["executionDetails"]["serviceArn"]
    assert hook.handler(event) == {"hookStatus": "FAILED"}
    invalid = next(line for line in log_lines(stream) if line["message"] == "invalid event")
    assert (invalid["field"], invalid["why"]) == ("executionDetails.serviceArn", "missing")


def test_returning_something_other_than_a_hook_result_fails() -> None:
    hook, stream = new_hook()
    hook.stage(Stage.PRE_SCALE_UP)(lambda ctx: {"hookStatus": "SUCCEEDED"})  # type: ignore[arg-type,return-value]
    assert hook.handler(lifecycle_event("PRE_SCALE_UP")) == {"hookStatus": "FAILED"}
    assert "returned dict, not a HookResult" in log_lines(stream)[-1]["reason"]


@pytest.mark.parametrize("stage", [Stage.TEST_TRAFFIC_SHIFT, Stage.PRODUCTION_TRAFFIC_SHIFT])
def test_rollback_reinvocations_succeed_at_once_unless_opted_in(stage: Stage) -> None:
    calls: list[bool] = []
    hook, _ = new_hook()
    hook.stage(stage)(lambda ctx: calls.append(ctx.event.is_rollback) or HookResult.failed("would block"))
    assert hook.handler(lifecycle_event(stage, rollback=True)) == {"hookStatus": "SUCCEEDED"}
    assert calls == []
    opted = lifecycle_event(stage, rollback=True, hook_details={"runOnRollback": True})
    assert hook.handler(opted) == {"hookStatus": "FAILED"}
    assert calls == [True]
    always, _ = new_hook(run_on_rollback=True)
    always.stage(stage)(lambda ctx: calls.append(ctx.event.is_rollback) or None)
    assert always.handler(lifecycle_event(stage, rollback=True)) == {"hookStatus": "SUCCEEDED"}
    assert calls == [True, True]


@pytest.mark.parametrize(
    ("hook_details", "message"),
    [
        ({"smokeTst": {}}, "hookDetails.smokeTst: unknown key"),
        ({"smokeTest": {"attempts": 0}}, "hookDetails.smokeTest.attempts: 0 is out of range [1, 100]"),
        ({"smokeTest": {"path": "health"}}, "hookDetails.smokeTest: path must start with '/'"),
        ({STATE_KEY: "x"}, f"hookDetails.{STATE_KEY}: runtime state must be an object"),
    ],
)
def test_invalid_hook_details_fail_before_anything_runs(hook_details: dict[str, Any], message: str) -> None:
    ran: list[str] = []
    hook, stream = new_hook()
    hook.stage(Stage.PRE_SCALE_UP)(lambda ctx: ran.append("ran") or None)
    assert hook.handler(lifecycle_event("PRE_SCALE_UP", hook_details=hook_details)) == {
        "hookStatus": "FAILED"
    }
    assert ran == []
    assert message in log_lines(stream)[-1]["reason"]


def test_every_log_line_carries_the_invocation_keys_and_they_do_not_leak() -> None:
    hook, stream = new_hook()

    @hook.stage(Stage.POST_SCALE_UP)
    def talk(ctx: HookContext) -> None:
        ctx.logger.info("one")
        ctx.logger.warning("two")

    hook.handler(lifecycle_event("POST_SCALE_UP", execution_id="exec-1"))
    lines = log_lines(stream)
    assert len(lines) == 3
    for line in lines:
        assert line["executionId"] == "exec-1"
        assert line["stage"] == "POST_SCALE_UP"
        assert line["service"] == "my-service"
        assert line["cluster"] == "my-cluster"
        assert line["revision"] == "9313423515462893900"
        assert line["hook"] == hook.name
    decision = lines[-1]
    assert decision["message"] == "hook decision"
    assert decision["hookStatus"] == "SUCCEEDED"
    assert isinstance(decision["durationMs"], float)

    hook.handler({"not": "an event"})
    after = log_lines(stream)[3:]
    assert after
    assert all("executionId" not in line for line in after)


class ConditionAt:
    """A condition that turns true at a given (virtual) time; counts how often it was asked."""

    def __init__(self, clock: VirtualClock, true_at: float) -> None:
        self.clock, self.true_at, self.polls = clock, true_at, 0

    def __call__(self) -> Verdict:
        self.polls += 1
        if self.clock.now >= self.true_at:
            return Verdict.passed("ready")
        return Verdict.pending(f"{self.true_at - self.clock.now:g}s to go")


def run_like_ecs(
    hook: LifecycleHook,
    clock: VirtualClock,
    configured: dict[str, Any],
    *,
    timeout: float,
    reading: Reading = READINGS["deep-merge"],
    received: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Invoke as ECS does: again after callBackDelay, with the returned hookDetails as ``reading``
    hands them on; ``received`` collects the hookDetails of each invocation."""
    responses: list[dict[str, Any]] = []
    details = dict(configured)
    for _ in range(20):
        if received is not None:
            received.append(details)
        context = LocalLambdaContext("hook", timeout_seconds=timeout, monotonic=clock.monotonic)
        response = hook.handler(lifecycle_event("POST_SCALE_UP", hook_details=details), context)
        responses.append(response)
        assert context.get_remaining_time_in_millis() > 0, "the invocation overran its deadline"
        if response["hookStatus"] != "IN_PROGRESS":
            return responses
        clock.sleep(response["callBackDelay"])
        details = reading(details, response.get("hookDetails", {}))
    raise AssertionError("never finished")


def test_a_wait_resumes_across_invocations_and_reports_soon_after_the_condition(
    clock: VirtualClock, reading: Reading
) -> None:
    hook, stream = new_hook(clock, custom_keys=["team"])
    condition = ConditionAt(clock, true_at=clock.now + 100)
    started = clock.now

    @hook.stage(Stage.POST_SCALE_UP)
    def wait_for_green(ctx: HookContext) -> None:
        ctx.wait_until("green-ready", condition, interval=1, timeout=600)

    responses = run_like_ecs(hook, clock, {"team": "payments"}, timeout=30, reading=reading)
    statuses = [r["hookStatus"] for r in responses]
    assert statuses == ["IN_PROGRESS"] * 3 + ["SUCCEEDED"]
    assert all(r["callBackDelay"] == 1 for r in responses[:-1])
    state = responses[-2]["hookDetails"][STATE_KEY]["waits"]["green-ready"]
    assert state["startedAt"] == started  # the wait kept its start across invocations
    assert clock.now - condition.true_at <= 1  # reported within one poll interval of turning true
    finished = [line for line in log_lines(stream) if line["message"] == "wait over"]
    assert finished[0]["polls"] == condition.polls


def test_a_wait_that_outlasts_its_timeout_fails_even_across_invocations(clock: VirtualClock) -> None:
    hook, stream = new_hook(clock)
    hook.stage(Stage.POST_SCALE_UP)(
        lambda ctx: (
            ctx.wait_until("never", ConditionAt(clock, float("inf")), interval=5, timeout=120) and None
        )
    )
    responses = run_like_ecs(hook, clock, {}, timeout=60)
    assert responses[-1] == {"hookStatus": "FAILED"}
    assert len(responses) == 3
    assert "never: still not met after 120s" in log_lines(stream)[-1]["reason"]


def test_a_failed_verdict_ends_the_wait_at_once(clock: VirtualClock) -> None:
    hook, stream = new_hook(clock)
    hook.stage(Stage.POST_SCALE_UP)(
        lambda ctx: ctx.wait_until("migration", lambda: Verdict.failed("exit code 1")) and None
    )
    context = LocalLambdaContext("hook", timeout_seconds=300, monotonic=clock.monotonic)
    assert hook.handler(lifecycle_event("POST_SCALE_UP"), context) == {"hookStatus": "FAILED"}
    assert clock.sleeps == []
    assert log_lines(stream)[-1]["reason"] == "migration: exit code 1"


def test_a_function_returning_in_progress_keeps_the_runtime_wait_state(clock: VirtualClock) -> None:
    hook, _ = new_hook(clock)

    @hook.stage(Stage.POST_SCALE_UP)
    def two_steps(ctx: HookContext) -> HookResult:
        ctx.wait_until("first", lambda: Verdict.passed("done"))
        return HookResult.in_progress("second step running", callback_delay=10, hook_details={"step": 2})

    context = LocalLambdaContext("hook", timeout_seconds=300, monotonic=clock.monotonic)
    response = hook.handler(lifecycle_event("POST_SCALE_UP"), context)
    assert response["hookStatus"] == "IN_PROGRESS"
    assert response["callBackDelay"] == 10
    assert response["hookDetails"]["step"] == 2
    assert response["hookDetails"][STATE_KEY]["waits"]["first"]["passed"] is True


CONFIGURED: dict[str, Any] = {"team": {"name": "payments", "channel": "#deploys"}, "runOnRollback": False}


def stepped_hook(clock: VirtualClock) -> LifecycleHook:
    """A wait across invocations, then two steps the stage function carries in its own hookDetails."""
    hook, _ = new_hook(clock, custom_keys=["team", "progress"])
    ready = ConditionAt(clock, true_at=clock.now + 50)

    @hook.stage(Stage.POST_SCALE_UP)
    def in_steps(ctx: HookContext) -> HookResult | None:
        ctx.wait_until("ready", ready, interval=1, timeout=600)
        step = ctx.details.get("progress", {}).get("step", 0)
        if step < 2:
            own = {"progress": {"step": step + 1, f"note{step + 1}": "done"}}
            return HookResult.in_progress(f"step {step + 1}", callback_delay=5, hook_details=own)
        return None

    return hook


def test_every_in_progress_answer_carries_the_configured_keys_and_the_state() -> None:
    clock = VirtualClock()
    responses = run_like_ecs(stepped_hook(clock), clock, CONFIGURED, timeout=30, reading=READINGS["replace"])
    assert [r["hookStatus"] for r in responses] == ["IN_PROGRESS"] * 3 + ["SUCCEEDED"]
    for response in responses[:-1]:
        details = response["hookDetails"]
        assert {key: details[key] for key in CONFIGURED} == CONFIGURED
        assert details[STATE_KEY]["waits"]["ready"]["startedAt"] == 1_000_000.0
    # The stage function's own keys are kept beside them, and built upon step by step.
    assert responses[-2]["hookDetails"]["progress"] == {"step": 2, "note1": "done", "note2": "done"}


def test_each_invocation_receives_the_same_hook_details_under_every_reading() -> None:
    received: dict[str, list[dict[str, Any]]] = {}
    for name, reading in READINGS.items():
        clock = VirtualClock()
        received[name] = []
        run_like_ecs(
            stepped_hook(clock), clock, CONFIGURED, timeout=30, reading=reading, received=received[name]
        )
    assert len(received["replace"]) == 4
    assert received["replace"] == received["shallow-merge"] == received["deep-merge"]


def test_a_stage_functions_own_in_progress_without_state_carries_the_configured_keys() -> None:
    hook, _ = new_hook(custom_keys=["team"])
    hook.stage(Stage.POST_SCALE_UP)(lambda ctx: HookResult.in_progress("not yet", callback_delay=10))
    assert hook.handler(lifecycle_event("POST_SCALE_UP", hook_details=CONFIGURED)) == {
        "hookStatus": "IN_PROGRESS",
        "callBackDelay": 10,
        "hookDetails": CONFIGURED,
    }


def test_a_stage_function_cannot_overwrite_the_runtime_state(clock: VirtualClock) -> None:
    hook, _ = new_hook(clock)

    @hook.stage(Stage.POST_SCALE_UP)
    def meddle(ctx: HookContext) -> HookResult:
        ctx.wait_until("first", lambda: Verdict.passed("done"))
        return HookResult.in_progress("again", hook_details={STATE_KEY: {"waits": {}}})

    response = hook.handler(lifecycle_event("POST_SCALE_UP"))
    assert response["hookDetails"][STATE_KEY]["waits"]["first"]["passed"] is True


def test_an_answer_over_the_limit_fails_instead_of_being_refused_by_ecs() -> None:
    hook, stream = new_hook(custom_keys=["blob"])
    big = {"blob": "x" * MAX_HOOK_DETAILS_BYTES}
    hook.stage(Stage.POST_SCALE_UP)(lambda ctx: HookResult.in_progress("again", hook_details=big))
    assert hook.handler(lifecycle_event("POST_SCALE_UP")) == {"hookStatus": "FAILED"}
    assert f"over the {MAX_HOOK_DETAILS_BYTES}-byte limit" in log_lines(stream)[-1]["reason"]


def test_a_state_over_its_budget_fails(clock: VirtualClock) -> None:
    hook, stream = new_hook(clock)

    @hook.stage(Stage.POST_SCALE_UP)
    def many_waits(ctx: HookContext) -> None:
        for n in range(200):
            ctx.wait_until(f"wait-{n:03}", lambda: Verdict.passed("done"))
        ctx.wait_until("last", lambda: Verdict.pending("not yet"))

    context = LocalLambdaContext("hook", timeout_seconds=3, monotonic=clock.monotonic)
    assert hook.handler(lifecycle_event("POST_SCALE_UP"), context) == {"hookStatus": "FAILED"}
    assert f"over its {STATE_BUDGET_BYTES}-byte budget" in log_lines(stream)[-1]["reason"]


def test_the_largest_state_the_checks_keep_fits_its_budget() -> None:
    """Every check's wait at once, with the longest values AWS allows in the migration record."""
    wait = {"startedAt": 1_800_000_000.123456, "polls": 10**9, "passed": True}
    state = {
        "waits": {name: wait for name in CHECKS},
        "migration": {
            "arn": f"arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task/{'c' * 255}/{'f' * 32}",
            "container": "n" * 255,
            "log_group": "g" * 512,
            "log_stream": "s" * 512,
        },
        "metricGate": {"taken": 1000, "failed": 1000, "inconclusive": 1000},
    }
    assert json_size(state) <= STATE_BUDGET_BYTES


def test_without_a_lambda_context_the_lambda_maximum_is_assumed(clock: VirtualClock) -> None:
    hook, _ = new_hook(clock)
    remaining: list[float] = []
    hook.stage(Stage.PRE_SCALE_UP)(lambda ctx: remaining.append(ctx.remaining_seconds()) or None)
    hook.handler(lifecycle_event("PRE_SCALE_UP"))
    assert remaining == [900.0]


def test_a_defensive_except_exception_cannot_turn_a_wait_into_failed(clock: VirtualClock) -> None:
    hook, _ = new_hook(clock)

    @hook.stage(Stage.POST_SCALE_UP)
    def careful(ctx: HookContext) -> HookResult | None:
        try:
            ctx.wait_until("green-ready", ConditionAt(clock, clock.now + 100), interval=5, timeout=600)
        except Exception as error:  # noqa: BLE001 - a stage function guarding itself, as people do
            return HookResult.failed(f"unexpected: {error}")
        return None

    context = LocalLambdaContext("hook", timeout_seconds=30, monotonic=clock.monotonic)
    response = hook.handler(lifecycle_event("POST_SCALE_UP"), context)
    assert response["hookStatus"] == "IN_PROGRESS"
    assert response["callBackDelay"] == 5
    assert response["hookDetails"][STATE_KEY]["waits"]["green-ready"]["polls"] > 0


def test_a_wait_outside_a_stage_function_fails_instead_of_escaping_the_handler(clock: VirtualClock) -> None:
    from ecs_bg.hooks.waiting import StillWaiting

    def wait_in_the_runtime(*args: object) -> HookResult:
        raise StillWaiting("green-ready", "not yet", 5)

    hook, stream = new_hook(clock)
    hook.stage(Stage.POST_SCALE_UP)(lambda ctx: None)
    hook._invoke = wait_in_the_runtime  # type: ignore[method-assign]
    assert hook.handler(lifecycle_event("POST_SCALE_UP")) == {"hookStatus": "FAILED"}
    assert "internal error in the hook runtime: StillWaiting" in log_lines(stream)[-1]["reason"]


def check_raising(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Make the smokeTest check raise ``error`` when it runs."""
    from ecs_bg.hooks.checks import http

    def run(ctx: HookContext, settings: object) -> Verdict:
        raise error

    monkeypatch.setattr(http, "run", run)


def smoke_test_hook(dry_run: bool) -> tuple[LifecycleHook, io.StringIO]:
    hook, stream = new_hook(defaults={"smokeTest": {"dryRun": dry_run}})
    hook.stage(Stage.POST_SCALE_UP)(lambda ctx: ctx.run_checks("smokeTest") and None)
    return hook, stream


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_bug_in_a_check_fails_the_hook_even_under_dry_run(
    monkeypatch: pytest.MonkeyPatch, dry_run: bool
) -> None:
    check_raising(monkeypatch, KeyError("TargetHealthDescriptions"))
    hook, stream = smoke_test_hook(dry_run)
    assert hook.handler(lifecycle_event("POST_SCALE_UP")) == {"hookStatus": "FAILED"}
    lines = log_lines(stream)
    assert not [line for line in lines if line["message"] == "check verdict"]  # a bug is not a verdict
    raised = next(line for line in lines if line["message"] == "stage function raised")
    assert raised["error"] == "KeyError"
    assert "test_runtime.py:" in raised["at"]
    assert "raised KeyError: 'TargetHealthDescriptions'" in lines[-1]["reason"]


def test_a_resource_not_found_is_a_verdict_that_dry_run_lets_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from ecs_bg.hooks import NotFound

    check_raising(monkeypatch, NotFound("target group tg-green not found"))
    hook, stream = smoke_test_hook(dry_run=True)
    assert hook.handler(lifecycle_event("POST_SCALE_UP")) == {"hookStatus": "SUCCEEDED"}
    lines = log_lines(stream)
    verdict = next(line for line in lines if line["message"] == "check verdict")
    assert (verdict["verdict"], verdict["why"]) == ("FAILED", "target group tg-green not found")
    assert any(line["message"].startswith("dryRun: the check would have failed") for line in lines)

    hook, stream = smoke_test_hook(dry_run=False)
    assert hook.handler(lifecycle_event("POST_SCALE_UP")) == {"hookStatus": "FAILED"}
    assert log_lines(stream)[-1]["reason"] == "smokeTest: target group tg-green not found"
