"""The local Application Load Balancer's data plane: each listener of the model (``models``) is a real
HTTP reverse proxy on 127.0.0.1 that answers every request as its rules say, reading them as they are
when the request arrives (``routing``): a forward sends it to a target group chosen by weight, a
fixed-response or redirect action answers it itself. Each target group health-checks its own targets
with its own settings: the interval on the local clock, the timeout on the wall clock.

Target groups are named by ARN (any string will do): ECS swaps which group is live on each deployment,
so the load balancer attaches no meaning to them.

What follows ALB and what does not:
- A group is *in use* when a rule's forward names it, even with weight 0 (ECS's weighted forward names
  both groups). Targets of a group no rule names report ``unused`` (Target.NotInUse) and are not
  health-checked, as ALB does; naming it starts health checks from ``initial``.
- Deregistration: a draining target gets no new requests and its in-flight requests finish. Draining
  ends when the last in-flight request completes, or after the group's deregistration delay; ALB holds
  every target for the full delay, which would only slow the simulator down. Requests still running
  when the delay ends are not cut off (ALB would cut them).
- Request and response bodies are buffered, not streamed: the sample service's bodies are small.
- The load balancer's own answers (fixed responses, redirects, 502/503/504) count as
  HTTPCode_ELB_*, "HTTP ... codes that originate from the load balancer" (ALB guide, "CloudWatch
  metrics for your Application Load Balancer").
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from ecs_bg.local.elbv2.health import (
    DRAINING,
    FAILED,
    NOT_IN_USE,
    TIMEOUT,
    HealthCheck,
    HealthRecord,
    TargetHealth,
    TargetState,
)
from ecs_bg.local.elbv2.models import Elbv2Resources, FixedResponse, Forward, Listener, Redirect, Target
from ecs_bg.local.elbv2.routing import RequestView, choose_rule
from ecs_bg.local.elbv2.traffic_stats import LoadBalancerStats, MetricsPeriod, TrafficRecorder
from ecs_bg.local.hangups import client_hang_ups

ListenerName = Literal["production", "test"]  # the stack's listeners, as the local world names them
GROUP_HEADER = "x-ecs-bg-group"

# Hop-by-hop headers belong to one connection and are never forwarded; lengths are recomputed.
_HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Content-Length",
    )
)
_RETRYABLE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(eq=False)
class _Target:
    url: str
    health: HealthRecord = field(default_factory=HealthRecord)
    in_flight: int = 0
    draining: bool = False
    removed: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)  # health checker, drain timer


@dataclass
class _Group:
    targets: dict[str, _Target] = field(default_factory=dict)
    turn: int = 0  # round robin, ALB's default routing algorithm


class _NotSent(Exception):
    """The connection to the target failed before the request went out: safe to try another target."""


class LocalLoadBalancer:
    def __init__(
        self,
        resources: Elbv2Resources,
        *,
        speed: float = 1.0,
        target_timeout: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.resources = resources
        self.speed = speed  # simulated seconds per real second: health-check intervals, deregistration
        self.target_timeout = target_timeout  # ALB's idle timeout: a slower target gets a 504
        self._rng = rng or random.Random()  # noqa: S311 - traffic splitting, not cryptography
        self._groups: dict[str, _Group] = {}  # registered targets, by target group
        self._recorder = TrafficRecorder()
        self._runners: list[web.AppRunner] = []
        self._session: aiohttp.ClientSession | None = None
        self._health_session: aiohttp.ClientSession | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self, ports: Mapping[str, int] | None = None) -> dict[str, str]:
        """Open every listener on 127.0.0.1, on the port ``ports`` gives its name (else a free one),
        and return the stack's listeners' URLs."""
        # Close pooled connections well before uvicorn's 5 s keep-alive does, so the proxy never
        # writes a request into a connection the target is closing (ALB's advice, the other way round).
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(keepalive_timeout=1.0, limit=0),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )
        # aiohttp quietly resends a GET once when the connection drops mid-request; ALB does not (the
        # target may have acted on it): it answers 502, and retries only what never left. aiohttp has
        # no public switch; its own TestClient turns this off the same way.
        self._session._retry_connection = False
        self._health_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        for listener in self.resources.listeners:
            app = web.Application(middlewares=[client_hang_ups])
            app.router.add_route("*", "/{tail:.*}", self._handler(listener))
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
            await runner.setup()
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", listener.local_port or (ports or {}).get(listener.name, 0)))
            listener.local_port = sock.getsockname()[1]
            await web.SockSite(runner, sock).start()
            self._runners.append(runner)
        return self.urls

    def url(self, listener: str) -> str:
        """Where the listener named ``listener`` really listens."""
        found = self.resources.listener_named(listener)
        if found is None or not found.local_port:
            raise KeyError(f"no listener {listener!r} is listening")
        return f"http://127.0.0.1:{found.local_port}"

    @property
    def urls(self) -> dict[str, str]:
        """Where each listener really listens, by its name (production and test for the service's)."""
        return {listener.name: self.url(listener.name) for listener in self.resources.listeners}

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()  # waits (bounded) for in-flight requests
        self._runners.clear()
        background = []
        for group in self._groups.values():
            for target in list(group.targets.values()):
                self._remove(group, target)
                background += target.tasks
        await asyncio.gather(*background, return_exceptions=True)  # the cancelled checks and timers
        for session in (self._session, self._health_session):
            if session is not None:
                await session.close()

    # -- configuration -------------------------------------------------------------------------------

    def register(self, group: str, target: str) -> None:
        """Add a target (``http://127.0.0.1:port``); it starts ``initial`` and is checked at once.
        Registering a draining target cancels its deregistration, as re-registering does on ALB."""
        if self._health_session is None:
            raise RuntimeError("start() the load balancer before registering targets")
        targets = self._groups.setdefault(group, _Group()).targets
        existing = targets.get(target)
        if existing is not None and not existing.draining:
            return
        if existing is not None:
            self._remove(self._groups[group], existing)
        entry = targets[target] = _Target(target)
        entry.tasks.append(asyncio.create_task(self._check_health(group, entry)))

    def deregister(self, group: str, target: str) -> None:
        """Start draining: no new requests; done when in-flight requests finish or the delay ends."""
        entry = self._groups.get(group, _Group()).targets.get(target)
        if entry is None or entry.draining:
            return
        entry.draining = True
        if entry.in_flight == 0:
            self._remove(self._groups[group], entry)
        else:
            entry.tasks.append(asyncio.create_task(self._drain_timeout(group, entry)))

    async def drained(self, group: str, target: str, timeout: float = 60.0) -> bool:
        """Wait until the target has left the group; False if it is still there after ``timeout``."""
        entry = self._groups.get(group, _Group()).targets.get(target)
        if entry is None:
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(entry.removed.wait(), timeout)
        return entry.removed.is_set()

    def weights(self, listener: str) -> dict[str, float]:
        """The weighted forward of the listener's first rule that forwards (by priority, the default
        rule last): for the stack's listeners, the rule ECS moves."""
        found = self.resources.listener_named(listener)
        for rule in found.in_order() if found is not None else []:
            if isinstance(rule.routing, Forward):
                return rule.routing.weights()
        return {}

    # -- observation ---------------------------------------------------------------------------------

    def target_health(self, group: str) -> list[TargetHealth]:
        """DescribeTargetHealth for one group, in registration order."""
        attached = self._attached(group)
        result = []
        for target in self._groups.get(group, _Group()).targets.values():
            state: TargetState
            reason: tuple[str, str] | None
            if target.draining:
                state, reason = "draining", DRAINING
            elif not attached:
                state, reason = "unused", NOT_IN_USE
            else:
                state, reason = target.health.state, target.health.reason
            result.append(TargetHealth(target.url, state, *(reason or (None, None))))
        return result

    def gone_unhealthy(self, group: str) -> dict[str, str]:
        """Targets that passed their health checks and then failed them (target -> ELB's description):
        the ones ECS's scheduler replaces. A target that never passed is SCALE_UP's failure instead."""
        if not self._attached(group):
            return {}
        return {
            target.url: (target.health.reason or FAILED)[1]
            for target in self._groups.get(group, _Group()).targets.values()
            if not target.draining and target.health.state == "unhealthy" and target.health.was_healthy
        }

    def stats(self) -> LoadBalancerStats:
        """Totals since start per listener and per target group."""
        return self._recorder.stats()

    def take_metrics(self) -> MetricsPeriod:
        """The aggregates since the last call (or start), then a new period begins."""
        return self._recorder.take_metrics()

    # -- health checks -------------------------------------------------------------------------------

    def _attached(self, group: str) -> bool:
        return bool(self.resources.forwards_to(group))

    async def _check_health(self, group: str, target: _Target) -> None:
        # Runs until the target is removed (which cancels it) or the load balancer closes. The group's
        # settings are read before each probe: a change applies from the next one. The loop also ends
        # on `removed` itself: aiohttp can turn a cancel that lands in a probe into the request's
        # TimeoutError (aio-libs/aiohttp#5979, open), which `probe` reports as a failed check, and the
        # cancel is then lost.
        assert self._health_session is not None
        registered = Target.from_url(target.url)
        while not target.draining and not target.removed.is_set():
            settings = self.resources.target_groups.get(group)
            check = settings.health_check if settings is not None else HealthCheck()
            if settings is not None and self._attached(group):
                url = check.url(registered.host, registered.port)
                failure = await probe(self._health_session, url, check)
                target.health.observe(failure, check)
            else:
                target.health.reset()  # unused; attaching starts over from initial, as on ALB
            await asyncio.sleep(check.interval / self.speed)

    # -- draining ------------------------------------------------------------------------------------

    async def _drain_timeout(self, group: str, target: _Target) -> None:
        settings = self.resources.target_groups.get(group)
        await asyncio.sleep((settings.deregistration_delay if settings is not None else 0.0) / self.speed)
        self._remove(self._groups[group], target)

    def _remove(self, group: _Group, target: _Target) -> None:
        if group.targets.get(target.url) is target:
            del group.targets[target.url]
        target.removed.set()
        current = asyncio.current_task()
        for task in target.tasks:
            if task is not current:
                task.cancel()

    # -- routing -------------------------------------------------------------------------------------

    def _choose_group(self, forward: Forward) -> str | None:
        weighted = {group.arn: group.weight for group in forward.groups if group.weight > 0}
        if not weighted:
            return None
        return self._rng.choices(list(weighted), weights=list(weighted.values()))[0]

    def _candidates(self, group: _Group) -> list[_Target]:
        """Targets in round-robin order starting at this request's turn. Only healthy ones, except
        that a group with no healthy target fails open to all of them, as ALB does: sending traffic
        to possibly-sick targets beats answering 503 when health checks themselves may be wrong."""
        serving = [target for target in group.targets.values() if not target.draining]
        healthy = [target for target in serving if target.health.healthy]
        pool = healthy or serving
        if not pool:
            return []
        group.turn += 1
        start = group.turn % len(pool)
        return pool[start:] + pool[:start]

    def _handler(self, listener: Listener) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            action = choose_rule(listener, _view(request)).routing
            if isinstance(action, Forward):
                return await self._forward(listener, action, request)
            if isinstance(action, FixedResponse):
                return self._fixed_response(listener, action)
            return self._redirect(listener, action, request)

        return handle

    async def _forward(
        self, listener: Listener, forward: Forward, request: web.Request
    ) -> web.StreamResponse:
        group_id = self._choose_group(forward)
        if group_id is None:
            return self._elb_error(listener, None, 503, "no target group has a weight on this rule")
        candidates = self._candidates(self._groups.setdefault(group_id, _Group()))
        if not candidates:
            return self._elb_error(listener, group_id, 503, "no registered targets")
        body = await request.read()
        headers = self._request_headers(listener, request)
        # One retry on another target, only when the request never reached the first one.
        attempts = candidates[:2] if request.method in _RETRYABLE_METHODS else candidates[:1]
        for target in attempts:
            target.in_flight += 1
            try:
                return await self._send(listener, group_id, target, request, headers, body)
            except _NotSent:
                continue
            except TimeoutError:
                return self._elb_error(listener, group_id, 504, "the target did not answer in time")
            except aiohttp.ClientError:
                return self._elb_error(listener, group_id, 502, "the target closed the connection")
            finally:
                target.in_flight -= 1
                if target.draining and target.in_flight == 0:
                    self._remove(self._groups[group_id], target)
        return self._elb_error(listener, group_id, 502, "could not connect to a target")

    def _fixed_response(self, listener: Listener, action: FixedResponse) -> web.Response:
        self._recorder.record(listener, None, action.status_code, elb=True, latency=None)
        return web.Response(
            status=action.status_code,
            text=action.message_body or "",
            content_type=action.content_type or "text/plain",
        )

    def _redirect(self, listener: Listener, action: Redirect, request: web.Request) -> web.Response:
        """ALB's reserved keys stand for the request's own parts; #{port} is the port the client used."""
        values = {
            "#{protocol}": "http",
            "#{host}": _host(request),
            "#{port}": str(listener.local_port),
            "#{path}": request.rel_url.raw_path.removeprefix("/"),
            "#{query}": urlencode(list(request.rel_url.query.items())),
        }

        def fill(part: str) -> str:
            for key, value in values.items():
                part = part.replace(key, value)
            return part

        query = fill(action.query)
        location = (
            f"{fill(action.protocol).lower()}://{fill(action.host)}:{fill(action.port)}{fill(action.path)}"
        )
        status = 301 if action.status_code == "HTTP_301" else 302
        self._recorder.record(listener, None, status, elb=True, latency=None)
        return web.Response(status=status, headers={"Location": location + (f"?{query}" if query else "")})

    async def _send(
        self,
        listener: Listener,
        group_id: str,
        target: _Target,
        request: web.Request,
        headers: CIMultiDict[str],
        body: bytes,
    ) -> web.Response:
        assert self._session is not None
        started = time.perf_counter()
        try:
            upstream = await self._session.request(
                request.method,
                target.url + request.rel_url.raw_path_qs,
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.target_timeout),
            )
        except aiohttp.ClientConnectorError as error:
            raise _NotSent from error
        async with upstream:
            latency = time.perf_counter() - started  # TargetResponseTime: until the response headers
            payload = await upstream.read()
        response_headers = CIMultiDict(
            (name, value) for name, value in upstream.headers.items() if name.lower() not in _HOP_BY_HOP
        )
        response_headers[GROUP_HEADER] = group_id
        self._recorder.record(listener, group_id, upstream.status, elb=False, latency=latency)
        return web.Response(status=upstream.status, headers=response_headers, body=payload)

    def _request_headers(self, listener: Listener, request: web.Request) -> CIMultiDict[str]:
        headers = CIMultiDict(
            (name, value) for name, value in request.headers.items() if name.lower() not in _HOP_BY_HOP
        )
        client = request.remote or "127.0.0.1"
        forwarded = headers.get("X-Forwarded-For")
        headers["X-Forwarded-For"] = f"{forwarded}, {client}" if forwarded else client
        headers["X-Forwarded-Proto"] = "http"
        headers["X-Forwarded-Port"] = str(listener.local_port)
        return headers

    def _elb_error(self, listener: Listener, group: str | None, status: int, why: str) -> web.Response:
        self._recorder.record(listener, group, status, elb=True, latency=None)
        headers = {GROUP_HEADER: group} if group is not None else {}
        return web.Response(status=status, text=f"{status} {why}\n", headers=headers)


def _host(request: web.Request) -> str:
    """The Host header without its port."""
    host = request.host or ""
    if host.startswith("["):  # an IPv6 literal
        return host[: host.find("]") + 1]
    name, colon, port = host.rpartition(":")
    return name if colon and port.isdigit() else host


def _view(request: web.Request) -> RequestView:
    return RequestView(
        method=request.method,
        path=request.rel_url.raw_path,
        host=_host(request),
        headers=request.headers,
        query=list(request.rel_url.query.items()),
        source_ip=request.remote or "",
    )


async def probe(session: aiohttp.ClientSession, url: str, check: HealthCheck) -> tuple[str, str] | None:
    """One health check of ``url``: None on success, else the ELB (reason, description) of the failure."""
    try:
        timeout = aiohttp.ClientTimeout(total=check.timeout)
        async with session.get(url, timeout=timeout, allow_redirects=False) as response:
            if check.matches(response.status):
                return None
            codes = f"Health checks failed with these codes: [{response.status}]"
            return "Target.ResponseCodeMismatch", codes
    except TimeoutError:
        return TIMEOUT
    except aiohttp.ClientError:
        return FAILED
