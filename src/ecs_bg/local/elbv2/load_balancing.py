"""The user's load balancers as the local world has them, and as the local ECS moves them.

``resources`` builds the model from the synthesized templates (``cloudformation.cloud``): each load
balancer with its listeners (each on its own local port), their default actions and rules, and the
target groups with their own health checks and deregistration delays, as the templates define them.

``LoadBalancing`` is what the local ECS moves: at each traffic shift ECS rewrites the production
and the test rule a service names (``loadBalancers[].advancedConfiguration``) into weighted forwards
over the service's target groups (``set_weights``), attaches the group of the revision it deploys
(``attach``), and reads its tasks' health.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace

from ecs_bg.local.cloudformation import model as cfn
from ecs_bg.local.cloudformation.cloud import LocalCloud
from ecs_bg.local.elbv2.backend import Elbv2Backend
from ecs_bg.local.elbv2.balancer import LocalLoadBalancer
from ecs_bg.local.elbv2.health import HealthCheck
from ecs_bg.local.elbv2.models import (
    Action,
    Condition,
    Elbv2Resources,
    FixedResponse,
    Forward,
    Listener,
    LoadBalancer,
    Redirect,
    Rule,
    Subnet,
    TargetGroup,
    WeightedGroup,
)

HEALTH = {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY"}  # ELB's target state -> ECS's healthStatus
VPC = "vpc-0a1b2c3d4e5f60000"  # what DescribeLoadBalancers answers; nothing local has a VPC

# An ALB's CanonicalHostedZoneId by region ("Elastic Load Balancing endpoints and quotas", AWS General
# Reference); a region not listed gets none.
HOSTED_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "ap-northeast-1": "Z14GRHDCWA56QT",
}


def resources(cloud: LocalCloud, roles: Mapping[str, str] | None = None) -> Elbv2Resources:
    """The templates' load balancers and target groups. ``roles``: a rule ARN -> production or test,
    as a service's advancedConfiguration names them: its listener is named so (the traffic statistics'
    and the report's names); any other listener is named by its port."""
    roles = roles or {}
    model = Elbv2Resources()
    for stack in cloud.resources:
        for group in stack.target_groups:
            model.target_groups[group.arn] = _target_group(group)
        rules_of: dict[str, list[Rule]] = {}
        for rule in stack.listener_rules:
            rules_of.setdefault(rule.listener_arn, []).append(
                Rule(
                    rule.arn,
                    rule.listener_arn,
                    rule.priority,
                    tuple(_condition(c) for c in rule.conditions),
                    tuple(_action(a) for a in rule.actions),
                )
            )
        for balancer in stack.load_balancers:
            listeners = []
            for listener in stack.listeners:
                if listener.load_balancer_arn != balancer.arn:
                    continue
                rules = rules_of.get(listener.arn, [])
                named = {roles[rule.arn] for rule in rules if rule.arn in roles}
                name = named.pop() if len(named) == 1 else f"listener-{listener.port}"
                default = Rule(
                    f"{listener.arn.replace(':listener/', ':listener-rule/')}/default",
                    listener.arn,
                    None,
                    (),
                    tuple(_action(a) for a in listener.default_actions),
                )
                listeners.append(
                    Listener(
                        listener.arn,
                        balancer.arn,
                        name,
                        listener.port or 80,
                        # TLS is not emulated: a local listener speaks HTTP whatever the template says.
                        "HTTP",
                        [*rules, default],
                        local_port=cloud.ports.get(listener.arn, 0),
                    )
                )
            model.load_balancers.append(
                LoadBalancer(
                    arn=balancer.arn,
                    name=balancer.name,
                    dns_name="127.0.0.1",  # the listeners are on this machine
                    vpc_id=VPC,
                    # An ALB spans two Availability Zones at least; nothing local has a subnet.
                    subnets=(
                        Subnet(f"{stack.region}a", "subnet-0a1b2c3d4e5f6000a"),
                        Subnet(f"{stack.region}c", "subnet-0a1b2c3d4e5f6000c"),
                    ),
                    security_groups=(),
                    scheme=balancer.scheme,
                    type=balancer.type,
                    hosted_zone_id=HOSTED_ZONES.get(stack.region, ""),
                    listeners=listeners,
                )
            )
    return model


