"""The stack's load balancer as the local world has it, and as the local ECS moves it.

``stack_load_balancer`` builds the model the CDK stack deploys (infrastructure/lib/constructs/
load_balancer.py): one internet-facing ALB; a production listener on port 80 and a test listener on
the stack's test port (cdk.json's ``testListenerPort``), each answering 404 "no route" by default;
one rule on each (priority 1, path ``/*``) forwarding to one target group, production to blue and test
to green; two IP target groups with the same settings. Its ARNs are the stack's outputs': the load
balancer's and the listeners' follow from the rules'. A later change builds the same model from the
user's synthesized template instead.

``LoadBalancing`` is what the local ECS moves: ECS rewrites the production and the test rule into
weighted forwards over both groups (``set_weights``), attaches the group of the revision it deploys
(``attach``), and reads its tasks' health.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ecs_bg.deploy.stack_context import StackContext
from ecs_bg.local.elbv2.backend import Elbv2Backend
from ecs_bg.local.elbv2.balancer import LocalLoadBalancer
from ecs_bg.local.elbv2.health import HealthCheck
from ecs_bg.local.elbv2.models import (
    Condition,
    Elbv2Resources,
    FixedResponse,
    Forward,
    Listener,
    LoadBalancer,
    Rule,
    Subnet,
    TargetGroup,
    WeightedGroup,
)

HEALTH = {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY"}  # ELB's target state -> ECS's healthStatus

# An ALB's CanonicalHostedZoneId by region ("Elastic Load Balancing endpoints and quotas", AWS General
# Reference); a region not listed gets none.
HOSTED_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "ap-northeast-1": "Z14GRHDCWA56QT",
}


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

    def health_check(self, path: str) -> HealthCheck:
        """The groups' health check; ``path``: the stack's ``healthCheckPath`` context."""
        return HealthCheck(
            path=path,
            interval=self.interval,
            timeout=self.timeout,
            healthy_threshold=self.healthy_threshold,
            unhealthy_threshold=self.unhealthy_threshold,
            matcher=self.healthy_http_codes,
        )


TARGET_GROUPS = TargetGroupSettings()


@dataclass(frozen=True)
class StackLoadBalancer:
    """The model, and which of its rules and groups are the stack's production and test ones."""

    resources: Elbv2Resources
    production_rule: str
    test_rule: str
    blue_group: str
    green_group: str


