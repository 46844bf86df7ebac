"""The sample service: its endpoints and the knobs simulations use to make it misbehave."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from app.main import create_app
from app.settings import Settings
from fastapi.testclient import TestClient

from ecs_bg.local.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def client(**knobs: object) -> TestClient:
    return TestClient(create_app(Settings(**knobs), chance=lambda: 0.5))  # type: ignore[arg-type]


def test_health_version_and_catalogue() -> None:
    with client(revision="r42", colour="green") as c:
        assert c.get("/health").json() == {"status": "ok"}
        assert c.get("/version").json() == {"revision": "r42", "colour": "green"}
        assert c.get("/api/products/sku-1001").json()["priceJpy"] == 3200
        assert c.get("/api/products/nope").status_code == 404
        assert [p["sku"] for p in c.get("/api/products?in_stock=true").json()["products"]] == [
            "sku-1001",
            "sku-1002",
        ]


def test_failing_health() -> None:
    with client(fail_health=True) as c:
        assert c.get("/health").status_code == 503
        assert c.get("/version").status_code == 200


@pytest.mark.parametrize(("rate", "status"), [(0.4, 200), (0.6, 500)])
def test_error_rate_fails_api_requests_only(rate: float, status: int) -> None:
    with client(error_rate=rate) as c:  # the injected chance is 0.5
        assert c.get("/api/products").status_code == status
        assert c.get("/health").status_code == 200


def test_latency_is_added_to_everything_but_health() -> None:
    with client(latency_ms=300) as c:
        started = time.perf_counter()
        c.get("/health")
        health = time.perf_counter() - started
        started = time.perf_counter()
        c.get("/version")
        version = time.perf_counter() - started
    assert health < 0.2 <= 0.3 <= version


def test_each_request_is_logged_once_with_the_status_it_was_answered_with(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("INFO", logger="app"):
        with client() as c:
            c.get("/health")
            c.get("/api/products/nope")
        with client(error_rate=0.6) as c:  # the injected chance is 0.5
            c.get("/api/products")
    logged = [
        (r.method, r.path, r.status, r.durationMs >= 0)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == "request"
    ]
    assert logged == [
        ("GET", "/health", 200, True),
        ("GET", "/api/products/nope", 404, True),
        ("GET", "/api/products", 500, True),
    ]


def test_settings_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="APP_ERROR_RATE"):
        Settings.from_environ({"APP_ERROR_RATE": "1.5"})
    assert Settings.from_environ({"APP_FAIL_HEALTH": "true", "PORT": "9000"}).fail_health


def start(**env: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env={**os.environ, "PORT": str(port), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    return process, port


def get(port: int, path: str) -> dict[str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
        return json.loads(response.read())


def test_python_m_app_honours_port_starts_late_and_logs_json() -> None:
    process, port = start(APP_REVISION="r7", APP_COLOUR="green", APP_STARTUP_DELAY_SECONDS="0.5")
    started = time.monotonic()
    try:
        deadline = started + 15
        while True:
            try:
                body = get(port, "/version")
                break
            except OSError:
                assert time.monotonic() < deadline, "the service never answered"
                time.sleep(0.05)
        assert body == {"revision": "r7", "colour": "green"}
        assert time.monotonic() - started >= 0.5
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    delays = [json.loads(line) for line in output.splitlines() if b"delaying start" in line]
    # The wait was the setting's, not only a slow import:
    assert [entry["delaySeconds"] for entry in delays] == [0.5]
    request_logs = [json.loads(line) for line in output.splitlines() if b'"request"' in line]
    assert request_logs[0]["path"] == "/version"
    assert request_logs[0]["revision"] == "r7"


def test_crash_on_start_exits_non_zero() -> None:
    process, _ = start(APP_CRASH_ON_START="true")
    output, _ = process.communicate(timeout=20)
    assert process.returncode != 0
    assert b"APP_CRASH_ON_START" in output
