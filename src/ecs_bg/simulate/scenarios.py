"""The simulator's scenarios: the user's own hooks and definitions, with one thing made to go wrong.

Each scenario adjusts the simulation options and says what ECS should end with, so the tests and
``ecs-bg simulate --scenario`` agree on what each one shows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ecs_bg.hooks.ecs import DeploymentStatus, HookAction, Stage, Strategy, TargetType
from ecs_bg.lifecycle.plan import HookSpec

if TYPE_CHECKING:  # the names are read by `ecs-bg --help`, before the simulator is imported
    from ecs_bg.simulate.simulation import Options

HOOKS = Path(__file__).parent / "scenario_hooks"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    expected_status: DeploymentStatus
    adjust: Callable[[Options], None]
    production_errors_expected: bool = False  # only when green is made to fail production traffic


def _good(options: Options) -> None:
    pass


def _health_fail(options: Options) -> None:
    options.green_env["APP_FAIL_HEALTH"] = "true"


def _test_listener_500(options: Options) -> None:
    # Green is healthy but its API fails; the smoke test asks the API through the test listener.
    options.green_env["APP_ERROR_RATE"] = "1.0"
    options.hook_details["before_allow_traffic"] = {
        "smokeTest": {"listener": "test", "path": options.load_path, "attempts": 2, "intervalSeconds": 0.2}
    }


def _degrade_after_shift(options: Options) -> None:
    # Green passes every test-listener check, then fails a share of production requests; the 5xx
    # alarm fires during the bake time and ECS rolls back. The gate at POST_PRODUCTION is off so
    # that the deployment alarm, not the hook, catches it.
    options.green_env["APP_ERROR_RATE"] = "0.5"
    options.hook_details["after_allow_traffic"] = {"alarmGate": False}
    options.spec_overrides["bake_time_minutes"] = 5


def _hook_raises(options: Options) -> None:
    options.function_entries["after_install"] = HOOKS / "raises_hook.py"


def _timeout(action: HookAction) -> Callable[[Options], None]:
    def adjust(options: Options) -> None:
        options.function_entries["before_install"] = HOOKS / "never_done_hook.py"
        options.hook_overrides["before_install"] = {"timeout_minutes": 5, "timeout_action": action}

    return adjust


def _migration(options: Options) -> None:
    # A six-second migration in a six-second function (the hook keeps two seconds back before its
    # deadline, and a cold start with boto3 takes one or two): it answers IN_PROGRESS, then finds the
    # same task again and sees it exit 0. The migration runs in real time, so the hook's timeout is
    # long enough in simulated time for any clock speed up to 1000x. Only this function's timeout is
    # six seconds: the smoke test at POST_TEST_TRAFFIC_SHIFT ran out of it once on a busy machine.
    options.function_timeouts["after_install"] = 6.0
    options.hook_details["after_install"] = {
        "migration": {"command": [sys.executable, "-c", "import time; time.sleep(6)"], "intervalSeconds": 1},
    }
    options.hook_overrides["after_install"] = {"timeout_minutes": 24 * 60}


def _pause(decision: HookAction | None, timeout_minutes: float = 60) -> Callable[[Options], None]:
    """A PAUSE hook at POST_TEST_TRAFFIC_SHIFT; ``decision`` is the operator's, None leaves it to you."""

    def adjust(options: Options) -> None:
        options.extra_hooks += (
            HookSpec(
                hook_id="approval-gate",
                target_type=TargetType.PAUSE,
                stages=(Stage.POST_TEST_TRAFFIC_SHIFT,),
                timeout_minutes=timeout_minutes,
                timeout_action=HookAction.ROLLBACK,
            ),
        )
        if decision is not None:
            options.pause_decisions.append(decision)

    return adjust


def _linear(options: Options) -> None:
    options.spec_overrides |= {"strategy": Strategy.LINEAR, "step_percent": 25.0, "step_bake_minutes": 1}


def _canary(options: Options) -> None:
    options.spec_overrides |= {
        "strategy": Strategy.CANARY,
        "canary_percent": 10.0,
        "canary_bake_minutes": 1.0,
    }


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("good", "a healthy green deployed with your hooks", DeploymentStatus.SUCCESSFUL, _good),
        Scenario(
            "health-fail",
            "green fails its health check at start",
            DeploymentStatus.ROLLBACK_SUCCESSFUL,
            _health_fail,
        ),
        Scenario(
            "test-listener-500",
            "green answers 500 through the test listener, caught before production sees it",
            DeploymentStatus.ROLLBACK_SUCCESSFUL,
            _test_listener_500,
        ),
        Scenario(
            "degrade-after-shift",
            "green fails production requests after the shift; the alarm rolls back during the bake",
            DeploymentStatus.ROLLBACK_SUCCESSFUL,
            _degrade_after_shift,
            production_errors_expected=True,
        ),
        Scenario(
            "hook-raises", "the after_install hook raises", DeploymentStatus.ROLLBACK_SUCCESSFUL, _hook_raises
        ),
        Scenario(
            "timeout-continue",
            "a hook never finishes; its timeout action is CONTINUE",
            DeploymentStatus.SUCCESSFUL,
            _timeout(HookAction.CONTINUE),
        ),
        Scenario(
            "timeout-rollback",
            "a hook never finishes; its timeout action is ROLLBACK",
            DeploymentStatus.ROLLBACK_SUCCESSFUL,
            _timeout(HookAction.ROLLBACK),
        ),
        Scenario(
            "migration",
            "a database migration outlasting one invocation (IN_PROGRESS)",
            DeploymentStatus.SUCCESSFUL,
            _migration,
        ),
        Scenario(
            "pause-approve",
            "a PAUSE hook approved through the ECS API",
            DeploymentStatus.SUCCESSFUL,
            _pause(HookAction.CONTINUE),
        ),
        Scenario(
            "pause-rollback",
            "a PAUSE hook answered with ROLLBACK",
            DeploymentStatus.ROLLBACK_SUCCESSFUL,
            _pause(HookAction.ROLLBACK),
        ),
        Scenario(
            "pause-manual",
            "a PAUSE hook waits two simulated hours for your `ecs-bg approve` or `reject`, then rolls back",
            DeploymentStatus.ROLLBACK_SUCCESSFUL,
            _pause(None, timeout_minutes=120),
        ),
        Scenario("linear", "LINEAR, 25% steps", DeploymentStatus.SUCCESSFUL, _linear),
        Scenario("canary", "CANARY, 10% then the rest", DeploymentStatus.SUCCESSFUL, _canary),
    )
}
