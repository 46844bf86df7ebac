"""A service's deploymentConfiguration, as CreateService/UpdateService send it, as the engine's spec."""

from __future__ import annotations

import pytest

from ecs_bg.hooks.ecs import function_name
from ecs_bg.lifecycle.spec import deployment_spec, function_of

LAMBDA = "arn:aws:lambda:ap-northeast-1:123456789012:function:ecs-bg-before-install-dev"


def _hook(stages: list[str], target: str | None = LAMBDA, kind: str = "AWS_LAMBDA") -> dict[str, object]:
    hook: dict[str, object] = {"targetType": kind, "lifecycleStages": stages}
    return hook | ({"hookTargetArn": target} if target else {})


def test_a_function_named_twice_is_two_hooks_invoking_it() -> None:
    spec = deployment_spec(
        {"lifecycleHooks": [_hook(["PRE_SCALE_UP"]), _hook(["POST_SCALE_UP"])]}, first_deployment=True
    )
    ids = [hook.hook_id for hook in spec.hooks]
    assert ids == ["ecs-bg-before-install-dev", "ecs-bg-before-install-dev#1"]
    assert {function_of(hook_id) for hook_id in ids} == {"ecs-bg-before-install-dev"}


def test_function_names_come_from_arns_with_or_without_a_qualifier() -> None:
    assert function_name(LAMBDA) == "ecs-bg-before-install-dev"
    assert function_name(LAMBDA + ":live") == "ecs-bg-before-install-dev"
    assert function_name("plain-name") == "plain-name"


@pytest.mark.parametrize(
    ("hook", "words"),
    [
        (_hook(["NOT_A_STAGE"]), "lifecycleHooks[0].lifecycleStages"),
        (_hook(["PRE_SCALE_UP"], target=None), "lifecycleHooks[0].hookTargetArn"),
        (_hook(["TEST_TRAFFIC_SHIFT"], target=None, kind="PAUSE"), "not allowed at TEST_TRAFFIC_SHIFT"),
    ],
)
def test_what_ecs_refuses_is_refused_naming_the_hook(hook: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        deployment_spec({"lifecycleHooks": [hook]}, first_deployment=False)


def test_the_strategy_and_its_settings_are_read() -> None:
    spec = deployment_spec(
        {
            "strategy": "LINEAR",
            "linearConfiguration": {"stepPercent": 25, "stepBakeTimeInMinutes": 2},
            "bakeTimeInMinutes": 3,
            "alarms": {"alarmNames": ["a"], "enable": True, "rollback": True},
        },
        first_deployment=False,
    )
    assert (spec.strategy, spec.step_percent, spec.step_bake_minutes, spec.bake_time_minutes) == (
        "LINEAR",
        25.0,
        2.0,
        3.0,
    )
    assert spec.alarms_rollback
