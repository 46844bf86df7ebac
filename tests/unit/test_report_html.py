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