def stack_load_balancer(
    outputs: Mapping[str, str],
    context: StackContext | None = None,
    settings: TargetGroupSettings = TARGET_GROUPS,
) -> StackLoadBalancer:
    """The stack's load balancer from its outputs (``BlueTargetGroupArn``, ``GreenTargetGroupArn``,
    ``ProductionListenerRuleArn``, ``TestListenerRuleArn``) and its context (cdk.json: the container
    port, the health check path, the test listener's port; the stack's defaults without one)."""
    context = context or StackContext()
    production_rule, test_rule = outputs["ProductionListenerRuleArn"], outputs["TestListenerRuleArn"]
    blue, green = outputs["BlueTargetGroupArn"], outputs["GreenTargetGroupArn"]
    # listener-rule/app/<lb>/<lb id>/<listener id>/<rule id> -> listener/app/<lb>/<lb id>/<listener id>
    listener_of = {
        rule: rule.replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]
        for rule in (production_rule, test_rule)
    }
    balancer_arn = listener_of[production_rule].replace(":listener/", ":loadbalancer/").rsplit("/", 1)[0]
    region = balancer_arn.split(":")[3]
    name = balancer_arn.rsplit("/", 2)[-2]
    vpc = "vpc-0a1b2c3d4e5f60000"
    not_found = FixedResponse(404, "text/plain", "no route")  # the listeners' default action
    listeners = []
    for listener_name, port, rule_arn, group in (
        ("production", 80, production_rule, blue),
        ("test", context.test_listener_port, test_rule, green),
    ):
        arn = listener_of[rule_arn]
        default_id = hashlib.sha256(arn.encode()).hexdigest()[:16]
        default_arn = f"{arn.replace(':listener/', ':listener-rule/')}/{default_id}"
        rules = [
            Rule(
                rule_arn,
                arn,
                1,
                (Condition("path-pattern", ("/*",)),),
                (Forward((WeightedGroup(group, 1),)),),
            ),
            Rule(default_arn, arn, None, (), (not_found,)),
        ]
        listeners.append(Listener(arn, balancer_arn, listener_name, port, "HTTP", rules))
    balancer = LoadBalancer(
        arn=balancer_arn,
        name=name,
        # The local listeners are on this machine; their ports are the local ones, not 80 and the
        # test port (``ecs-bg local`` prints them; the stack's ProductionUrl and TestUrl outputs are them).
        dns_name="127.0.0.1",
        vpc_id=vpc,
        subnets=(
            Subnet(f"{region}a", "subnet-0a1b2c3d4e5f6000a"),
            Subnet(f"{region}c", "subnet-0a1b2c3d4e5f6000c"),
        ),
        security_groups=("sg-0a1b2c3d4e5f60004",),
        hosted_zone_id=HOSTED_ZONES.get(region, ""),
        listeners=listeners,
    )
    check = settings.health_check(context.health_check_path)
    groups = {
        arn: TargetGroup(
            arn=arn,
            name=group_name(arn),
            vpc_id=vpc,
            health_check=check,
            port=context.container_port,
            deregistration_delay=settings.deregistration_delay,
        )
        for arn in (blue, green)
    }
    resources = Elbv2Resources([balancer], groups)
    return StackLoadBalancer(resources, production_rule, test_rule, blue, green)


def group_name(arn: str) -> str:
    """A target group's name from its ARN (``...:targetgroup/<name>/<id>``)."""
    return arn.split(":targetgroup/", 1)[-1].split("/", 1)[0]


@dataclass
class Rules:
    """The production and test listener rules' weighted forwards, by target group ARN."""

    production: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)


class LoadBalancing:
    def __init__(self, stack: StackLoadBalancer, speed: float) -> None:
        self.stack = stack
        self.lb = LocalLoadBalancer(stack.resources, speed=speed)
        self.backend = Elbv2Backend(self.lb)

    @property
    def groups(self) -> tuple[str, ...]:
        """Every target group, by ARN."""
        return tuple(self.stack.resources.target_groups)

    @property
    def rules(self) -> Rules:
        return Rules(
            self.backend.rule_weights(self.stack.production_rule),
            self.backend.rule_weights(self.stack.test_rule),
        )

    async def start(self) -> None:
        await self.lb.start()
        # As ECS leaves them before a first deployment: both rules forward to blue, green attached at 0.
        weights = {self.stack.blue_group: 100.0, self.stack.green_group: 0.0}
        self.set_weights(weights, weights)

    async def close(self) -> None:
        await self.lb.close()

    def set_weights(self, production: dict[str, float], test: dict[str, float]) -> None:
        """Replace each rule's weights; a group the rule already forwards to stays on it at 0, as
        ECS's weighted forward names both groups."""
        rules = self.rules
        self.backend.set_rule_weights(
            self.stack.production_rule, {**dict.fromkeys(rules.production, 0.0), **production}
        )
        self.backend.set_rule_weights(self.stack.test_rule, {**dict.fromkeys(rules.test, 0.0), **test})

    def attach(self, group: str) -> None:
        """Put ``group`` on both rules (weight 0 when new), so its targets are health-checked; every
        other group keeps its weight (production stays where it is until ECS shifts it). A group the
        model lacks (a service's own targetGroupArn) is made as the stack makes its groups: that such
        a group exists is for the ECS API to check, as ECS checks it at CreateService."""
        groups = self.stack.resources.target_groups
        if group not in groups:
            groups[group] = replace(groups[self.stack.blue_group], arn=group, name=group_name(group))
        rules = self.rules
        self.set_weights({group: 0.0, **rules.production}, {group: 0.0, **rules.test})

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
