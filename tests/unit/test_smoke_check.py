"""smokeTest against a real HTTP server on 127.0.0.1: 200, 500, slow, flaky, refused."""

from __future__ import annotations

import io
import itertools
from typing import Any

import pytest

from ecs_bg.hooks import HookContext, LifecycleHook, Stage
from ecs_bg.lifecycle.events import lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.conftest import LocalServer, log_lines, slow

_names = itertools.count()


def smoke(settings: dict[str, Any], *, timeout: float = 60) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    stream = io.StringIO()
    hook = LifecycleHook(f"smoke-{next(_names)}", log_stream=stream)

    @hook.stage(Stage.POST_TEST_TRAFFIC_SHIFT)
    def run(ctx: HookContext) -> None:
        ctx.run_checks("smokeTest")

    event = lifecycle_event("POST_TEST_TRAFFIC_SHIFT", hook_details={"smokeTest": settings})
    response = hook.handler(event, LocalLambdaContext("smoke", timeout_seconds=timeout))
    return response, log_lines(stream)


def verdict(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return next(line for line in lines if line["message"] == "check verdict")


def test_a_healthy_endpoint_passes_with_its_latency(http_server: LocalServer) -> None:
    http_server.routes["/health"] = (200, '{"status": "ok"}')
    response, lines = smoke(
        {"url": http_server.url + "/health", "bodyContains": '"ok"', "latencyBudgetMs": 2000}
    )
    assert response == {"hookStatus": "SUCCEEDED"}
    passed = verdict(lines)
    assert passed["verdict"] == "PASSED"
    assert passed["status"] == 200
    assert passed["attempts"] == 1
    assert 0 < passed["latencyMs"] < 2000


def test_the_test_listener_url_comes_from_the_environment(
    http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECS_BG_TEST_URL", http_server.url + "/")
    http_server.routes["/ready"] = (200, "ok")
    response, _ = smoke({"listener": "test", "path": "/ready"})
    assert response == {"hookStatus": "SUCCEEDED"}
    assert http_server.hits == {"/ready": 1}


def test_500_fails_after_every_attempt_with_status_and_body(http_server: LocalServer) -> None:
    http_server.routes["/health"] = (500, "database unreachable")
    response, lines = smoke({"url": http_server.url + "/health", "attempts": 3, "intervalSeconds": 0})
    assert response == {"hookStatus": "FAILED"}
    assert http_server.hits["/health"] == 3
    reason = lines[-1]["reason"]
    assert "GET /health on 127.0.0.1" in reason
    assert "status 500, expected 200 (body: 'database unreachable') (after 3 attempts)" in reason
    assert len([line for line in lines if line["message"] == "smoke test attempt failed"]) == 3


def test_a_flaky_endpoint_passes_on_a_retry(http_server: LocalServer) -> None:
    answers = iter([(503, "starting"), (503, "starting"), (200, "ok")])
    http_server.routes["/health"] = lambda _: next(answers)
    response, lines = smoke({"url": http_server.url + "/health", "attempts": 5, "intervalSeconds": 0.01})
    assert response == {"hookStatus": "SUCCEEDED"}
    assert verdict(lines)["attempts"] == 3


def test_a_slow_endpoint_times_out(http_server: LocalServer) -> None:
    http_server.routes["/health"] = slow(1.0)
    response, lines = smoke({"url": http_server.url + "/health", "timeoutSeconds": 0.2, "attempts": 1})
    assert response == {"hookStatus": "FAILED"}
    assert "no response within 0.2 s (after 1 attempt)" in lines[-1]["reason"]


def test_over_the_latency_budget_fails(http_server: LocalServer) -> None:
    http_server.routes["/health"] = slow(0.25)
    response, lines = smoke({"url": http_server.url + "/health", "latencyBudgetMs": 100, "attempts": 1})
    assert response == {"hookStatus": "FAILED"}
    assert "over the 100 ms budget" in lines[-1]["reason"]


def test_a_refused_connection_fails(refused_url: str) -> None:
    response, lines = smoke({"url": refused_url + "/health", "attempts": 2, "intervalSeconds": 0})
    assert response == {"hookStatus": "FAILED"}
    assert "connection refused (after 2 attempts)" in lines[-1]["reason"]


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"bodyContains": "healthy"}, "body does not contain 'healthy' (body: 'ok')"),
        ({"bodyRegex": "^v[0-9]+$"}, "body does not match /^v[0-9]+$/"),
        ({"expectedStatus": [204]}, "status 200, expected 204"),
    ],
)
def test_body_and_status_expectations(
    http_server: LocalServer, settings: dict[str, Any], problem: str
) -> None:
    http_server.routes["/"] = (200, "ok")
    response, lines = smoke({"url": http_server.url + "/", "attempts": 1, **settings})
    assert response == {"hookStatus": "FAILED"}
    assert problem in lines[-1]["reason"]


def test_dry_run_logs_the_failure_but_lets_the_deployment_go_on(http_server: LocalServer) -> None:
    http_server.routes["/health"] = (500, "boom")
    response, lines = smoke({"url": http_server.url + "/health", "attempts": 1, "dryRun": True})
    assert response == {"hookStatus": "SUCCEEDED"}
    assert verdict(lines)["verdict"] == "FAILED"
    assert any(line["message"].startswith("dryRun: the check would have failed") for line in lines)


def test_no_url_at_all_names_the_setting_and_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECS_BG_PRODUCTION_URL", raising=False)
    response, lines = smoke({"listener": "production"})
    assert response == {"hookStatus": "FAILED"}
    assert "set smokeTest.url, or ECS_BG_PRODUCTION_URL on the function" in lines[-1]["reason"]


def test_attempts_stop_before_the_function_deadline(http_server: LocalServer) -> None:
    http_server.routes["/health"] = (500, "no")
    response, _lines = smoke(
        {"url": http_server.url + "/health", "attempts": 50, "intervalSeconds": 1, "timeoutSeconds": 1},
        timeout=3,
    )
    assert response == {"hookStatus": "FAILED"}
    assert http_server.hits["/health"] == 1  # a second attempt could not finish within 3 s
