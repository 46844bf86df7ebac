"""``ecs-bg local --allow-origin`` and ``ECS_BG_EXTRA_CORS_ALLOWED_ORIGINS``: the web pages' origins
allowed besides the endpoint's own, none by default; a malformed one is a usage error."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ecs_bg.cli.main import app
from ecs_bg.local.request_policy import EXTRA_ORIGINS_ENV
from tests.local.raw_http import send
from tests.sim.local_ecs_process import local_ecs

runner = CliRunner()


def preflight(page: str) -> dict[str, str]:
    return {
        "Origin": page,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-amz-date,x-amz-target",
    }


@pytest.mark.parametrize(
    ("args", "environment", "message"),
    [
        (["--allow-origin", "*"], "", "error: --allow-origin: '*' is not an origin"),
        (
            ["--allow-origin", "localhost:3000"],
            "",
            "error: --allow-origin: 'localhost:3000' is not an origin",
        ),
        ([], "http://ok.test,http://a.test/app", f"error: {EXTRA_ORIGINS_ENV}: 'http://a.test/app' is not"),
    ],
)
def test_a_malformed_origin_is_a_usage_error(
    args: list[str], environment: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EXTRA_ORIGINS_ENV, environment)
    result = runner.invoke(app, ["local", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_flag_and_the_variable_each_allow_an_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXTRA_ORIGINS_ENV, "http://127.0.0.1:8000, https://tools.example.test")
    with local_ecs("--allow-origin", "http://localhost:5173") as local:
        for page in ("http://localhost:5173", "http://127.0.0.1:8000", "https://tools.example.test"):
            answer = send(local.url, "OPTIONS", headers=preflight(page))
            assert (answer.status, answer.cors["access-control-allow-origin"]) == (200, page)
        for page in ("http://localhost:5174", "https://evil.example", local.url):
            answer = send(local.url, "OPTIONS", headers=preflight(page))
            assert (answer.status, answer.cors) == (403, {})
    assert local.process.stderr is not None
    told = [line for line in local.process.stderr.read().splitlines() if "refused" in line]
    assert len(told) == 1  # two foreign pages and the endpoint's own: one kind, told once
    assert "AccessDenied: Origin 'http://localhost:5174'" in told[0]
