"""Steady production traffic during a simulated deployment, counting every request that fails."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from ecs_bg.local.elbv2.balancer import GROUP_HEADER


@dataclass(frozen=True)
class FailedRequest:
    at: float  # seconds since the load started
    status: int | None  # a 5xx, or None when no response came back
    error: str | None  # the exception's class and message, when no response came back
    group: str | None  # from the load balancer's x-ecs-bg-group header


@dataclass
class LoadReport:
    requests: int = 0
    errors: int = 0  # connection errors, timeouts and 5xx
    by_group: collections.Counter[str] = field(default_factory=collections.Counter)
    by_status: collections.Counter[int] = field(default_factory=collections.Counter)
    failures: list[FailedRequest] = field(default_factory=list)
    duration: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.duration if self.duration else 0.0


class LoadGenerator:
    """``rate`` requests a second, open-loop (each request is due at its own time, so a slow target
    shows up as latency and errors, not as a quietly lower rate), at most ``concurrency`` at once.
    Stops after ``duration`` seconds or ``max_requests`` requests, or when ``stop`` is awaited.
    ``on_response(group, failed)`` hears of each request as it ends, for counts over time."""

    def __init__(
        self,
        url: str,
        *,
        rate: float = 50.0,
        concurrency: int = 8,
        duration: float = 60.0,
        max_requests: int = 100_000,
        timeout: float = 10.0,
        max_failures_kept: int = 1_000,
        on_response: Callable[[str | None, bool], None] | None = None,
    ) -> None:
        if rate <= 0 or concurrency < 1:
            raise ValueError("rate must be positive and concurrency at least 1")
        self.url = url
        self.rate = rate
        self.concurrency = concurrency
        self.duration = duration
        self.max_requests = max_requests
        self.timeout = timeout
        self.report = LoadReport()
        self._max_failures_kept = max_failures_kept
        self._on_response = on_response
        self._stopping = asyncio.Event()
        self._runner: asyncio.Task[LoadReport] | None = None

    def start(self) -> None:
        """Run in the background until ``stop`` (or the duration or count bound)."""
        self._runner = asyncio.create_task(self.run())

    async def stop(self) -> LoadReport:
        """Send nothing more, let requests in flight finish (each bounded by ``timeout``)."""
        self._stopping.set()
        if self._runner is not None:
            return await self._runner
        return self.report

    async def run(self) -> LoadReport:
        slots = asyncio.Semaphore(self.concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=0)) as session:
            for index in range(self.max_requests):
                due = started + index / self.rate
                if due - started >= self.duration:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), wait)
                if self._stopping.is_set():
                    break
                await slots.acquire()
                task = asyncio.create_task(self._one(session, slots, started))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if in_flight:
                await asyncio.wait(in_flight, timeout=self.timeout + 1.0)
        self.report.duration = time.monotonic() - started
        return self.report

    async def _one(self, session: aiohttp.ClientSession, slots: asyncio.Semaphore, started: float) -> None:
        sent = time.monotonic()
        status: int | None = None
        group: str | None = None
        error: str | None = None
        try:
            async with session.get(self.url) as response:
                await response.read()
                status, group = response.status, response.headers.get(GROUP_HEADER)
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            slots.release()
        report = self.report
        report.requests += 1
        if group is not None:
            report.by_group[group] += 1
        if status is not None:
            report.by_status[status] += 1
        failed = status is None or status >= 500
        if failed:
            report.errors += 1
            if len(report.failures) < self._max_failures_kept:
                report.failures.append(FailedRequest(sent - started, status, error, group))
        if self._on_response is not None:
            self._on_response(group, failed)
