"""Every scenario end to end: real hook entry files in workers, real app processes behind the local
load balancer, steady production load, and the local AWS endpoint. Each takes a few seconds.

Each scenario says how ECS should end and whether production may see errors; ``simulate`` holds the
report to that, and the tests check what is particular to each."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
from collections.abc import Callable
from typing import Any

import pytest

from ecs_bg.lifecycle.plan import HOOK_DETAILS_READINGS, HookDetailsReading
from ecs_bg.local import forkserver, ports
from ecs_bg.simulate.scenarios import SCENARIOS
from ecs_bg.simulate.simulation import Options, Simulation
from tests.conftest import sample_options
from tests.sim.harness import BLUE_GREEN

pytestmark = [pytest.mark.slow, pytest.mark.waits]  # 10 to 20 s each; `-m 'not slow'` leaves them out

SEED_SEQUENCE = BLUE_GREEN
FORWARD_HOOKS = [
    ("before_install", "PRE_SCALE_UP"),
    ("after_install", "POST_SCALE_UP"),
    ("before_allow_traffic", "TEST_TRAFFIC_SHIFT"),
    ("before_allow_traffic", "POST_TEST_TRAFFIC_SHIFT"),
    ("after_allow_traffic", "POST_PRODUCTION_TRAFFIC_SHIFT"),
]


def simulate(
    name: str, adjust: Callable[[Options], None] = lambda _: None, *, expected: str | None = None
) -> dict[str, Any]:
    """Run the scenario; its final status (``expected`` when ``adjust`` changes the outcome) and
    production's errors are what the scenario says."""
    scenario = SCENARIOS[name]
    options = sample_options()
    scenario.adjust(options)
    adjust(options)
    report = asyncio.run(Simulation(options).run()).to_json()
    assert report["status"] == (expected or scenario.expected_status), report.get("rollbackReason")
    if scenario.production_errors_expected:
        assert report["traffic"]["production"]["errors"] > 0
    else:
        assert_no_failed_production_requests(report)
    return report


def stages(report: dict[str, Any]) -> list[str]:
    return [stage["stage"] for stage in report["stages"]]


def hooks(report: dict[str, Any], *, rollback: bool = False) -> list[tuple[str, str, str]]:
    return [
        (i["hook"], i["stage"], i["hookStatus"])
        for i in report["hookInvocations"]
        if bool(i["rollback"]) == rollback
    ]


def assert_no_failed_production_requests(report: dict[str, Any]) -> None:
    production = report["traffic"]["production"]
    assert production["requests"] > 0
    assert production["errors"] == 0, production["failures"]
    assert production["loadBalancer"]["errors"] == 0


def sockets() -> set[str]:
    """The sockets this process holds (their inodes), but the claims on ports it has chosen, which
    lapse by themselves (``ports.LEASE_SECONDS``), and the fork servers kept for the next simulation
    (``forkserver.KEPT``)."""
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
            held.add(os.readlink(f"/proc/self/fd/{fd}"))
    claims = [claim for _, claim in ports._claims.values() if claim]
    kept = [control for _, control in forkserver.KEPT._servers.values()]
    unowned = {f"socket:[{os.fstat(owned.fileno()).st_ino}]" for owned in [*claims, *kept]}
    return {target for target in held if target.startswith("socket:")} - unowned


def test_good() -> None:
    before = sockets()
    report = simulate("good")
    # A simulation closes what it opened: many run in one process (the tests'), one after another.
    assert sockets() <= before
    assert stages(report) == SEED_SEQUENCE
    assert hooks(report) == [(hook, stage, "SUCCEEDED") for hook, stage in FORWARD_HOOKS]
    assert all(i["durationMs"] is not None and i["callBackDelay"] is None for i in report["hookInvocations"])
    by_revision = report["traffic"]["production"]["byRevision"]
    assert by_revision["blue"] > 0
    assert by_revision["green"] > 0  # production moved to green
    clean_up = report["stages"][-1]
    assert clean_up["end"] > clean_up["start"]  # IN_PROGRESS until blue's tasks have stopped
    assert 0 < report["wallSeconds"] < 60


def test_health_fail() -> None:
    report = simulate("health-fail")
    assert stages(report) == SEED_SEQUENCE[:2]
    assert "health checks" in report["rollbackReason"]
    assert set(report["traffic"]["production"]["byRevision"]) == {"blue"}


