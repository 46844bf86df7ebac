"""The environment knobs, read once at start. Simulations set them to make a revision misbehave."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    revision: str = "dev"
    colour: str = "blue"
    port: int = 8080
    # The container listens on every interface; the simulator's local processes on loopback only.
    host: str = "0.0.0.0"  # noqa: S104
    fail_health: bool = False  # /health answers 503: ECS and the load balancer see unhealthy tasks
    error_rate: float = 0.0  # share of /api requests answered 500: alarms and smoke tests catch it
    startup_delay_seconds: float = 0.0  # the port opens this late: a slow start
    crash_on_start: bool = False  # the process exits before serving: tasks never become healthy
    latency_ms: int = 0  # added to every request but /health: the latency alarm, not health, notices

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        def flag(name: str) -> bool:
            return environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")

        error_rate = float(environ.get("APP_ERROR_RATE", "0") or 0)
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"APP_ERROR_RATE must be within 0.0-1.0, got {error_rate}")
        colour = environ.get("APP_COLOUR", "blue")
        if colour not in ("blue", "green"):
            raise ValueError(f"APP_COLOUR must be blue or green, got {colour}")
        return cls(
            revision=environ.get("APP_REVISION", "dev"),
            colour=colour,
            port=int(environ.get("PORT", "8080")),
            host=environ.get("HOST", "0.0.0.0"),  # noqa: S104
            fail_health=flag("APP_FAIL_HEALTH"),
            error_rate=error_rate,
            startup_delay_seconds=float(environ.get("APP_STARTUP_DELAY_SECONDS", "0") or 0),
            crash_on_start=flag("APP_CRASH_ON_START"),
            latency_ms=int(environ.get("APP_LATENCY_MS", "0") or 0),
        )
