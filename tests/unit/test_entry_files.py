"""The seed's four hook entry files, invoked as Lambda invokes them, at every stage they serve."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ecs_bg.hooks import Stage
from ecs_bg.sim.events import lifecycle_event
from ecs_bg.sim.lambda_context import LocalLambdaContext
from tests.conftest import ENTRY_FILES, LocalServer, load_entry

SEED_STAGES = {
    "before_install": {Stage.PRE_SCALE_UP},
    "after_install": {Stage.POST_SCALE_UP},
    "before_allow_traffic": {Stage.TEST_TRAFFIC_SHIFT, Stage.POST_TEST_TRAFFIC_SHIFT},
    "after_allow_traffic": {Stage.POST_PRODUCTION_TRAFFIC_SHIFT},
}


@pytest.fixture
def listeners(http_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    """One local server standing in for both listeners; '/' answers like a healthy green."""
    monkeypatch.setenv("ECS_BG_TEST_URL", http_server.url)
    monkeypatch.setenv("ECS_BG_PRODUCTION_URL", http_server.url)
    http_server.routes["/"] = (200, "ok")
    return http_server


def invoke(name: str, stage: Stage, **event_options: object) -> dict[str, object]:
    module = load_entry(name)
    context = LocalLambdaContext(f"ecs-bg-{name.replace('_', '-')}-dev", timeout_seconds=300)
    return module.handler(lifecycle_event(stage, **event_options), context)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ENTRY_FILES)
def test_each_entry_file_handles_exactly_its_seed_stages(name: str) -> None:
    assert load_entry(name).hook.stages == SEED_STAGES[name]


@pytest.mark.parametrize(
    ("name", "stage"), [(n, s) for n, stages in SEED_STAGES.items() for s in sorted(stages)]
)
def test_a_healthy_deployment_succeeds_at_every_stage(
    listeners: LocalServer, name: str, stage: Stage
) -> None:
    assert invoke(name, stage) == {"hookStatus": "SUCCEEDED"}


@pytest.mark.parametrize("stage", [Stage.TEST_TRAFFIC_SHIFT, Stage.POST_TEST_TRAFFIC_SHIFT])
def test_before_allow_traffic_stops_a_green_that_answers_500(listeners: LocalServer, stage: Stage) -> None:
    listeners.routes["/"] = (500, "boom")
    details = {"smokeTest": {"intervalSeconds": 0}}
    assert invoke("before_allow_traffic", stage, hook_details=details) == {"hookStatus": "FAILED"}
    assert listeners.hits["/"] == 3  # the default three attempts


def test_before_allow_traffic_is_tuned_from_hook_details(listeners: LocalServer) -> None:
    listeners.routes["/health"] = (200, '{"status":"ok"}')
    details = {"smokeTest": {"path": "/health", "bodyContains": "ok", "attempts": 1}}
    assert invoke("before_allow_traffic", Stage.POST_TEST_TRAFFIC_SHIFT, hook_details=details) == {
        "hookStatus": "SUCCEEDED"
    }
    assert listeners.hits == {"/health": 1}


def test_before_allow_traffic_lets_a_rollback_through_without_testing(listeners: LocalServer) -> None:
    listeners.routes["/"] = (500, "green is broken, that is why we roll back")
    assert invoke("before_allow_traffic", Stage.TEST_TRAFFIC_SHIFT, rollback=True) == {
        "hookStatus": "SUCCEEDED"
    }
    assert listeners.hits == {}


def test_after_allow_traffic_checks_production(listeners: LocalServer) -> None:
    listeners.routes["/"] = (503, "unavailable")
    details = {"smokeTest": {"attempts": 1}}
    assert invoke("after_allow_traffic", Stage.POST_PRODUCTION_TRAFFIC_SHIFT, hook_details=details) == {
        "hookStatus": "FAILED"
    }


def test_after_install_runs_a_smoke_test_only_when_given_a_url(listeners: LocalServer) -> None:
    assert invoke("after_install", Stage.POST_SCALE_UP) == {"hookStatus": "SUCCEEDED"}
    assert listeners.hits == {}
    listeners.routes["/green"] = (500, "not ready")
    details = {"smokeTest": {"url": listeners.url + "/green", "attempts": 1}}
    assert invoke("after_install", Stage.POST_SCALE_UP, hook_details=details) == {"hookStatus": "FAILED"}


@pytest.mark.parametrize("name", ENTRY_FILES)
def test_a_stage_the_hook_does_not_serve_fails_clearly(name: str) -> None:
    foreign = next(s for s in (Stage.RECONCILE_SERVICE, Stage.PRE_SCALE_UP) if s not in SEED_STAGES[name])
    assert invoke(name, foreign) == {"hookStatus": "FAILED"}