def _target_group(group: cfn.TargetGroup) -> TargetGroup:
    check = group.health_check
    return TargetGroup(
        arn=group.arn,
        name=group.name,
        vpc_id=VPC,
        health_check=HealthCheck(
            path=check.path,
            port=check.port,
            protocol=check.protocol,
            interval=check.interval_seconds,
            timeout=check.timeout_seconds,
            healthy_threshold=check.healthy_threshold,
            unhealthy_threshold=check.unhealthy_threshold,
            matcher=check.matcher,
        ),
        protocol=group.protocol or "HTTP",
        port=group.port or 80,
        target_type=group.target_type,
        deregistration_delay=group.deregistration_delay_seconds,
    )


def _condition(condition: cfn.RuleCondition) -> Condition:
    if condition.field == "query-string":
        pairs = tuple(
            (key or None, value)
            for key, _, value in (v.rpartition("=") if "=" in v else ("", "", v) for v in condition.values)
        )
        return Condition(condition.field, query=pairs)
    return Condition(condition.field, tuple(condition.values), condition.http_header_name)


def _action(action: cfn.Action) -> Action:
    order = action.order or 1
    if action.type == "forward":
        groups = tuple(WeightedGroup(g.target_group_arn, g.weight) for g in action.target_groups)
        seconds = action.stickiness_seconds
        return Forward(groups, order, stickiness=seconds is not None, stickiness_seconds=seconds)
    if action.type == "fixed-response" and action.fixed_response is not None:
        answer = action.fixed_response
        return FixedResponse(int(answer.status_code), answer.content_type, answer.message_body, order)
    if action.type == "redirect" and action.redirect is not None:
        r = action.redirect
        return Redirect(r.status_code, r.protocol, r.port, r.host, r.path, r.query, order)
    # authenticate-* actions and the like: the local load balancer answers as a misconfigured one would
    return FixedResponse(503, "text/plain", f"the local load balancer does not emulate {action.type}", order)


class LoadBalancing:
    def __init__(self, model: Elbv2Resources, speed: float, rng: random.Random | None = None) -> None:
        self.model = model
        self.lb = LocalLoadBalancer(model, speed=speed, rng=rng)
        self.backend = Elbv2Backend(self.lb)

    @property
    def groups(self) -> tuple[str, ...]:
        """Every target group, by ARN."""
        return tuple(self.model.target_groups)

    async def start(self) -> None:
        await self.lb.start()

    async def close(self) -> None:
        await self.lb.close()

    def weights(self, rule: str) -> dict[str, float]:
        return self.backend.rule_weights(rule)

    def set_weights(self, weights: Mapping[str, Mapping[str, float]]) -> None:
        """Replace each rule's weights (rule ARN -> group ARN -> weight); a group the rule already
        forwards to stays on it at 0, as ECS's weighted forward names both groups."""
        for rule, given in weights.items():
            self.backend.set_rule_weights(rule, {**dict.fromkeys(self.weights(rule), 0.0), **given})

    def attach(self, group: str, rules: tuple[str, ...]) -> None:
        """Put ``group`` on ``rules`` (weight 0 when new), so its targets are health-checked; the others
        keep their weights (production stays where it is until ECS shifts it). A group the model lacks
        is made like the rules' first group: that such a group exists is for the ECS API to check, as
        ECS checks it at CreateService."""
        groups = self.model.target_groups
        if group not in groups:
            like = next((g for rule in rules for g in self.weights(rule) if g in groups), None)
            if like is None:
                return
            groups[group] = replace(groups[like], arn=group, name=group.split("/")[-2])
        self.set_weights({rule: {group: 0.0, **self.weights(rule)} for rule in rules})

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