def test_test_listener_500_is_caught_before_production_sees_green() -> None:
    report = simulate("test-listener-500")
    assert stages(report) == SEED_SEQUENCE[:4]
    assert hooks(report)[-1] == ("before_allow_traffic", "TEST_TRAFFIC_SHIFT", "FAILED")
    assert hooks(report, rollback=True) == [("before_allow_traffic", "TEST_TRAFFIC_SHIFT", "SUCCEEDED")]
    assert set(report["traffic"]["production"]["byRevision"]) == {"blue"}
    assert report["traffic"]["test"]["errors"] > 0  # the smoke test's 500s, on the test listener only


def test_degrade_after_shift_rolls_back_on_the_alarm_during_bake() -> None:
    report = simulate("degrade-after-shift")
    assert stages(report) == SEED_SEQUENCE[:-1]
    assert "alarm" in report["rollbackReason"]
    assert [h[1] for h in hooks(report, rollback=True)] == ["TEST_TRAFFIC_SHIFT"]
    # Green fails production requests by design here (the scenario says so); every failure is
    # green's, none blue's.
    failures = report["traffic"]["production"]["failures"]
    assert {failure["group"] for failure in failures} == {"green"}


def test_a_hook_that_raises_rolls_back() -> None:
    report = simulate("hook-raises")
    assert hooks(report)[-1] == ("after_install", "POST_SCALE_UP", "ERROR")
    assert "RuntimeError: the database is unreachable" in report["rollbackReason"]


@pytest.mark.parametrize("name", ["timeout-continue", "timeout-rollback"])
def test_hook_timeouts(name: str) -> None:
    report = simulate(name)
    first = [i for i in report["hookInvocations"] if i["hook"] == "before_install"]
    assert len(first) > 2
    # Each answer asks to be called again; the timeout may cut the last invocation short.
    assert all(i["hookStatus"] == "IN_PROGRESS" and i["callBackDelay"] == 10 for i in first[:-1])
    assert first[-1]["hookStatus"] in ("IN_PROGRESS", "TIMED_OUT")
    if SCENARIOS[name].expected_status == "SUCCESSFUL":
        assert stages(report) == SEED_SEQUENCE
    else:
        assert stages(report) == ["PRE_SCALE_UP"]
        assert "timed out" in report["rollbackReason"]


def invocations(report: dict[str, Any], hook: str) -> list[dict[str, Any]]:
    return [i for i in report["hookInvocations"] if i["hook"] == hook]


def assert_waited_then_failed(hook_invocations: list[dict[str, Any]]) -> None:
    """The check kept waiting over several invocations, then failed at its own timeout (the hook's
    timeout is out of reach): never an invocation that forgot the check and answered SUCCEEDED."""
    statuses = [i["hookStatus"] for i in hook_invocations]
    errors = [(i["hookStatus"], i.get("error"), i.get("durationMs")) for i in hook_invocations]
    assert statuses == ["IN_PROGRESS"] * (len(statuses) - 1) + ["FAILED"], errors
    assert len(statuses) > 1


def waiting(hook: str, details: dict[str, Any], reading: HookDetailsReading) -> Callable[[Options], None]:
    """``hook`` configured with ``details``, in a 6-second function (4 s of waiting each, the hooks
    keeping a 2 s margin, which a loaded machine's slow AWS call can eat) so that its waits outlast one
    invocation (IN_PROGRESS), and a hook timeout no clock speed reaches: the checks decide. The other
    hooks keep their usual timeout."""

    def adjust(options: Options) -> None:
        options.local.hook_details_reading = reading
        options.function_timeouts[hook] = 6.0
        options.hook_details[hook] = details
        options.hook_overrides[hook] = {"timeout_minutes": 24 * 60}

    return adjust


@pytest.mark.parametrize("reading", HOOK_DETAILS_READINGS)
def test_an_in_progress_migration_starts_one_task_and_succeeds(reading: HookDetailsReading) -> None:
    report = simulate("migration", lambda options: setattr(options.local, "hook_details_reading", reading))
    assert report["status"] == "SUCCESSFUL"
    after_install = invocations(report, "after_install")
    assert after_install[0]["hookStatus"] == "IN_PROGRESS"
    assert after_install[-1]["hookStatus"] == "SUCCEEDED"
    # The migration, not a hookDetails that lost it, let the deployment go on.
    assert re.search(r"migration: task \w+ exited 0", after_install[-1]["reason"])
    assert_no_failed_production_requests(report)


