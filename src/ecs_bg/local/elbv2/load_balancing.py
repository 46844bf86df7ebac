"""The stack's load balancer as the local ECS meets it: a production and a test listener whose rules
forward by weight to the two target groups, with the groups' own health check on the local clock.

The groups and rules exist from the start with production on the blue group, as after ``cdk deploy``.
ECS attaches the group of the revision it deploys, registers its tasks there and moves the rules'
weights; which group is "blue" is whichever one serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ecs_bg.local.elbv2.balancer import LocalLoadBalancer
from ecs_bg.local.elbv2.health import HealthCheck

HEALTH = {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY"}  # ELB's target state -> ECS's healthStatus


@dataclass(frozen=True)
class TargetGroupSettings:
    """What the stack sets on both target groups (infrastructure/lib/constructs/load_balancer.py), in
    ALB's own seconds; a test compares them with the synthesized template."""

    health_check_path: str = "/health"
    healthy_http_codes: str = "200"
    interval: float = 15
    timeout: float = 5  # ALB's default for HTTP health checks; the stack keeps it
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    deregistration_delay: float = 30

    def health_check(self, speed: float) -> HealthCheck:
        """The health check: the interval on the local clock, the timeout on the wall clock. An app
        answers in real time, so the stack's 5 s wait for an answer stays 5 s at any speed; a probe
        that takes long delays the next one (they never overlap)."""
        return HealthCheck(
            path=self.health_check_path,
            interval=self.interval / speed,
            timeout=self.timeout,
            healthy_threshold=self.healthy_threshold,
            unhealthy_threshold=self.unhealthy_threshold,
            matcher=self.healthy_http_codes,
        )


TARGET_GROUPS = TargetGroupSettings()


@dataclass
class Rules:
    """The production and test listener rules' weighted forwards, by target group ARN."""

    production: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)


class LoadBalancing:
    def __init__(self, blue_group: str, green_group: str, speed: float) -> None:
        self.blue_group, self.green_group = blue_group, green_group
        self.settings = TARGET_GROUPS
        self.lb = LocalLoadBalancer(
            health_check=self.settings.health_check(speed),
            deregistration_delay=self.settings.deregistration_delay / speed,
        )
        self.rules = Rules()

    @property
    def groups(self) -> tuple[str, str]:
        return self.blue_group, self.green_group

    async def start(self) -> None:
        await self.lb.start()
        # As the stack leaves them: both rules forward to blue, green attached at weight 0.
        weights = {self.blue_group: 100.0, self.green_group: 0.0}
        self.set_weights(weights, weights)

    async def close(self) -> None:
        await self.lb.close()

    def set_weights(self, production: dict[str, float], test: dict[str, float]) -> None:
        """Replace each rule's weights; a group the rule already forwards to stays on it at 0, as
        ECS's weighted forward names both groups."""
        self.rules.production = {**dict.fromkeys(self.rules.production, 0.0), **production}
        self.rules.test = {**dict.fromkeys(self.rules.test, 0.0), **test}
        self.lb.set_weights("production", self.rules.production)
        self.lb.set_weights("test", self.rules.test)

    def attach(self, group: str) -> None:
        """Put ``group`` on both rules (weight 0 when new), so its targets are health-checked; every
        other group keeps its weight (production stays where it is until ECS shifts it)."""
        self.set_weights({group: 0.0, **self.rules.production}, {group: 0.0, **self.rules.test})

    def health_status(self, target: str | None, group: str | None) -> str:
        """ECS's healthStatus of a task whose container serves ``target`` in ``group``."""
        if group is None or target is None:
            return "UNKNOWN"
        for health in self.lb.target_health(group):
            if health.target == target:
                return HEALTH.get(health.state, "UNKNOWN")
        return "UNKNOWN"

    def is_healthy(self, target: str | None, group: str | None) -> bool:
        return group is not None and any(
            health.target == target and health.state == "healthy" for health in self.lb.target_health(group)
        )
