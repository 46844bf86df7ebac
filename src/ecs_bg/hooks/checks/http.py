"""smokeTest: HTTP requests to green through a listener, judged on status, body and latency.

Through the test listener at (POST_)TEST_TRAFFIC_SHIFT only green answers, so a failure here stops
the deployment before production sees green. The listener's base URL comes from the stack
(``ECS_BG_TEST_URL`` / ``ECS_BG_PRODUCTION_URL``) unless ``url`` names the endpoint outright.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import urlsplit

from ecs_bg.hooks.config import CheckSettings, bounded
from ecs_bg.hooks.result import Verdict

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext

LISTENER_URL_ENV: Final = {"test": "ECS_BG_TEST_URL", "production": "ECS_BG_PRODUCTION_URL"}
_MAX_BODY_IN_REASON: Final = 120


@dataclass(frozen=True, kw_only=True)
class Settings(CheckSettings):
    listener: Literal["test", "production"] = "test"
    url: str | None = None  # overrides listener + path
    path: str = "/"
    method: Literal["GET", "HEAD", "POST"] = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    expected_status: tuple[int, ...] = (200,)
    body_contains: str | None = None
    body_regex: str | None = None
    timeout_seconds: float = field(default=5.0, metadata=bounded(0.1, 60))
    attempts: int = field(default=3, metadata=bounded(1, 100))
    interval_seconds: float = field(default=2.0, metadata=bounded(0, 300))
    latency_budget_ms: float | None = field(default=None, metadata=bounded(1, 60_000))
    follow_redirects: bool = False

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/', got {self.path!r}")
        if self.url is not None and urlsplit(self.url).scheme not in ("http", "https"):
            raise ValueError("url must be an http:// or https:// URL")
        if not self.expected_status or not all(100 <= status <= 599 for status in self.expected_status):
            raise ValueError(f"expectedStatus must list HTTP status codes, got {list(self.expected_status)}")
        if self.body_regex is not None:
            try:
                re.compile(self.body_regex)
            except re.error as error:
                raise ValueError(f"bodyRegex does not compile: {error}") from None

    def target(self) -> str:
        """The URL to request; ValueError naming the missing setting when there is none."""
        if self.url is not None:
            return self.url
        base = os.environ.get(LISTENER_URL_ENV[self.listener], "").rstrip("/")
        if not base:
            raise ValueError(
                f"no URL for the {self.listener} listener: set smokeTest.url, "
                f"or {LISTENER_URL_ENV[self.listener]} on the function"
            )
        return base + self.path


def prepare() -> None:
    import urllib3  # noqa: F401 - what the first run would import


def run(ctx: HookContext, settings: Settings) -> Verdict:
    import urllib3  # here, not at module level: only hooks that smoke-test pay for it

    try:
        url = settings.target()
    except ValueError as error:
        return Verdict.failed(str(error))
    # The path names the endpoint; the host stays out of reasons, which logs cut to scheme://host.
    what = f"{settings.method} {urlsplit(url).path or '/'} ({settings.listener} listener)"
    if settings.url is not None:
        what = f"{settings.method} {urlsplit(url).path or '/'} on {urlsplit(url).netloc}"
    pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=settings.timeout_seconds))
    problem = ""
    attempt = 0
    try:
        for attempt in range(1, settings.attempts + 1):
            began = ctx.clock.monotonic()
            try:
                response = pool.request(
                    settings.method,
                    url,
                    headers=settings.headers or None,
                    body=settings.body,
                    redirect=settings.follow_redirects,
                )
            except urllib3.exceptions.HTTPError as error:
                problem = _connection_problem(error, settings.timeout_seconds)
            else:
                latency_ms = round((ctx.clock.monotonic() - began) * 1000, 1)
                problem = _judge(
                    settings, response.status, response.data.decode(errors="replace"), latency_ms
                )
                if not problem:
                    return Verdict.passed(
                        f"{what} answered {response.status} in {latency_ms:g} ms",
                        attempts=attempt,
                        status=response.status,
                        latencyMs=latency_ms,
                    )
            ctx.logger.warning(
                "smoke test attempt failed", extra={"attempt": attempt, "why": f"{what}: {problem}"}
            )
            # Another attempt only if it can finish before the function's deadline.
            more_time = settings.interval_seconds + settings.timeout_seconds + 1
            if attempt == settings.attempts or ctx.remaining_seconds() < more_time:
                break
            ctx.clock.sleep(settings.interval_seconds)
    finally:
        pool.clear()
    return Verdict.failed(f"{what}: {problem} (after {attempt} attempt{'s' if attempt > 1 else ''})")


def _judge(settings: Settings, status: int, body: str, latency_ms: float) -> str:
    """What is wrong with a response, or '' when it passes."""
    if status not in settings.expected_status:
        return f"status {status}, expected {' or '.join(map(str, settings.expected_status))}{_excerpt(body)}"
    if settings.body_contains is not None and settings.body_contains not in body:
        return f"body does not contain {settings.body_contains!r}{_excerpt(body)}"
    if settings.body_regex is not None and re.search(settings.body_regex, body) is None:
        return f"body does not match /{settings.body_regex}/{_excerpt(body)}"
    if settings.latency_budget_ms is not None and latency_ms > settings.latency_budget_ms:
        return f"answered in {latency_ms:g} ms, over the {settings.latency_budget_ms:g} ms budget"
    return ""


def _connection_problem(error: Exception, timeout: float) -> str:
    reason = getattr(error, "reason", None) or error
    text = str(reason).lower()
    if "timed out" in text or "timeout" in type(reason).__name__.lower():
        return f"no response within {timeout:g} s"
    if "refused" in text:
        return "connection refused"
    return f"request failed: {type(reason).__name__}"


def _excerpt(body: str) -> str:
    body = " ".join(body.split())
    if not body:
        return ""
    return f" (body: {body[:_MAX_BODY_IN_REASON]!r}{'…' if len(body) > _MAX_BODY_IN_REASON else ''})"
