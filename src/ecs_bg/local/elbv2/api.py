"""Elastic Load Balancing v2's API over the local backend: requests parsed and checked against botocore's
input shapes, answers in its output shapes (``ecs_bg.local.query``), errors with ELB's codes.

Served: the reads a deployment tool or hook makes (DescribeLoadBalancers, DescribeListeners,
DescribeRules, DescribeTargetGroups, DescribeTargetHealth, DescribeTargetGroupAttributes) and the writes
a hook that moves traffic itself makes (ModifyListener, ModifyRule, RegisterTargets,
DeregisterTargets). Every other elbv2 operation goes on to moto, which knows none of these resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ecs_bg.local.elbv2.backend import Elbv2Backend, invalid
from ecs_bg.local.elbv2.health import TargetHealth
from ecs_bg.local.elbv2.models import (
    Action,
    Condition,
    FixedResponse,
    Forward,
    Listener,
    LoadBalancer,
    Rule,
    Target,
    TargetGroup,
)
from ecs_bg.local.endpoint import QueryAnswer
from ecs_bg.local.query import QueryService

# The query-protocol field that carries each condition's values in its own config (RuleCondition).
_CONFIGS = {
    "path-pattern": "PathPatternConfig",
    "host-header": "HostHeaderConfig",
    "http-request-method": "HttpRequestMethodConfig",
    "source-ip": "SourceIpConfig",
}


class Elbv2Api:
    def __init__(self, backend: Elbv2Backend) -> None:
        self.backend = backend

    def answers(self) -> dict[str, QueryAnswer]:
        return QueryService(
            "elbv2",
            {
                "DescribeLoadBalancers": self.describe_load_balancers,
                "DescribeListeners": self.describe_listeners,
                "DescribeRules": self.describe_rules,
                "DescribeTargetGroups": self.describe_target_groups,
                "DescribeTargetHealth": self.describe_target_health,
                "DescribeTargetGroupAttributes": self.describe_target_group_attributes,
                "ModifyListener": self.modify_listener,
                "ModifyRule": self.modify_rule,
                "RegisterTargets": self.register_targets,
                "DeregisterTargets": self.deregister_targets,
            },
        ).answers()

    # -- reads ---------------------------------------------------------------------------------------

    def describe_load_balancers(self, request: dict[str, Any]) -> dict[str, Any]:
        found = self.backend.describe_load_balancers(
            request.get("LoadBalancerArns", []), request.get("Names", [])
        )
        return _page("LoadBalancers", [_load_balancer(lb) for lb in found], request)

    def describe_listeners(self, request: dict[str, Any]) -> dict[str, Any]:
        found = self.backend.describe_listeners(
            request.get("LoadBalancerArn"), request.get("ListenerArns", [])
        )
        return _page("Listeners", [_listener(listener) for listener in found], request)

    def describe_rules(self, request: dict[str, Any]) -> dict[str, Any]:
        found = self.backend.describe_rules(request.get("ListenerArn"), request.get("RuleArns", []))
        return _page("Rules", [_rule(rule) for rule in found], request)

    def describe_target_groups(self, request: dict[str, Any]) -> dict[str, Any]:
        found = self.backend.describe_target_groups(
            request.get("LoadBalancerArn"), request.get("TargetGroupArns", []), request.get("Names", [])
        )
        resources = self.backend.resources
        described = [_target_group(group, resources.load_balancers_of(group.arn)) for group in found]
        return _page("TargetGroups", described, request)

    def describe_target_health(self, request: dict[str, Any]) -> dict[str, Any]:
        arn = request["TargetGroupArn"]
        group = self.backend.target_group(arn)
        healths = self.backend.target_health(arn, request.get("Targets", []))
        return {"TargetHealthDescriptions": [_target_health(group, *each) for each in healths]}

    def describe_target_group_attributes(self, request: dict[str, Any]) -> dict[str, Any]:
        group = self.backend.target_group(request["TargetGroupArn"])
        # The stack's groups set only the deregistration delay; the rest are ALB's defaults
        # (ModifyTargetGroupAttributes' "Attributes" in botocore's elbv2 model lists them).
        attributes = {
            "deregistration_delay.timeout_seconds": str(round(group.deregistration_delay)),
            "stickiness.enabled": "false",
            "stickiness.type": "lb_cookie",
            "stickiness.lb_cookie.duration_seconds": "86400",
            "load_balancing.algorithm.type": "round_robin",
            "slow_start.duration_seconds": "0",
            "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
        }
        return {"Attributes": [{"Key": key, "Value": value} for key, value in attributes.items()]}

    # -- writes --------------------------------------------------------------------------------------

    def modify_listener(self, request: dict[str, Any]) -> dict[str, Any]:
        listener = self.backend.modify_listener(request["ListenerArn"], request)
        return {"Listeners": [_listener(listener)]}

    def modify_rule(self, request: dict[str, Any]) -> dict[str, Any]:
        rule = self.backend.modify_rule(request["RuleArn"], request)
        return {"Rules": [_rule(rule)]}

    def register_targets(self, request: dict[str, Any]) -> dict[str, Any]:
        self.backend.register_targets(request["TargetGroupArn"], request["Targets"])
        return {}

    def deregister_targets(self, request: dict[str, Any]) -> dict[str, Any]:
        self.backend.deregister_targets(request["TargetGroupArn"], request["Targets"])
        return {}


def _page(key: str, items: Sequence[dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
    """One page of ``items`` from ``Marker`` (an offset this API handed out), ``PageSize`` long."""
    marker = request.get("Marker")
    start = 0
    if marker is not None:
        if not marker.isdigit() or int(marker) > len(items):
            raise invalid(f"The marker '{marker}' is not valid")
        start = int(marker)
    size = request.get("PageSize") or len(items) or 1
    page: dict[str, Any] = {key: list(items[start : start + size])}
    if start + size < len(items):
        page["NextMarker"] = str(start + size)
    return page


def _load_balancer(balancer: LoadBalancer) -> dict[str, Any]:
    return {
        "LoadBalancerArn": balancer.arn,
        "DNSName": balancer.dns_name,
        "CanonicalHostedZoneId": balancer.hosted_zone_id,
        "CreatedTime": balancer.created,
        "LoadBalancerName": balancer.name,
        "Scheme": balancer.scheme,
        "VpcId": balancer.vpc_id,
        "State": {"Code": "active"},
        "Type": balancer.type,
        "AvailabilityZones": [
            {"ZoneName": subnet.zone, "SubnetId": subnet.subnet_id, "LoadBalancerAddresses": []}
            for subnet in balancer.subnets
        ],
        "SecurityGroups": list(balancer.security_groups),
        "IpAddressType": balancer.ip_address_type,
    }


def _listener(listener: Listener) -> dict[str, Any]:
    return {
        "ListenerArn": listener.arn,
        "LoadBalancerArn": listener.load_balancer_arn,
        "Port": listener.port,
        "Protocol": listener.protocol,
        "DefaultActions": [_action(action) for action in listener.default_rule.actions],
    }


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "RuleArn": rule.arn,
        "Priority": "default" if rule.priority is None else str(rule.priority),
        "Conditions": [_condition(condition) for condition in rule.conditions],
        "Actions": [_action(action) for action in rule.actions],
        "IsDefault": rule.is_default,
    }


def _action(action: Action) -> dict[str, Any]:
    if isinstance(action, Forward):
        stickiness: dict[str, Any] = {"Enabled": action.stickiness}
        if action.stickiness_seconds is not None:
            stickiness["DurationSeconds"] = action.stickiness_seconds
        described: dict[str, Any] = {
            "Type": "forward",
            "Order": action.order,
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": group.arn, "Weight": round(group.weight)} for group in action.groups
                ],
                "TargetGroupStickinessConfig": stickiness,
            },
        }
        # A forward to one group names it at the top level too, as ELB describes one; a weighted
        # forward over several does not (ELB refuses both forms together with more than one group).
        if len(action.groups) == 1:
            described["TargetGroupArn"] = action.groups[0].arn
        return described
    if isinstance(action, FixedResponse):
        config: dict[str, Any] = {"StatusCode": str(action.status_code)}
        if action.content_type is not None:
            config["ContentType"] = action.content_type
        if action.message_body is not None:
            config["MessageBody"] = action.message_body
        return {"Type": "fixed-response", "Order": action.order, "FixedResponseConfig": config}
    redirect = {
        "Protocol": action.protocol,
        "Port": action.port,
        "Host": action.host,
        "Path": action.path,
        "Query": action.query,
        "StatusCode": action.status_code,
    }
    return {"Type": "redirect", "Order": action.order, "RedirectConfig": redirect}


def _condition(condition: Condition) -> dict[str, Any]:
    field = condition.field
    values = list(condition.values)
    if field in ("path-pattern", "host-header"):
        return {"Field": field, "Values": values, _CONFIGS[field]: {"Values": values}}
    if field == "http-header":
        return {
            "Field": field,
            "HttpHeaderConfig": {"HttpHeaderName": condition.header_name, "Values": values},
        }
    if field == "query-string":
        pairs = [
            {"Value": value} | ({"Key": key} if key is not None else {}) for key, value in condition.query
        ]
        return {"Field": field, "QueryStringConfig": {"Values": pairs}}
    return {"Field": field, _CONFIGS[field]: {"Values": values}}


def _target_group(group: TargetGroup, load_balancers: list[str]) -> dict[str, Any]:
    check = group.health_check
    return {
        "TargetGroupArn": group.arn,
        "TargetGroupName": group.name,
        "Protocol": group.protocol,
        "Port": group.port,
        "VpcId": group.vpc_id,
        "HealthCheckProtocol": check.protocol,
        "HealthCheckPort": check.port,
        "HealthCheckEnabled": True,
        "HealthCheckIntervalSeconds": round(check.interval),
        "HealthCheckTimeoutSeconds": round(check.timeout),
        "HealthyThresholdCount": check.healthy_threshold,
        "UnhealthyThresholdCount": check.unhealthy_threshold,
        "HealthCheckPath": check.path,
        "Matcher": {"HttpCode": check.matcher},
        "LoadBalancerArns": load_balancers,
        "TargetType": group.target_type,
        "ProtocolVersion": group.protocol_version,
        "IpAddressType": group.ip_address_type,
    }


def _target_health(group: TargetGroup, target: Target, health: TargetHealth) -> dict[str, Any]:
    port = group.health_check.port
    state: dict[str, Any] = {"State": health.state}
    if health.reason is not None:
        state |= {"Reason": health.reason, "Description": health.description or ""}
    return {
        "Target": {"Id": target.id, "Port": target.port},
        "HealthCheckPort": str(target.port) if port == "traffic-port" else port,
        "TargetHealth": state,
        # No zonal shift is ever active here (TargetHealthDescription's AdministrativeOverride).
        "AdministrativeOverride": {
            "State": "no_override",
            "Reason": "AdministrativeOverride.NoOverride",
            "Description": "No override is currently active on target",
        },
    }
