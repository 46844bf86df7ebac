"""The HTML report from a report model: every stage and hook shown, every string escaped, nothing
fetched from outside."""

from __future__ import annotations

import re

from ecs_bg.report.html import render
from ecs_bg.report.model import (
    Counts,
    DeploymentReport,
    HookMark,
    StageSpan,
    TrafficInterval,
    WeightChange,
)

SCRIPT = "<script>alert('owned')</script>"


def linear_rollback() -> DeploymentReport:
    return DeploymentReport(
        status="ROLLBACK_SUCCESSFUL",
        rollback_reason=f"after_allow_traffic answered FAILED: {SCRIPT}",
        stages=(
            StageSpan("PRE_SCALE_UP", 0.0, 20.0),
            StageSpan("SCALE_UP", 20.0, 200.0),
            StageSpan("PRODUCTION_TRAFFIC_SHIFT", 200.0, 320.0, step=1, bake_start=260.0),
            StageSpan("PRODUCTION_TRAFFIC_SHIFT", 320.0, 320.0, step=2),
            StageSpan("BAKE_TIME", 320.0, None),
        ),
        invocations=(
            HookMark("before_install", "PRE_SCALE_UP", None, False, "SUCCEEDED", "ok", 0.0, 1.0, 80.0),
            HookMark(
                "after_allow_traffic", "PRODUCTION_TRAFFIC_SHIFT", 1, False, "IN_PROGRESS", "wait", 200.0
            ),
            HookMark("after_allow_traffic", "PRODUCTION_TRAFFIC_SHIFT", 1, False, "FAILED", SCRIPT, 230.0),
            HookMark("before_install", "PRE_SCALE_UP", None, True, "TIMED_OUT", "late", 330.0),
        ),
        weights=(
            WeightChange(0.0, {"blue": 100, "green": 0}, {"blue": 100, "green": 0}),
            WeightChange(200.0, {"blue": 75, "green": 25}, {"blue": 0, "green": 100}),
        ),
        intervals=(
            TrafficInterval(0.0, 30.0, Counts(10, 1), {"blue": Counts(9, 0)}),
            TrafficInterval(210.0, 240.0, Counts(8, 2), {"blue": Counts(6, 0), "green": Counts(2, 2)}),
        ),
        production=Counts(18, 3),
    )


def test_every_stage_hook_and_the_rollback_reason_are_on_the_page() -> None:
    page = render(linear_rollback(), title="a test")
    for stage in ("PRE_SCALE_UP", "SCALE_UP", "PRODUCTION_TRAFFIC_SHIFT · step 2", "BAKE_TIME"):
        assert stage in page
    assert page.count('class="hook-mark"') == 4
    assert "Rollback reason:" in page
    assert "ROLLBACK_SUCCESSFUL" in page
    assert page.count('class="weight"') == 4  # two revisions on two listeners


def test_a_script_in_a_reason_is_text() -> None:
    page = render(linear_rollback(), title=SCRIPT)
    assert "<script" not in page
    assert (
        page.count("&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;") == 4
    )  # title, reason, mark, table


def test_nothing_is_fetched_from_outside() -> None:
    page = render(linear_rollback())
    assert "default-src 'none'" in page
    references = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert all(reference.startswith("data:") for reference in references)
    assert re.findall(r"https?://", page) == ["http://"] * page.count("<svg")  # only the SVG namespace


def test_a_report_without_the_newer_keys_renders() -> None:
    report = DeploymentReport.from_json(
        {
            "status": "SUCCESSFUL",
            "stages": [{"stage": "PRE_SCALE_UP", "start": 0.0, "end": 1.0}],
            "hookInvocations": [
                {"hook": "before_install", "stage": "PRE_SCALE_UP", "hookStatus": "SUCCEEDED"}
            ],
            "traffic": {"production": {"requests": 3, "errors": 0}},
        }
    )
    page = render(report)
    assert "PRE_SCALE_UP" in page
    assert "before_install" in page  # in the table; without a start time it has no mark
    assert 'class="hook-mark"' not in page


def full_json() -> dict[str, object]:
    """A rollback that failed, with every newer key of ``ecs-bg simulate --report``."""
    return {
        "status": "ROLLBACK_FAILED",
        "rollbackReason": "ecs-bg-dev-http-5xx went into ALARM",
        "statusReason": f"rollback failed: undo {SCRIPT}",
        "stages": [
            {"stage": "POST_TEST_TRAFFIC_SHIFT", "start": 10.0, "end": 70.0},
            {"stage": "PRODUCTION_TRAFFIC_SHIFT", "start": 70.0, "end": 190.0, "step": 1, "bakeStart": 100.0},
        ],
        "hookInvocations": [],
        "pauseHooks": [
            {
                "hookId": "ecs-pause-1",
                "stage": "POST_TEST_TRAFFIC_SHIFT",
                "step": None,
                "status": "SUCCEEDED",
                "start": 10.0,
                "end": 70.0,
                "timeoutAction": "ROLLBACK",
            }
        ],
        "stepBakes": [{"step": 1, "start": 100.0, "end": 190.0}],
        "finalState": {
            "production": {"blue": 100, "green": 0},
            "test": {"blue": 100, "green": 0},
            "runningTasks": {"blue": 2, "green": 1},
            "greenServing": False,
        },
        "tasks": {
            "replacements": [{"group": "green", "at": 120.0, "exitCode": 3, "replacedBy": "http://x:1"}]
        },
        "alarms": {
            "watched": [{"alarm": "ecs-bg-dev-http-5xx", "measures": "5xx-share", "threshold": 10}],
            "changes": [{"alarm": "ecs-bg-dev-http-5xx", "state": "ALARM", "at": 150.0, "reason": "5xx 40%"}],
            "problems": ["PutMetricData: throttled"],
        },
        "rollbackProblems": ["hook undo at PRODUCTION_TRAFFIC_SHIFT (rollback) returned FAILED"],
    }


def test_every_newer_entry_of_the_json_report_is_on_the_page() -> None:
    page = render(DeploymentReport.from_json(full_json()))
    assert page.count('class="pause"') == 1  # the PAUSE wait drawn on its stage's row
    for shown in (
        'ecs-pause-1</td><td>POST_TEST_TRAFFIC_SHIFT</td><td class="decision">SUCCEEDED',
        'step 1 bake</td><td class="num">100</td><td class="num">190</td><td class="num">90',
        "Status reason:</b> rollback failed: undo &lt;script&gt;",
        "production listener</td><td>blue 100%, green 0%",
        "running tasks</td><td>blue 2, green 1",
        'green still serves</td><td class="no">no',
        "green</td><td>exited with code 3</td><td>http://x:1",
        "ecs-bg-dev-http-5xx</td><td>5xx-share</td><td>ALARM",
        '150</td><td>ecs-bg-dev-http-5xx</td><td class="decision">ALARM</td><td class="reason">5xx 40%',
        "<li>PutMetricData: throttled</li>",
        "<li>hook undo at PRODUCTION_TRAFFIC_SHIFT (rollback) returned FAILED</li>",
    ):
        assert shown in page, shown


def test_an_alarm_not_evaluated_says_so_and_why() -> None:
    report = full_json()
    report["alarms"] = {
        "watched": [
            {"alarm": "mine", "measures": "Custom/Queue Depth", "evaluated": False, "why": "no such metric"}
        ],
        "changes": [],
        "problems": [],
    }
    page = render(DeploymentReport.from_json(report))
    assert "mine</td><td>Custom/Queue Depth</td><td>not evaluated</td><td>no such metric" in page