@pytest.mark.parametrize("reading", HOOK_DETAILS_READINGS)
def test_a_pending_approval_never_passes(reading: HookDetailsReading) -> None:
    approval = {"approval": {"intervalSeconds": 1, "timeoutSeconds": 10}}
    report = simulate("good", waiting("before_install", approval, reading), expected="ROLLBACK_SUCCESSFUL")
    assert report["status"] == "ROLLBACK_SUCCESSFUL"
    assert stages(report) == ["PRE_SCALE_UP"]
    assert_waited_then_failed(invocations(report, "before_install"))
    assert_no_failed_production_requests(report)


@pytest.mark.parametrize("reading", HOOK_DETAILS_READINGS)
def test_readiness_waits_hold_until_green_is_ready_or_time_is_up(reading: HookDetailsReading) -> None:
    # Two green tasks can never make three healthy targets: the wait must end in its timeout.
    checks = {
        "ecsReadiness": {"intervalSeconds": 1, "timeoutSeconds": 30},
        "targetHealth": {"minHealthyTargets": 3, "intervalSeconds": 1, "timeoutSeconds": 10},
    }
    report = simulate("good", waiting("after_install", checks, reading), expected="ROLLBACK_SUCCESSFUL")
    assert report["status"] == "ROLLBACK_SUCCESSFUL"
    assert stages(report) == SEED_SEQUENCE[:3]
    assert_waited_then_failed(invocations(report, "after_install"))
    assert_no_failed_production_requests(report)


@pytest.mark.parametrize("reading", HOOK_DETAILS_READINGS)
def test_a_metric_gate_takes_every_measurement_across_invocations(reading: HookDetailsReading) -> None:
    gate = {
        "metricGate": {
            "metric": {
                "namespace": "AWS/ApplicationELB",
                "metricName": "HTTPCode_Target_5XX_Count",
                "dimensions": {"TargetGroup": "{greenTargetGroup}"},
                "stat": "Sum",
            },
            "failIf": "> 0",
            "noData": "successful",
            "count": 6,
            "intervalSeconds": 1,
        }
    }
    report = simulate("good", waiting("after_allow_traffic", gate, reading))
    assert report["status"] == "SUCCESSFUL"
    after_allow_traffic = invocations(report, "after_allow_traffic")
    assert after_allow_traffic[0]["hookStatus"] == "IN_PROGRESS"
    assert "metricGate: measurement 6/6" in after_allow_traffic[-1]["reason"]
    assert_no_failed_production_requests(report)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("pause-approve", None),
        ("pause-rollback", "continued with ROLLBACK"),
        ("pause-manual", "timed out"),  # nobody acted: its timeout action
    ],
)
def test_pause_hooks(name: str, reason: str | None) -> None:
    def shorter_pause(options: Options) -> None:
        # pause-manual waits two simulated hours for a person; its timeout action is what is tested.
        options.extra_hooks = tuple(dataclasses.replace(h, timeout_minutes=10) for h in options.extra_hooks)

    report = simulate(name, shorter_pause)
    if reason is not None:
        assert "approval-gate at POST_TEST_TRAFFIC_SHIFT" in report["rollbackReason"]
        assert reason in report["rollbackReason"]
        assert stages(report) == SEED_SEQUENCE[:5]


@pytest.mark.parametrize(("name", "steps"), [("linear", 4), ("canary", 2)])
def test_linear_and_canary_shift_in_steps(name: str, steps: int) -> None:
    report = simulate(name)
    shifts = [
        (s["stage"], s.get("step")) for s in report["stages"] if "PRODUCTION_TRAFFIC_SHIFT" in s["stage"]
    ]
    expected = [(stage, step) for step in range(1, steps + 1) for stage in SEED_SEQUENCE[5:7]]
    assert shifts[:-1] == expected
    assert shifts[-1] == ("POST_PRODUCTION_TRAFFIC_SHIFT", None)


def test_every_scenario_is_tested() -> None:
    tested = {
        "good",
        "health-fail",
        "test-listener-500",
        "degrade-after-shift",
        "hook-raises",
        "timeout-continue",
    }
    tested |= {
        "timeout-rollback",
        "migration",
        "pause-approve",
        "pause-rollback",
        "pause-manual",
        "linear",
        "canary",
    }
    assert tested == set(SCENARIOS)
