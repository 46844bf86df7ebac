"""The lifecycle engine turning back: alarms, PAUSE gates, rollbacks, stops, and its invariants."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ecs_bg.hooks.event import Stage
from ecs_bg.lifecycle.engine import FINAL_STATUSES, STATUSES, Finished, InvokeHook, ScaleDownGreen, SetTraffic
from ecs_bg.lifecycle.plan import DeploymentSpec
from tests.examples_budget import examples
from tests.sim.harness import (
    BLUE,
    GREEN,
    IDS,
    NO_ANSWER,
    START,
    Driver,
    event_of,
    lambda_hook,
    pause_hook,
)

SHIFTS = lambda_hook("shifts", Stage.TEST_TRAFFIC_SHIFT, Stage.PRODUCTION_TRAFFIC_SHIFT)
BACK = {GREEN: 0, BLUE: 100}


def spec(**kwargs: Any) -> DeploymentSpec:
    return DeploymentSpec(IDS, **kwargs)


def rollback_invocations(driver: Driver) -> list[InvokeHook]:
    return [inv for inv in driver.invoked if event_of(inv).is_rollback]


def test_an_alarm_during_bake_flips_traffic_back_and_reinvokes_the_shift_hooks_reversed() -> None:
    driver = Driver(spec(bake_time_minutes=10, hooks=(SHIFTS,)))
    driver.run_until(lambda: driver.engine.stage == "BAKE_TIME")
    driver.clock.now += 120
    actions = driver.take(driver.engine.alarm(True))
    assert driver.engine.status == "ROLLBACK_IN_PROGRESS"
    assert driver.engine.rollback_reason == "a deployment alarm is in ALARM during BAKE_TIME"
    assert actions[0] == SetTraffic(production=BACK, test=BACK)
    assert driver.engine.traffic() == (BACK, BACK)
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    reinvoked = rollback_invocations(driver)
    # Production first, then test (an UNCONFIRMED order, see the engine).
    assert [inv.stage for inv in reinvoked] == [Stage.PRODUCTION_TRAFFIC_SHIFT, Stage.TEST_TRAFFIC_SHIFT]
    production, test = (event_of(inv) for inv in reinvoked)
    assert production.production_traffic_weights == BACK
    assert test.test_traffic_weights == BACK
    assert production.green_revision_arn == GREEN
    assert [r.rollback for r in driver.engine.invocations] == [False, False, True, True]
    assert isinstance(driver.actions[-2], ScaleDownGreen)
    assert driver.finished == ["ROLLBACK_SUCCESSFUL"]
    bake = driver.engine.stages[-1]
    assert (bake.stage, bake.end) == ("BAKE_TIME", START + 120)
    assert driver.engine.stage == "BAKE_TIME"  # rollback has no stage of its own


def test_an_alarm_during_a_linear_step_bake_rolls_back() -> None:
    driver = Driver(spec(strategy="LINEAR", step_percent=25, hooks=(SHIFTS,)))
    driver.run_until(lambda: driver.engine.traffic()[0].get(GREEN) == 50 and not driver.pending)
    driver.take(driver.engine.alarm(True))
    assert driver.engine.rollback_reason == "a deployment alarm is in ALARM during the step bake"
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    assert driver.engine.traffic() == (BACK, BACK)


def test_alarms_outside_bakes_or_without_rollback_change_nothing_but_an_alarm_still_on_at_bake_does() -> None:
    driver = Driver(spec(bake_time_minutes=5, alarms_rollback=False))
    driver.run_until(lambda: driver.engine.stage == "BAKE_TIME")
    assert driver.take(driver.engine.alarm(True)) == []
    assert driver.run() == "SUCCESSFUL"

    driver = Driver(spec(bake_time_minutes=5))
    driver.run_until(lambda: driver.engine.stage == "SCALE_UP")
    driver.take(driver.engine.alarm(True))
    assert driver.engine.status == "IN_PROGRESS"
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    assert driver.engine.stages[-1].stage == "BAKE_TIME"

    driver = Driver(spec(bake_time_minutes=5))
    driver.run_until(lambda: driver.engine.stage == "SCALE_UP")
    driver.take(driver.engine.alarm(True))
    driver.take(driver.engine.alarm(False))
    assert driver.run() == "SUCCESSFUL"


def test_a_failure_before_the_shift_stages_reinvokes_no_hook() -> None:
    hooks = (SHIFTS, lambda_hook("gate", Stage.POST_SCALE_UP))
    driver = Driver(spec(hooks=hooks), respond=lambda inv: {"hookStatus": "FAILED"})
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    assert [inv.hook_id for inv in driver.invoked] == ["gate"]


def test_a_failure_at_the_test_shift_reinvokes_only_that_stage_with_reversed_weights() -> None:
    def respond(inv: InvokeHook) -> object:
        return {"hookStatus": "SUCCEEDED" if event_of(inv).is_rollback else "FAILED"}

    driver = Driver(spec(hooks=(SHIFTS,)), respond=respond)
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    assert [(inv.stage, event_of(inv).is_rollback) for inv in driver.invoked] == [
        (Stage.TEST_TRAFFIC_SHIFT, False),
        (Stage.TEST_TRAFFIC_SHIFT, True),
    ]


@pytest.mark.parametrize("answer", [{"hookStatus": "FAILED"}, {"nope": 1}, NO_ANSWER])
def test_rollback_hooks_that_fail_end_in_rollback_failed(answer: object) -> None:
    hook = lambda_hook("shifts", Stage.TEST_TRAFFIC_SHIFT, Stage.PRODUCTION_TRAFFIC_SHIFT, timeout_minutes=5)

    def respond(inv: InvokeHook) -> object:
        return answer if event_of(inv).is_rollback else {"hookStatus": "SUCCEEDED"}

    driver = Driver(spec(bake_time_minutes=5, hooks=(hook,)), respond=respond)
    driver.run_until(lambda: driver.engine.stage == "BAKE_TIME")
    driver.take(driver.engine.alarm(True))
    assert driver.run() == "ROLLBACK_FAILED"
    assert driver.finished == ["ROLLBACK_FAILED"]
    assert not any(isinstance(action, ScaleDownGreen) for action in driver.actions)
    assert driver.engine.rollback_reason == "a deployment alarm is in ALARM during BAKE_TIME"
    assert driver.engine.status_reason is not None
    assert driver.engine.status_reason.startswith(
        "rollback failed: hook shifts at PRODUCTION_TRAFFIC_SHIFT (rollback)"
    )
    assert len(rollback_invocations(driver)) == 1  # the test-shift hook is not asked after that


def test_first_deployment_rollback_just_scales_green_down() -> None:
    driver = Driver(
        spec(first_deployment=True, bake_time_minutes=5, hooks=(SHIFTS,)),
    )
    driver.run_until(lambda: driver.engine.stage == "BAKE_TIME")
    moves = len(driver.traffic_moves)
    driver.take(driver.engine.alarm(True))
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    assert len(driver.traffic_moves) == moves  # no blue to return to
    assert rollback_invocations(driver) == []
    assert driver.actions[-2:] == [ScaleDownGreen(), Finished("ROLLBACK_SUCCESSFUL")]


# PAUSE ------------------------------------------------------------------------------------


def test_a_pause_waits_for_continue_and_shows_in_lifecycle_hook_details() -> None:
    pause = pause_hook("approval", Stage.POST_TEST_TRAFFIC_SHIFT, timeout_minutes=60)
    driver = Driver(spec(hooks=(pause,)))
    assert driver.run_until(lambda: driver.engine.stage == "POST_TEST_TRAFFIC_SHIFT") is None
    driver.clock.now += 30
    driver.take(driver.engine.advance())
    assert driver.engine.lifecycle_hook_details() == [
        {
            "hookId": "ecs-pause-1",
            "targetType": "PAUSE",
            "status": "AWAITING_ACTION",
            "expiresAt": START + 3600,
            "timeoutAction": "ROLLBACK",
        }
    ]
    assert driver.engine.next_timer() == START + 3600
    driver.take(driver.engine.continue_pause("ecs-pause-1", "CONTINUE"))
    assert driver.engine.stage != "POST_TEST_TRAFFIC_SHIFT"
    assert driver.engine.lifecycle_hook_details() == []
    assert driver.run() == "SUCCESSFUL"


def test_a_pause_continued_with_rollback_rolls_back() -> None:
    pause = pause_hook("approval", Stage.POST_TEST_TRAFFIC_SHIFT)
    driver = Driver(spec(hooks=(pause, SHIFTS)))
    driver.run_until(lambda: driver.engine.stage == "POST_TEST_TRAFFIC_SHIFT")
    driver.take(driver.engine.continue_pause("ecs-pause-1", "ROLLBACK"))
    assert driver.engine.rollback_reason == (
        "hook approval at POST_TEST_TRAFFIC_SHIFT (ecs-pause-1) was continued with ROLLBACK"
    )
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    assert [inv.stage for inv in rollback_invocations(driver)] == [Stage.TEST_TRAFFIC_SHIFT]


@pytest.mark.parametrize(
    ("action", "outcome"), [("CONTINUE", "SUCCESSFUL"), ("ROLLBACK", "ROLLBACK_SUCCESSFUL")]
)
def test_an_unanswered_pause_expires_into_its_timeout_action(action: Any, outcome: str) -> None:
    pause = pause_hook("approval", Stage.PRE_SCALE_UP, timeout_minutes=90, timeout_action=action)
    driver = Driver(spec(hooks=(pause,)))
    assert driver.run() == outcome
    assert driver.engine.stages[0].end == START + 5400
    assert driver.engine.stages[0].stage == "PRE_SCALE_UP"
    if outcome == "ROLLBACK_SUCCESSFUL":
        assert driver.engine.lifecycle_hook_details()[0]["status"] == "TIMED_OUT"
        assert (
            driver.engine.rollback_reason
            == "hook approval at PRE_SCALE_UP timed out after 90 minutes (action ROLLBACK)"
        )


def test_a_pause_before_each_linear_step_gets_a_new_hook_id() -> None:
    pause = pause_hook("step-gate", Stage.PRE_PRODUCTION_TRAFFIC_SHIFT)
    driver = Driver(spec(strategy="LINEAR", step_percent=50, step_bake_minutes=1, hooks=(pause,)))
    driver.run_until(lambda: driver.engine.stage == "PRE_PRODUCTION_TRAFFIC_SHIFT")
    assert [d["hookId"] for d in driver.engine.lifecycle_hook_details()] == ["ecs-pause-1"]
    driver.take(driver.engine.continue_pause("ecs-pause-1", "CONTINUE"))
    driver.run_until(lambda: driver.engine.stage == "PRE_PRODUCTION_TRAFFIC_SHIFT")
    assert driver.engine.stages[-1].step == 2
    with pytest.raises(
        ValueError, match=r"'ecs-pause-1' is not AWAITING_ACTION.*awaiting action are: ecs-pause-2"
    ):
        driver.engine.continue_pause("ecs-pause-1", "CONTINUE")
    driver.take(driver.engine.continue_pause("ecs-pause-2", "CONTINUE"))
    assert driver.run() == "SUCCESSFUL"


def test_continue_on_a_hook_that_is_not_waiting_is_refused() -> None:
    driver = Driver(spec(hooks=(lambda_hook("a", Stage.PRE_SCALE_UP),)), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: bool(driver.pending))
    with pytest.raises(ValueError, match="'a' is not AWAITING_ACTION; the deployment is IN_PROGRESS"):
        driver.engine.continue_pause("a", "CONTINUE")
    with pytest.raises(ValueError, match="'ecs-pause-9' is not AWAITING_ACTION"):
        driver.engine.continue_pause("ecs-pause-9", "ROLLBACK")


# StopServiceDeployment -----------------------------------------------------------------------


def test_stop_without_rollback_awaits_the_answers_in_flight_then_stops_where_it_is() -> None:
    hooks = (lambda_hook("a", Stage.POST_TEST_TRAFFIC_SHIFT), lambda_hook("b", Stage.POST_TEST_TRAFFIC_SHIFT))
    driver = Driver(spec(hooks=hooks), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: len(driver.pending) == 2)
    a, b = driver.pending
    driver.answer(a, {"hookStatus": "IN_PROGRESS", "callBackDelay": 10})
    assert driver.take(driver.engine.stop(rollback=False)) == []
    assert driver.engine.status == "STOP_REQUESTED"
    assert driver.engine.next_timer() == START + 1440 * 60  # only b's timeout is still watched
    driver.clock.now += 20
    assert driver.take(driver.engine.advance()) == []  # a is not invoked again
    driver.answer(b, {"hookStatus": "FAILED"})
    assert driver.engine.status == "STOPPED"
    assert driver.finished == ["STOPPED"]
    assert driver.engine.traffic()[1] == {GREEN: 100, BLUE: 0}  # traffic stays where it was
    assert driver.engine.next_timer() is None
    with pytest.raises(
        ValueError, match="only an IN_PROGRESS deployment can be stopped; this one is STOPPED"
    ):
        driver.engine.stop(rollback=True)


def test_stop_records_answers_that_arrive_while_others_are_still_awaited() -> None:
    hooks = tuple(lambda_hook(name, Stage.PRE_SCALE_UP, timeout_minutes=5) for name in ("a", "b"))
    driver = Driver(spec(hooks=hooks), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: len(driver.pending) == 2)
    a, _unanswered = driver.pending
    driver.take(driver.engine.stop(rollback=False))
    driver.answer(a, {"hookStatus": "SUCCEEDED"})
    assert driver.engine.status == "STOP_REQUESTED"
    assert driver.run() == "STOPPED"  # b never answers: its timeout ends the wait
    assert driver.clock.now == START + 300
    assert [(d["hookId"], d["status"]) for d in driver.engine.lifecycle_hook_details()] == [
        ("a", "SUCCEEDED"),
        ("b", "TIMED_OUT"),
    ]
    assert [r.hook_status for r in driver.engine.invocations] == ["SUCCEEDED", "TIMED_OUT"]


def test_stop_with_nothing_in_flight_stops_at_once() -> None:
    driver = Driver(spec(bake_time_minutes=5))
    driver.run_until(lambda: driver.engine.stage == "BAKE_TIME")
    assert driver.take(driver.engine.stop(rollback=False)) == [Finished("STOPPED")]
    assert driver.engine.stages[-1].end == driver.clock.now


def test_stop_with_rollback_rolls_back_for_stop_service_deployment() -> None:
    driver = Driver(spec(bake_time_minutes=5, hooks=(SHIFTS,)))
    driver.run_until(lambda: driver.engine.stage == "BAKE_TIME")
    driver.take(driver.engine.stop(rollback=True))
    assert driver.engine.rollback_reason == "StopServiceDeployment"
    assert driver.run() == "ROLLBACK_SUCCESSFUL"
    assert len(rollback_invocations(driver)) == 2


# DescribeServiceDeployments --------------------------------------------------------------------


def test_lifecycle_hook_details_match_botocore_ecs_model() -> None:
    model = botocore.session.get_session().get_service_model("ecs")
    detail_shape = model.shape_for("DeploymentLifecycleHookDetail")
    hooks = (
        lambda_hook("a", Stage.POST_SCALE_UP, timeout_action="CONTINUE"),
        pause_hook("p", Stage.POST_SCALE_UP),
    )
    driver = Driver(spec(hooks=hooks), respond=lambda inv: NO_ANSWER)
    driver.run_until(lambda: bool(driver.pending))
    seen = [driver.engine.lifecycle_hook_details()]
    driver.answer(driver.pending[0], {"hookStatus": "SUCCEEDED"})
    seen.append(driver.engine.lifecycle_hook_details())
    for details in seen:
        response = {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": IDS.deployment_arn,
                    "status": driver.engine.status,
                    "lifecycleStage": driver.engine.stage,
                    "lifecycleHookDetails": details,
                }
            ],
            "failures": [],
        }
        output = model.operation_model("DescribeServiceDeployments").output_shape
        validate_parameters(response, output)  # raises ParamValidationError on any unknown member or type
        for detail in details:
            assert set(detail) <= set(detail_shape.members)
            for name in ("targetType", "status", "timeoutAction"):  # botocore does not check enums
                assert detail[name] in detail_shape.members[name].enum
    assert [(d["hookId"], d["status"]) for d in seen[1]] == [
        ("a", "SUCCEEDED"),
        ("ecs-pause-1", "AWAITING_ACTION"),
    ]
    assert seen[0][0]["targetArn"] == hooks[0].target_arn


# Invariants --------------------------------------------------------------------------------------

ANSWERS = st.sampled_from(
    [
        {"hookStatus": "SUCCEEDED"},
        {"hookStatus": "FAILED"},
        {"hookStatus": "IN_PROGRESS", "callBackDelay": 0},
        {"hookStatus": "IN_PROGRESS", "callBackDelay": 120, "hookDetails": {"n": 1}},
        {"hookStatus": "IN_PROGRESS"},
        {"hookStatus": "nope"},
        "SUCCEEDED",
        None,
    ]
)
MOVES = st.one_of(
    st.tuples(st.just("answer"), st.integers(0, 3), ANSWERS),
    st.tuples(st.just("error"), st.integers(0, 3)),
    st.tuples(st.just("health"), st.booleans()),
    st.tuples(st.just("alarm"), st.booleans()),
    st.tuples(st.just("time"), st.floats(0, 3 * 3600)),
    st.tuples(st.just("timer")),
    st.tuples(st.just("continue"), st.sampled_from(["CONTINUE", "ROLLBACK"])),
    st.tuples(st.just("stop"), st.booleans()),
)
SPECS = st.builds(
    DeploymentSpec,
    ids=st.just(IDS),
    strategy=st.sampled_from(["BLUE_GREEN", "LINEAR", "CANARY"]),
    bake_time_minutes=st.sampled_from([0, 1, 30]),
    step_percent=st.sampled_from([25.0, 50.0, 100.0]),
    step_bake_minutes=st.sampled_from([0, 2]),
    hooks=st.sampled_from(
        [
            (),
            (SHIFTS,),
            (
                lambda_hook("all", *Stage, timeout_minutes=30, timeout_action="CONTINUE"),
                pause_hook(
                    "gate",
                    Stage.POST_TEST_TRAFFIC_SHIFT,
                    Stage.PRE_PRODUCTION_TRAFFIC_SHIFT,
                    timeout_minutes=60,
                ),
                lambda_hook("twin", Stage.POST_SCALE_UP, Stage.PRODUCTION_TRAFFIC_SHIFT, timeout_minutes=20),
            ),
        ]
    ),
    first_deployment=st.booleans(),
    active_revisions=st.sampled_from([1, 2]),
    scale_up_timeout_minutes=st.just(10.0),
)


def check_invariants(driver: Driver) -> None:
    engine = driver.engine
    assert engine.status in STATUSES
    finished = driver.finished
    assert len(finished) <= 1
    if engine.status in FINAL_STATUSES:
        assert finished == [engine.status]
        assert engine.next_timer() is None
    else:
        assert finished == []
    for record in engine.stages:
        assert record.end is None or record.start <= record.end
    for before, after in zip(engine.stages, engine.stages[1:], strict=False):
        assert before.end is not None
        assert before.end <= after.start
    assert all(record.end is not None for record in engine.stages[:-1])
    for record in engine.invocations:
        assert record.ended is None or record.started <= record.ended
    timer = engine.next_timer()
    assert timer is None or timer > driver.clock.now  # nothing due is left waiting for another call


@settings(max_examples=examples(150), deadline=None)
@given(SPECS, st.lists(MOVES, max_size=40))
def test_any_sequence_of_feedback_keeps_the_engine_valid_and_it_always_ends(
    deployment: DeploymentSpec, moves: list[tuple[Any, ...]]
) -> None:
    driver = Driver(deployment, respond=lambda inv: NO_ANSWER, healthy=False)
    driver.start()
    for move in moves:
        engine = driver.engine
        kind = move[0]
        if kind in ("answer", "error") and driver.pending:
            invocation = driver.pending[move[1] % len(driver.pending)]
            driver.pending.remove(invocation)
            if kind == "error":
                driver.take(engine.hook_result(invocation.invocation_id, None, error="crashed"))
            else:
                driver.take(engine.hook_result(invocation.invocation_id, move[2]))
        elif kind == "health":
            driver.take(engine.green_health(move[1]))
        elif kind == "alarm":
            driver.take(engine.alarm(move[1]))
        elif kind == "time":
            driver.clock.now += move[1]
            driver.take(engine.advance())
        elif kind == "timer" and (due := engine.next_timer()) is not None:
            driver.clock.now = max(driver.clock.now, due)
            driver.take(engine.advance())
        elif kind == "continue":
            awaiting = [
                d["hookId"] for d in engine.lifecycle_hook_details() if d["status"] == "AWAITING_ACTION"
            ]
            if awaiting and engine.status == "IN_PROGRESS":
                driver.take(engine.continue_pause(awaiting[0], move[1]))
        elif kind == "stop":
            if engine.status == "IN_PROGRESS":
                driver.take(engine.stop(rollback=move[1]))
            else:
                with pytest.raises(ValueError, match="only an IN_PROGRESS deployment can be stopped"):
                    engine.stop(rollback=move[1])
        check_invariants(driver)

    # Whatever happened, a driver that answers SUCCEEDED and waits brings the deployment to an end.
    driver.respond = lambda inv: {"hookStatus": "SUCCEEDED"}
    driver.healthy = driver.scale_up_requested = True
    assert driver.run(limit=2_000) in FINAL_STATUSES
    check_invariants(driver)
    event(f"ended {driver.engine.status}")
