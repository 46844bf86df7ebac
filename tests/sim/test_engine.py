"""The lifecycle engine moving forward: stage order per strategy, hook events, answers, timers."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_bg.hooks.event import Stage
from ecs_bg.lifecycle.engine import (
    Engine,
    Finished,
    InvokeHook,
    ScaleDownBlue,
    ScaleDownGreen,
    ScaleUpGreen,
    SetTraffic,
)
from ecs_bg.lifecycle.events import ServiceIds
from ecs_bg.lifecycle.plan import DeploymentSpec, HookSpec
from tests.sim.harness import (
    BLUE,
    BLUE_GREEN,
    GREEN,
    IDS,
    NO_ANSWER,
    START,
    Clock,
    Driver,
    Raise,
    event_of,
    lambda_hook,
    pause_hook,
)

LAMBDA_STAGES = tuple(Stage)  # a Lambda hook may sit at every hookable stage
EVERYWHERE = lambda_hook("everywhere", *LAMBDA_STAGES, hook_details={"configured": True})


def spec(**kwargs: Any) -> DeploymentSpec:
    return DeploymentSpec(IDS, **kwargs)


def test_blue_green_walks_ecs_stages_in_order_and_acts_in_order() -> None:
    driver = Driver(spec(bake_time_minutes=5))
    assert driver.engine.status == "PENDING"
    assert driver.run() == "SUCCESSFUL"
    assert driver.stage_names() == BLUE_GREEN
    assert [type(action) for action in driver.actions] == [
        ScaleUpGreen,
        SetTraffic,
        SetTraffic,
        ScaleDownBlue,
        Finished,
    ]
    test_shift, production_shift = driver.traffic_moves
    assert test_shift == SetTraffic(production={GREEN: 0, BLUE: 100}, test={GREEN: 100, BLUE: 0})
    assert production_shift == SetTraffic(production={GREEN: 100, BLUE: 0}, test={GREEN: 100, BLUE: 0})
    assert driver.engine.traffic() == ({GREEN: 100, BLUE: 0}, {GREEN: 100, BLUE: 0})
    bake = driver.engine.stages[-2]
    assert (bake.stage, bake.start, bake.end) == ("BAKE_TIME", START, START + 300)
    assert driver.finished == ["SUCCESSFUL"]
    assert driver.engine.next_timer() is None
    assert all(record.step is None for record in driver.engine.stages)


@pytest.mark.parametrize(("active_revisions", "reconciles"), [(1, False), (2, True), (3, True)])
def test_reconcile_service_runs_first_only_with_more_than_one_active_revision(
    active_revisions: int, reconciles: bool
) -> None:
    driver = Driver(spec(active_revisions=active_revisions, hooks=(EVERYWHERE,)))
    assert driver.run() == "SUCCESSFUL"
    assert driver.stage_names() == (["RECONCILE_SERVICE"] if reconciles else []) + BLUE_GREEN
    assert (driver.invoked[0].stage is Stage.RECONCILE_SERVICE) is reconciles


def test_linear_shifts_in_ten_steps_with_a_bake_between_steps_but_not_after_the_last() -> None:
    driver = Driver(spec(strategy="LINEAR", step_percent=10, step_bake_minutes=6, hooks=(EVERYWHERE,)))
    assert driver.run() == "SUCCESSFUL"
    records = driver.engine.stages
    repeated = [(r.stage, r.step) for r in records if r.step is not None]
    assert repeated == [
        (stage, step)
        for step in range(1, 11)
        for stage in ("PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
    ]
    assert [r.stage for r in records if r.step is None] == [
        name for name in BLUE_GREEN if not name.startswith(("PRE_PRODUCTION", "PRODUCTION"))
    ]
    # Green's production weight after each step, as applied and as the step's events announce it.
    production_moves = [move.production for move in driver.traffic_moves[1:]]
    assert production_moves == [{GREEN: 10 * step, BLUE: 100 - 10 * step} for step in range(1, 11)]
    shifts = [inv for inv in driver.invoked if inv.stage is Stage.PRODUCTION_TRAFFIC_SHIFT]
    assert [inv.step for inv in shifts] == list(range(1, 11))
    assert [event_of(inv).production_traffic_weights[GREEN] for inv in shifts] == [
        10 * s for s in range(1, 11)
    ]
    pre_shifts = [inv for inv in driver.invoked if inv.stage is Stage.PRE_PRODUCTION_TRAFFIC_SHIFT]
    assert [event_of(inv).production_traffic_weights[GREEN] for inv in pre_shifts] == [
        10 * s for s in range(10)
    ]
    assert not any(event_of(inv).is_rollback for inv in driver.invoked)
    # A 6-minute bake ends each step's PRODUCTION_TRAFFIC_SHIFT except the one that reaches 100%.
    production_records = [r for r in records if r.stage == "PRODUCTION_TRAFFIC_SHIFT"]
    for record in production_records[:-1]:
        assert record.bake_start is not None
        assert record.end == record.bake_start + 360
    assert production_records[-1].bake_start is None
    assert production_records[-1].end == production_records[-1].start
    assert driver.clock.now == START + 9 * 360


def test_canary_shifts_the_canary_then_the_rest() -> None:
    driver = Driver(spec(strategy="CANARY", canary_percent=5, canary_bake_minutes=10, bake_time_minutes=1))
    assert driver.run() == "SUCCESSFUL"
    steps = [(r.stage, r.step, r.bake_start is not None) for r in driver.engine.stages if r.step]
    assert steps == [
        ("PRE_PRODUCTION_TRAFFIC_SHIFT", 1, False),
        ("PRODUCTION_TRAFFIC_SHIFT", 1, True),
        ("PRE_PRODUCTION_TRAFFIC_SHIFT", 2, False),
        ("PRODUCTION_TRAFFIC_SHIFT", 2, False),
    ]
    assert [move.production[GREEN] for move in driver.traffic_moves[1:]] == [5, 100]
    assert driver.clock.now == START + 600 + 60


def test_every_hook_is_invoked_at_exactly_its_stages_with_the_event_ecs_sends() -> None:
    hooks = (
        EVERYWHERE,
        lambda_hook("smoke", Stage.POST_TEST_TRAFFIC_SHIFT, hook_details={"smokeTest": {"path": "/health"}}),
    )
    driver = Driver(spec(hooks=hooks))
    assert driver.run() == "SUCCESSFUL"
    seen = [(inv.hook_id, inv.stage) for inv in driver.invoked]
    assert seen == [
        (hook.hook_id, stage)
        for stage in LAMBDA_STAGES
        if stage is not Stage.RECONCILE_SERVICE
        for hook in hooks
        if stage in hook.stages
    ]
    for inv in driver.invoked:
        event = event_of(inv)
        assert event.stage is inv.stage
        assert event.deployment.arn == IDS.deployment_arn
        assert event.green_revision_arn == GREEN
        assert event.is_rollback is False
        assert event.hook_details == dict(next(h for h in hooks if h.hook_id == inv.hook_id).hook_details)
        expected_test = {GREEN: 100, BLUE: 0} if inv.stage is Stage.TEST_TRAFFIC_SHIFT else {}
        expected_production = {
            Stage.PRE_PRODUCTION_TRAFFIC_SHIFT: {GREEN: 0, BLUE: 100},
            Stage.PRODUCTION_TRAFFIC_SHIFT: {GREEN: 100, BLUE: 0},
        }.get(inv.stage, {})
        assert event.test_traffic_weights == expected_test
        assert event.production_traffic_weights == expected_production
    execution_ids = {inv.event["executionId"] for inv in driver.invoked}
    assert len(execution_ids) == len(driver.invoked)


def test_shift_stages_move_traffic_before_their_hooks_run() -> None:
    driver = Driver(
        spec(hooks=(lambda_hook("shift", Stage.TEST_TRAFFIC_SHIFT, Stage.PRODUCTION_TRAFFIC_SHIFT),))
    )
    driver.start()
    driver.run_until(lambda: bool(driver.pending))
    first = driver.pending[0]
    assert first.stage is Stage.TEST_TRAFFIC_SHIFT
    assert driver.engine.traffic()[1] == {GREEN: 100, BLUE: 0}
    assert isinstance(driver.actions[driver.actions.index(first) - 1], SetTraffic)


@pytest.mark.parametrize("reading", ["merge", "replace"])
def test_in_progress_is_invoked_again_after_callbackdelay_with_the_returned_details(reading: Any) -> None:
    # Merged over what the hook saw last, or in place of it (the stricter reading, the default).
    kept = {"configured": 1} if reading == "merge" else {}
    answers = iter(
        [
            {"hookStatus": "IN_PROGRESS", "callBackDelay": 45, "hookDetails": {"polls": 1}},
            {"hookStatus": "IN_PROGRESS", "hookDetails": {"polls": 2, "seen": "x"}},
            {"hookStatus": "SUCCEEDED"},
        ]
    )
    hook = lambda_hook("poller", Stage.POST_SCALE_UP, hook_details={"configured": 1, "polls": 0})
    driver = Driver(spec(hooks=(hook,), hook_details_reading=reading), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: bool(driver.pending))
    first = driver.pending[0]
    driver.answer(first, next(answers))
    assert driver.engine.next_timer() == START + 45
    driver.clock.now = START + 44
    assert driver.engine.advance() == []
    driver.clock.now = START + 45
    (second,) = driver.take(driver.engine.advance())
    assert isinstance(second, InvokeHook)
    assert event_of(second).hook_details == {**kept, "polls": 1}
    driver.answer(second, next(answers))
    assert driver.engine.next_timer() == START + 45 + 30  # ECS's default callBackDelay
    driver.clock.now = START + 75
    (third,) = driver.take(driver.engine.advance())
    assert isinstance(third, InvokeHook)
    assert event_of(third).hook_details == {**kept, "polls": 2, "seen": "x"}
    driver.answer(third, next(answers))
    driver.respond = lambda inv: {"hookStatus": "SUCCEEDED"}
    assert driver.run() == "SUCCESSFUL"
    records = [r for r in driver.engine.invocations if r.hook_id == "poller"]
    assert [(r.hook_status, r.callback_delay, r.started - START) for r in records] == [
        ("IN_PROGRESS", 45, 0),
        ("IN_PROGRESS", 30, 45),
        ("SUCCEEDED", None, 75),
    ]


def test_callbackdelay_zero_invokes_again_in_the_same_call() -> None:
    driver = Driver(spec(hooks=(lambda_hook("eager", Stage.PRE_SCALE_UP),)), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: bool(driver.pending))
    (again,) = driver.answer(driver.pending[0], {"hookStatus": "IN_PROGRESS", "callBackDelay": 0})
    assert isinstance(again, InvokeHook)
    assert again.hook_id == "eager"


def test_callbackdelay_zero_is_allowed_and_details_do_not_leak_into_the_next_stage() -> None:
    hook = lambda_hook("poller", Stage.POST_SCALE_UP, Stage.POST_TEST_TRAFFIC_SHIFT)
    calls: list[dict[str, Any]] = []

    def respond(inv: InvokeHook) -> object:
        calls.append(dict(inv.event["hookDetails"]))
        if inv.stage is Stage.POST_SCALE_UP and not inv.event["hookDetails"]:
            return {"hookStatus": "IN_PROGRESS", "callBackDelay": 0, "hookDetails": {"state": 1}}
        return {"hookStatus": "SUCCEEDED"}

    assert Driver(spec(hooks=(hook,)), respond=respond).run() == "SUCCESSFUL"
    # hookDetails carry over within a stage only (UNCONFIRMED reading, see the engine).
    assert calls == [{}, {"state": 1}, {}]


@pytest.mark.parametrize(
    ("response", "problem"),
    [
        ("SUCCEEDED", "returned string, not an object with hookStatus"),
        (None, "returned null, not an object with hookStatus"),
        ({}, "returned no hookStatus (keys: none)"),
        ({"Lifecycle": "SUCCEEDED"}, "returned no hookStatus (keys: Lifecycle)"),
        ({"hookStatus": "OK"}, "returned hookStatus 'OK'; ECS accepts SUCCEEDED, FAILED, IN_PROGRESS"),
        ({"hookStatus": "succeeded"}, "returned hookStatus 'succeeded'"),
        ({"hookStatus": "IN_PROGRESS", "callBackDelay": "30"}, "returned callBackDelay '30'"),
        ({"hookStatus": "IN_PROGRESS", "callBackDelay": -1}, "returned callBackDelay -1"),
        ({"hookStatus": "IN_PROGRESS", "callBackDelay": 1.5}, "returned callBackDelay 1.5"),
        ({"hookStatus": "IN_PROGRESS", "callBackDelay": True}, "returned callBackDelay True"),
        ({"hookStatus": "IN_PROGRESS", "hookDetails": "x"}, "returned hookDetails as string"),
        ({"hookStatus": "FAILED"}, "returned FAILED"),
        (Raise("Task timed out after 900.00 seconds"), "the invocation failed: Task timed out"),
    ],
)
def test_anything_but_a_valid_answer_rolls_back_with_a_reason_naming_it(
    response: object, problem: str
) -> None:
    hook = lambda_hook("picky", Stage.POST_SCALE_UP)
    driver = Driver(spec(hooks=(hook,)), respond=lambda inv: response)
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    reason = driver.engine.rollback_reason
    assert reason is not None
    assert reason.startswith("hook picky at POST_SCALE_UP ")
    assert problem in reason
    record = driver.engine.invocations[0]
    expected = {"FAILED": "FAILED", "ERROR": "ERROR"}.get(
        "ERROR" if isinstance(response, Raise) else "FAILED" if problem == "returned FAILED" else "",
        "INVALID",
    )
    assert record.hook_status == expected
    assert driver.engine.lifecycle_hook_details()[0]["status"] == "FAILED"
    assert driver.stage_names() == ["PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP"]


def test_callbackdelay_seconds_is_not_ecs_key_and_the_default_applies() -> None:
    hook = lambda_hook("typo", Stage.POST_SCALE_UP)
    driver = Driver(spec(hooks=(hook,)), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: bool(driver.pending))
    driver.answer(driver.pending[0], {"hookStatus": "IN_PROGRESS", "callBackDelaySeconds": 5})
    assert driver.engine.next_timer() == START + 30


def test_parallel_hooks_start_together_and_one_failure_wins_over_a_late_success() -> None:
    hooks = (lambda_hook("slow", Stage.POST_SCALE_UP), lambda_hook("fails", Stage.POST_SCALE_UP))
    driver = Driver(spec(hooks=hooks), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: bool(driver.pending))
    slow, fails = driver.pending
    assert (slow.hook_id, fails.hook_id) == ("slow", "fails")
    driver.clock.now += 5
    # No shift stage was reached, so nothing is re-invoked: green is scaled down at once.
    assert driver.answer(fails, {"hookStatus": "FAILED"})[-1] == ScaleDownGreen()
    assert driver.engine.status == "ROLLBACK_IN_PROGRESS"
    driver.clock.now += 5
    assert driver.answer(slow, {"hookStatus": "SUCCEEDED"}) == []
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    assert driver.finished == ["ROLLBACK_SUCCESSFUL"]
    late = driver.engine.invocations[0]
    assert (late.hook_id, late.hook_status, late.ended) == ("slow", "SUCCEEDED", START + 10)
    assert "ignored" in late.reason or "abandoned" in late.reason


def test_a_stage_waits_for_every_hook_before_moving_on() -> None:
    hooks = (lambda_hook("a", Stage.POST_SCALE_UP), lambda_hook("b", Stage.POST_SCALE_UP))
    driver = Driver(spec(hooks=hooks), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: bool(driver.pending))
    a, b = driver.pending
    driver.answer(a, {"hookStatus": "SUCCEEDED"})
    assert driver.engine.stage == "POST_SCALE_UP"
    driver.answer(b, {"hookStatus": "SUCCEEDED"})
    assert driver.engine.stage != "POST_SCALE_UP"


@pytest.mark.parametrize("action", ["CONTINUE", "ROLLBACK"])
def test_a_hook_timeout_takes_its_configured_action(action: Any) -> None:
    hook = lambda_hook("hangs", Stage.POST_TEST_TRAFFIC_SHIFT, timeout_minutes=10, timeout_action=action)
    driver = Driver(
        spec(hooks=(hook,)), respond=lambda inv: {"hookStatus": "IN_PROGRESS", "callBackDelay": 240}
    )
    status = driver.run()
    records = driver.engine.invocations
    # Measured from the first invocation: at 0, 240, 480 s; the third is cut off at 600 s.
    assert [r.started - START for r in records[:3]] == [0, 240, 480]
    assert records[2].hook_status == "IN_PROGRESS"
    if action == "CONTINUE":
        assert status == "SUCCESSFUL"
        post_test = next(r for r in driver.engine.stages if r.stage == "POST_TEST_TRAFFIC_SHIFT")
        assert post_test.end == START + 600
    else:
        assert status == "ROLLBACK_SUCCESSFUL"
        assert driver.engine.rollback_reason == (
            "hook hangs at POST_TEST_TRAFFIC_SHIFT timed out after 10 minutes (action ROLLBACK)"
        )


def test_a_timeout_during_an_invocation_marks_it_timed_out_and_ignores_its_answer() -> None:
    hook = lambda_hook("stuck", Stage.PRE_SCALE_UP, timeout_minutes=1, timeout_action="CONTINUE")
    driver = Driver(spec(hooks=(hook,)), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: bool(driver.pending))
    (stuck,) = driver.pending
    driver.clock.now = START + 60
    driver.take(driver.engine.advance())
    assert driver.engine.stage == "SCALE_UP"
    assert driver.engine.invocations[0].hook_status == "TIMED_OUT"
    driver.answer(stuck, {"hookStatus": "FAILED"})
    assert driver.engine.status == "IN_PROGRESS"
    assert driver.engine.invocations[0].hook_status == "TIMED_OUT"


def test_a_stage_over_24_hours_rolls_back() -> None:
    # Only a PAUSE hook may outwait a stage: a Lambda hook's timeout ends at 1440 minutes.
    hook = pause_hook("patient", Stage.POST_SCALE_UP, timeout_minutes=20160)
    driver = Driver(spec(hooks=(hook,)))
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    assert (
        driver.engine.rollback_reason
        == "POST_SCALE_UP lasted over 24 hours, the longest ECS lets a stage run"
    )
    assert driver.clock.now == START + 24 * 3600


def test_scale_up_waits_for_green_to_be_healthy() -> None:
    driver = Driver(spec(), healthy=False)
    driver.start()
    assert driver.engine.stage == "SCALE_UP"
    driver.clock.now += 600
    driver.take(driver.engine.green_health(False))
    driver.take(driver.engine.advance())
    assert driver.engine.stage == "SCALE_UP"
    driver.take(driver.engine.green_health(True))
    assert driver.engine.stage != "SCALE_UP"
    assert driver.run() == "SUCCESSFUL"
    scale_up = driver.engine.stages[1]
    assert (scale_up.stage, scale_up.end) == ("SCALE_UP", START + 600)


def test_green_never_healthy_rolls_back_at_the_scale_up_timeout() -> None:
    driver = Driver(spec(scale_up_timeout_minutes=15), healthy=False)
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    assert driver.clock.now == START + 900
    assert (
        driver.engine.rollback_reason == "green did not pass its health checks within 15 minutes of SCALE_UP"
    )
    assert [move.production for move in driver.traffic_moves] == [{GREEN: 0, BLUE: 100}]


def test_health_reported_outside_scale_up_changes_nothing() -> None:
    driver = Driver(spec(bake_time_minutes=5))
    driver.run_until(lambda: driver.engine.stage == "BAKE_TIME")
    assert driver.take(driver.engine.green_health(False)) == []
    assert driver.run() == "SUCCESSFUL"


def test_a_late_driver_still_gets_timers_at_their_own_instants() -> None:
    clock = Clock()
    engine = Engine(spec(bake_time_minutes=5, strategy="CANARY", canary_bake_minutes=10), clock)
    engine.start()
    engine.green_health(True)
    clock.now = START + 10 * 3600  # the driver looks again hours later
    actions = engine.advance()
    assert actions[-1] == ScaleDownBlue()
    bake = engine.stages[-2]
    assert (bake.stage, bake.start, bake.end) == ("BAKE_TIME", START + 600, START + 900)


def test_the_deployment_stays_in_progress_until_blue_is_scaled_down() -> None:
    driver = Driver(spec(bake_time_minutes=1))
    driver.run_until(lambda: driver.scale_down_requested)
    assert (driver.engine.status, driver.engine.stage) == ("IN_PROGRESS", "CLEAN_UP")
    assert driver.engine.advance() == []  # nothing but the scale-down ends CLEAN_UP
    driver.clock.now += 30
    assert driver.engine.scaled_down() == [Finished("SUCCESSFUL")]
    clean_up = driver.engine.stages[-1]
    assert (clean_up.stage, clean_up.end - clean_up.start) == ("CLEAN_UP", 30)
    assert driver.engine.scaled_down() == []  # a second report changes nothing


def test_first_deployment_names_only_green_and_scales_no_blue_down() -> None:
    ids = ServiceIds(deployment_id="First1")
    driver = Driver(DeploymentSpec(ids, first_deployment=True, hooks=(EVERYWHERE,)))
    assert driver.run() == "SUCCESSFUL"
    green = ids.green_arn
    assert [(m.production, m.test) for m in driver.traffic_moves] == [
        ({green: 0}, {green: 100}),
        ({green: 100}, {green: 100}),
    ]
    assert not any(isinstance(action, ScaleDownBlue) for action in driver.actions)
    for inv in driver.invoked:
        assert event_of(inv).blue_revision_arn is None


def test_misuse_is_refused_with_clear_errors() -> None:
    clock = Clock()
    engine = Engine(spec(), clock)
    with pytest.raises(ValueError, match="no invocation 'nope' was requested"):
        engine.hook_result("nope", {"hookStatus": "SUCCEEDED"})
    engine.start()
    with pytest.raises(ValueError, match="already started"):
        engine.start()
    clock.now -= 1
    with pytest.raises(ValueError, match="clock went backwards"):
        engine.advance()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"hooks": (HookSpec("p", "PAUSE", (Stage.TEST_TRAFFIC_SHIFT,)),)},
            "not allowed at TEST_TRAFFIC_SHIFT",
        ),
        (
            {"hooks": (HookSpec("p", "PAUSE", (Stage.POST_SCALE_UP, Stage.PRODUCTION_TRAFFIC_SHIFT)),)},
            "'p': a PAUSE hook is not allowed at PRODUCTION_TRAFFIC_SHIFT",
        ),
        ({"hooks": (lambda_hook("a", Stage.PRE_SCALE_UP),) * 2}, "repeated: a"),
        ({"hooks": (lambda_hook("a"),)}, "lifecycleStages is empty"),
        (
            {"hooks": (lambda_hook("a", Stage.PRE_SCALE_UP, timeout_minutes=0),)},
            "timeoutInMinutes must be 1-1440",
        ),
        # The same limits as lint's: Lambda hooks 1-1440 minutes, PAUSE hooks up to 14 days.
        (
            {"hooks": (lambda_hook("a", Stage.PRE_SCALE_UP, timeout_minutes=1441),)},
            "'a': timeoutConfiguration.timeoutInMinutes must be 1-1440, got 1441",
        ),
        (
            {"hooks": (pause_hook("p", Stage.PRE_SCALE_UP, timeout_minutes=20161),)},
            "'p': timeoutConfiguration.timeoutInMinutes must be 1-20160, got 20161",
        ),
        ({"strategy": "LINEAR", "step_percent": 1}, "stepPercent must be 3.0-100.0"),
        ({"strategy": "CANARY", "canary_percent": 0}, "canaryPercent must be 0.1-100.0"),
        ({"bake_time_minutes": 1441}, "bakeTimeInMinutes must be 0-1440"),
        ({"hook_details_reading": "deep"}, "hook_details_reading must be replace or merge, got 'deep'"),
        (
            {"hooks": (lambda_hook("a", Stage.PRE_SCALE_UP, hook_details={"x": "y" * 62_000}),)},
            "'a': hookDetails is 62009 bytes as JSON; every IN_PROGRESS answer re-sends them",
        ),
    ],
)
def test_invalid_configurations_are_refused_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        Engine(spec(**kwargs), Clock())


@pytest.mark.parametrize(("real_seconds", "outcome"), [(30, "SUCCEEDED"), (90, "TIMED_OUT")])
def test_an_invocation_counts_against_its_timeout_for_its_real_duration(
    real_seconds: float, outcome: str
) -> None:
    # Ten simulated minutes pass while the Lambda runs (a sped-up clock); it really took 30 s or 90 s
    # of the hook's one minute.
    hook = lambda_hook("slow", Stage.PRE_SCALE_UP, timeout_minutes=1, timeout_action="ROLLBACK")
    driver = Driver(spec(hooks=(hook,), real_time_invocations=True), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: bool(driver.pending))
    (slow,) = driver.pending
    driver.clock.now = START + 600
    driver.take(driver.engine.advance())
    assert driver.engine.stage == "PRE_SCALE_UP"  # the timeout waits for the running invocation
    driver.pending.remove(slow)
    driver.take(
        driver.engine.hook_result(slow.invocation_id, {"hookStatus": "SUCCEEDED"}, real_seconds=real_seconds)
    )
    assert driver.engine.invocations[0].hook_status == outcome
    expected = "IN_PROGRESS" if outcome == "SUCCEEDED" else "ROLLBACK_IN_PROGRESS"
    assert driver.engine.status == expected


def test_green_failing_scale_up_rolls_back_at_once() -> None:
    driver = Driver(spec(), healthy=False)
    driver.start()
    driver.take(driver.engine.green_failed("a green task exited with status 1 during SCALE_UP"))
    assert driver.engine.rollback_reason == "a green task exited with status 1 during SCALE_UP"
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
