"""elbv2 reads about the local world, in the query protocol's XML.

The stack's load balancer, its production and test listeners, each with the stack's rule forwarding
by the weights ECS last set, both target groups and their targets' health. Shapes follow botocore's
elbv2 model (members of lists are ``<member>``).
"""

from __future__ import annotations

import datetime
from typing import Any
from xml.sax.saxutils import escape

from ecs_bg.local.elbv2.load_balancing import TARGET_GROUPS
from ecs_bg.local.endpoint import QueryAnswer
from ecs_bg.local.errors import AwsError
from ecs_bg.local.world import World

ELB_XMLNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"


def _xml(value: Any) -> str:
    """A dict or list as query-protocol XML: dict keys are elements, list items ``<member>``."""
    if isinstance(value, dict):
        return "".join(f"<{key}>{_xml(item)}</{key}>" for key, item in value.items() if item is not None)
    if isinstance(value, list):
        return "".join(f"<member>{_xml(item)}</member>" for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _answer(operation: str, xmlns: str, result: dict[str, Any]) -> str:
    return (
        f'<{operation}Response xmlns="{xmlns}"><{operation}Result>{_xml(result)}</{operation}Result>'
        f"<ResponseMetadata><RequestId>ecs-bg-local</RequestId></ResponseMetadata></{operation}Response>"
    )


def _listed(params: dict[str, str], name: str) -> list[str]:
    """``Name.member.1``, ``Name.member.2``, ... in order."""
    found = sorted(
        (int(key.rsplit(".", 1)[1]), value)
        for key, value in params.items()
        if key.startswith(f"{name}.member.")
    )
    return [value for _, value in found]


class AwsReads:
    def __init__(self, world: World) -> None:
        self.world = world
        self.created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        values = world.outputs.values
        self.rules = {
            "production": values["ProductionListenerRuleArn"],
            "test": values["TestListenerRuleArn"],
        }
        # listener-rule/app/<lb>/<lb id>/<listener id>/<rule id> -> listener/app/<lb>/<lb id>/<listener id>
        self.listeners = {
            name: rule.replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]
            for name, rule in self.rules.items()
        }
        self.load_balancer = (
            self.listeners["production"].replace(":listener/", ":loadbalancer/").rsplit("/", 1)[0]
        )

    def answers(self) -> dict[str, QueryAnswer]:
        return {
            "DescribeLoadBalancers": self.describe_load_balancers,
            "DescribeListeners": self.describe_listeners,
            "DescribeRules": self.describe_rules,
            "DescribeTargetGroups": self.describe_target_groups,
            "DescribeTargetHealth": self.describe_target_health,
        }

    # -- elbv2 ---------------------------------------------------------------------------------------

    def _ports(self) -> dict[str, int]:
        urls = self.world.lb.urls
        return {
            "production": int(urls.production.rsplit(":", 1)[1]),
            "test": int(urls.test.rsplit(":", 1)[1]),
        }

    def describe_load_balancers(self, params: dict[str, str]) -> str:
        wanted = _listed(params, "LoadBalancerArns") + _listed(params, "Names")
        name = self.load_balancer.split("/")[-2]
        if wanted and self.load_balancer not in wanted and name not in wanted:
            raise AwsError("LoadBalancerNotFound", "One or more load balancers not found")
        balancer = {
            "LoadBalancerArn": self.load_balancer,
            "DNSName": "127.0.0.1",
            "LoadBalancerName": name,
            "Scheme": "internet-facing",
            "State": {"Code": "active"},
            "Type": "application",
            "IpAddressType": "ipv4",
            "CreatedTime": self.created,
        }
        return _answer("DescribeLoadBalancers", ELB_XMLNS, {"LoadBalancers": [balancer]})

    def describe_listeners(self, params: dict[str, str]) -> str:
        wanted = _listed(params, "ListenerArns")
        arn = params.get("LoadBalancerArn")
        if arn is not None and arn != self.load_balancer:
            raise AwsError("LoadBalancerNotFound", "One or more load balancers not found")
        ports = self._ports()
        listeners = [
            {
                "ListenerArn": listener,
                "LoadBalancerArn": self.load_balancer,
                "Port": ports[name],
                "Protocol": "HTTP",
                "DefaultActions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
            }
            for name, listener in self.listeners.items()
            if not wanted or listener in wanted
        ]
        if wanted and len(listeners) < len(wanted):
            raise AwsError("ListenerNotFound", "One or more listeners not found")
        return _answer("DescribeListeners", ELB_XMLNS, {"Listeners": listeners})

    def describe_rules(self, params: dict[str, str]) -> str:
        wanted = _listed(params, "RuleArns")
        listener = params.get("ListenerArn")
        if listener is not None and listener not in self.listeners.values():
            raise AwsError("ListenerNotFound", "One or more listeners not found")
        weights = {"production": self.world.elbv2.rules.production, "test": self.world.elbv2.rules.test}
        rules = [
            {
                "RuleArn": rule,
                "Priority": rule.rsplit("/", 1)[1],
                "Conditions": [{"Field": "path-pattern", "Values": ["/*"]}],
                "Actions": [
                    {
                        "Type": "forward",
                        "Order": 1,
                        "ForwardConfig": {
                            "TargetGroups": [
                                {"TargetGroupArn": group, "Weight": round(weight)}
                                for group, weight in weights[name].items()
                            ]
                        },
                    }
                ],
                "IsDefault": False,
            }
            for name, rule in self.rules.items()
            if (not wanted or rule in wanted) and (listener is None or self.listeners[name] == listener)
        ]
        if wanted and len(rules) < len(wanted):
            raise AwsError("RuleNotFound", "One or more rules not found")
        return _answer("DescribeRules", ELB_XMLNS, {"Rules": rules})

    def _groups(self) -> list[str]:
        return list(self.world.elbv2.groups)

    def describe_target_groups(self, params: dict[str, str]) -> str:
        wanted = _listed(params, "TargetGroupArns")
        names = _listed(params, "Names")
        groups = [
            group
            for group in self._groups()
            if (not wanted or group in wanted) and (not names or group.split("/")[-2] in names)
        ]
        if (wanted or names) and not groups:
            raise AwsError("TargetGroupNotFound", "One or more target groups not found")
        check = TARGET_GROUPS  # the stack's health check, in ALB's own seconds
        described = [
            {
                "TargetGroupArn": group,
                "TargetGroupName": group.split("/")[-2],
                "Protocol": "HTTP",
                "Port": 8080,
                "HealthCheckProtocol": "HTTP",
                "HealthCheckPort": "traffic-port",
                "HealthCheckEnabled": True,
                "HealthCheckIntervalSeconds": int(check.interval),
                "HealthCheckTimeoutSeconds": int(check.timeout),
                "HealthyThresholdCount": check.healthy_threshold,
                "UnhealthyThresholdCount": check.unhealthy_threshold,
                "HealthCheckPath": check.health_check_path,
                "Matcher": {"HttpCode": check.healthy_http_codes},
                "LoadBalancerArns": [self.load_balancer],
                "TargetType": "ip",
            }
            for group in groups
        ]
        return _answer("DescribeTargetGroups", ELB_XMLNS, {"TargetGroups": described})

    def describe_target_health(self, params: dict[str, str]) -> str:
        group = params.get("TargetGroupArn", "")
        if group not in self._groups():
            raise AwsError("TargetGroupNotFound", "One or more target groups not found")
        descriptions = []
        for health in self.world.lb.target_health(group):
            host, port = health.target.removeprefix("http://").split(":")
            state: dict[str, Any] = {"State": health.state}
            if health.reason:
                state |= {"Reason": health.reason, "Description": health.description or ""}
            descriptions.append(
                {"Target": {"Id": host, "Port": int(port)}, "HealthCheckPort": port, "TargetHealth": state}
            )
        return _answer("DescribeTargetHealth", ELB_XMLNS, {"TargetHealthDescriptions": descriptions})
