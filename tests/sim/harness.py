"""A minimal driver for the lifecycle engine on a virtual clock: it answers, it never sleeps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecs_bg.hooks.event import HookEvent, Stage, parse_event
from ecs_bg.lifecycle.engine import (
    Action,
    Engine,
    Finished,
    InvokeHook,
    ScaleDownBlue,
    ScaleDownGreen,
    ScaleUpGreen,
    SetTraffic,
)
from ecs_bg.lifecycle.events import ServiceIds
from ecs_bg.lifecycle.plan import DeploymentSpec, HookSpec

IDS = ServiceIds()
# ECS's BLUE_GREEN stage order, written out by hand: what the engine's plan is checked against.
BLUE_GREEN = [
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
]
GREEN, BLUE = IDS.green_arn, IDS.blue_arn
START = 1_000_000.0


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Raise:
    """The invocation raised, crashed or timed out in Lambda."""

    error: str


NO_ANSWER: Any = object()  # leave the invocation unanswered
Responder = Callable[[InvokeHook], object]


def succeed(invocation: InvokeHook) -> object:
    return {"hookStatus": "SUCCEEDED"}


def lambda_hook(hook_id: str, *stages: Stage, **kwargs: Any) -> HookSpec:
    return HookSpec(
        hook_id, "AWS_LAMBDA", stages, target_arn=f"arn:aws:lambda:us-west-2:123:function:{hook_id}", **kwargs
    )


def pause_hook(hook_id: str, *stages: Stage, **kwargs: Any) -> HookSpec:
    return HookSpec(hook_id, "PAUSE", stages, **kwargs)


@dataclass
class Driver:
    """Runs one deployment: answers hooks with ``respond``, reports green healthy, follows timers."""

    spec: DeploymentSpec
    respond: Responder = succeed
    healthy: bool = True
    clock: Clock = field(default_factory=Clock)
    actions: list[Action] = field(default_factory=list)
    pending: list[InvokeHook] = field(default_factory=list)
    engine: Engine = field(init=False)
    scale_up_requested: bool = False
    scale_down_requested: bool = False

    def __post_init__(self) -> None:
        self.engine = Engine(self.spec, self.clock)

    def take(self, actions: list[Action]) -> list[Action]:
        self.actions += actions
        self.pending += [action for action in actions if isinstance(action, InvokeHook)]
        self.scale_up_requested |= any(isinstance(action, ScaleUpGreen) for action in actions)
        self.scale_down_requested |= any(isinstance(a, ScaleDownBlue | ScaleDownGreen) for a in actions)
        return actions

    def start(self) -> list[Action]:
        return self.take(self.engine.start())

    def answer(self, invocation: InvokeHook, response: object) -> list[Action]:
        self.pending.remove(invocation)
        if isinstance(response, Raise):
            return self.take(self.engine.hook_result(invocation.invocation_id, None, error=response.error))
        return self.take(self.engine.hook_result(invocation.invocation_id, response))

    def step(self) -> bool:
        """Do the next thing a driver would; False when nothing is left to do."""
        answerable = [(inv, self.respond(inv)) for inv in self.pending]
        answerable = [(inv, response) for inv, response in answerable if response is not NO_ANSWER]
        if answerable:
            self.answer(*answerable[0])
        elif self.scale_up_requested and self.healthy:
            self.scale_up_requested = False
            self.take(self.engine.green_health(True))
        elif self.scale_down_requested:
            self.scale_down_requested = False  # at once: a test that cares moves the clock itself
            self.take(self.engine.scaled_down())
        elif (due := self.engine.next_timer()) is not None:
            self.clock.now = max(self.clock.now, due)
            self.take(self.engine.advance())
        else:
            return False
        return True

    def run(self, *, limit: int = 10_000) -> str:
        """Drive until the deployment ends or waits on something only the test can give."""
        if self.engine.status == "PENDING":
            self.start()
        for _ in range(limit):
            if self.finished or not self.step():
                break
        return self.engine.status

    def run_until(self, predicate: Callable[[], bool], *, limit: int = 10_000) -> None:
        if self.engine.status == "PENDING":
            self.start()
        for _ in range(limit):
            if predicate():
                return
            if not self.step():
                break
        assert predicate(), "the condition never came true"

    @property
    def finished(self) -> list[str]:
        return [action.status for action in self.actions if isinstance(action, Finished)]

    @property
    def invoked(self) -> list[InvokeHook]:
        return [action for action in self.actions if isinstance(action, InvokeHook)]

    @property
    def traffic_moves(self) -> list[SetTraffic]:
        return [action for action in self.actions if isinstance(action, SetTraffic)]

    def stage_names(self) -> list[str]:
        return [record.stage for record in self.engine.stages]


def event_of(invocation: InvokeHook) -> HookEvent:
    return parse_event(invocation.event)
