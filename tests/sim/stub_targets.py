"""In-process HTTP targets for load balancer tests: real loopback sockets, knobs flipped mid-test; and
the stack's load balancer over test groups."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

from ecs_bg.local.cloudformation.stack import StackOutputs
from ecs_bg.local.elbv2.backend import Elbv2Backend
from ecs_bg.local.elbv2.balancer import LocalLoadBalancer
from ecs_bg.local.elbv2.health import HealthCheck
from ecs_bg.local.elbv2.load_balancing import stack_load_balancer

T = TypeVar("T")


def run(scenario: Callable[[], Coroutine[Any, Any, T]], timeout: float = 30.0) -> T:
    """Run one async scenario with a hard bound, so a hung socket fails the test instead of CI."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), timeout)

    return asyncio.run(bounded())


@dataclass
class StubTarget:
    """``/health`` answers ``health_status``; every other path answers ``status`` after ``delay``."""

    name: str
    health_status: int = 200
    health_delay: float = 0.0
    status: int = 200
    delay: float = 0.0
    url: str = ""
    seen_headers: list[dict[str, str]] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    async def start(self) -> StubTarget:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_route("*", "/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, _: web.Request) -> web.Response:
        await asyncio.sleep(self.health_delay)
        return web.Response(status=self.health_status, text="health")

    async def _serve(self, request: web.Request) -> web.Response:
        self.seen_headers.append(dict(request.headers))
        await asyncio.sleep(self.delay)
        return web.Response(status=self.status, text=self.name, headers={"x-target": self.name})


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0, poll: float = 0.02) -> bool:
    """Poll ``condition`` until true or ``timeout``: bounded like every wait in these tests."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if condition():
            return True
        await asyncio.sleep(poll)
    return condition()


def two_listener_lb(
    groups: tuple[str, str] = ("blue", "green"),
    check: HealthCheck | None = None,
    deregistration_delay: float = 30.0,
    **options: Any,
) -> LocalLoadBalancer:
    """The stack's load balancer (production and test listener, one rule each) over two target groups
    named ``groups`` with ``check`` and ``deregistration_delay`` (real seconds: speed 1), both rules
    forwarding to both groups at weight 0: every request gets the load balancer's own 503 until a test
    sets weights (``set_weights``). Not started."""
    outputs = {**StackOutputs("ap-northeast-1").values}
    outputs["BlueTargetGroupArn"], outputs["GreenTargetGroupArn"] = groups
    stack = stack_load_balancer(outputs)
    for group in stack.resources.target_groups.values():
        group.health_check = check or HealthCheck()
        group.deregistration_delay = deregistration_delay
    lb = LocalLoadBalancer(stack.resources, **options)
    for listener in ("production", "test"):
        set_weights(lb, listener, dict.fromkeys(groups, 0))
    return lb


def set_weights(lb: LocalLoadBalancer, listener: str, weights: dict[str, float]) -> None:
    """Make the listener's rule forward to exactly ``weights``, as ECS rewrites the stack's rules."""
    found = lb.resources.listener_named(listener)
    assert found is not None
    rule = next(rule for rule in found.rules if not rule.is_default)
    Elbv2Backend(lb).set_rule_weights(rule.arn, weights)
