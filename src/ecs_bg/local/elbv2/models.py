"""Elastic Load Balancing v2 resources as plain data: what the local load balancer is, not what it does.

The backend (``backend``) validates and changes them, the API (``api``) describes them in botocore's
shapes, and the data plane (``balancer``) routes every request by reading them as they are then. A
change to a rule applies to the requests that arrive after it; a request already forwarded finishes
where it went.

Weights are kept as given: ALB's API takes whole numbers 0-999, the local ECS moves traffic in
percentages, which may have decimals (a LINEAR step of 33.3 %); answers round them.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass, field

from ecs_bg.local.elbv2.health import HealthCheck

PRODUCTION, TEST = "production", "test"  # the roles ECS gives a service's two listener rules

# Routing actions ("Each rule must include exactly one of the following routing actions: forward,
# redirect, or fixed-response, and it must be the last action to be performed": ALB guide, "Action
# types for listener rules",
# docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-action-types.html).


@dataclass(frozen=True)
class WeightedGroup:
    arn: str
    weight: float


@dataclass(frozen=True)
class Forward:
    """Forward to target groups by weight: each request picks a group with probability weight/total."""

    groups: tuple[WeightedGroup, ...]
    order: int = 1
    stickiness: bool = False
    stickiness_seconds: int | None = None

    def weights(self) -> dict[str, float]:
        return {group.arn: group.weight for group in self.groups}


@dataclass(frozen=True)
class FixedResponse:
    status_code: int
    content_type: str | None = None
    message_body: str | None = None
    order: int = 1


@dataclass(frozen=True)
class Redirect:
    """Each part a literal or ALB's reserved keys (#{protocol}, #{host}, #{port}, #{path}, #{query})."""

    status_code: str  # HTTP_301 or HTTP_302
    protocol: str = "#{protocol}"
    port: str = "#{port}"
    host: str = "#{host}"
    path: str = "/#{path}"
    query: str = "#{query}"
    order: int = 1


Action = Forward | FixedResponse | Redirect


@dataclass(frozen=True)
class Condition:
    """One rule condition. ``values``: the patterns (path-pattern, host-header, http-header), methods
    (http-request-method) or CIDR blocks (source-ip); ``query``: query-string's (key or None, value)."""

    field: str
    values: tuple[str, ...] = ()
    header_name: str | None = None
    query: tuple[tuple[str | None, str], ...] = ()


@dataclass
class Rule:
    arn: str
    listener_arn: str
    priority: int | None  # None: the listener's default rule, evaluated last
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]

    @property
    def is_default(self) -> bool:
        return self.priority is None

    @property
    def routing(self) -> Action:
        """The action that answers the request: the last one performed."""
        return max(self.actions, key=lambda action: action.order)


@dataclass
class Listener:
    """``port`` is the port users know the listener by (80); ``local_port`` the one it really listens
    on, on 127.0.0.1 (0 until it listens). ``name`` is its role in the local world ("production",
    "test"): traffic statistics are kept per name."""

    arn: str
    load_balancer_arn: str
    name: str
    port: int
    protocol: str = "HTTP"
    rules: list[Rule] = field(default_factory=list)  # the default rule among them
    local_port: int = 0

    @property
    def default_rule(self) -> Rule:
        return next(rule for rule in self.rules if rule.is_default)

    def in_order(self) -> list[Rule]:
        """Rules as the listener evaluates them: by priority, lowest first, the default rule last."""
        return sorted(self.rules, key=lambda rule: (rule.is_default, rule.priority or 0))


@dataclass(frozen=True)
class Subnet:
    zone: str
    subnet_id: str


@dataclass
class LoadBalancer:
    arn: str
    name: str
    dns_name: str
    vpc_id: str
    subnets: tuple[Subnet, ...]
    security_groups: tuple[str, ...]
    scheme: str = "internet-facing"
    type: str = "application"
    ip_address_type: str = "ipv4"
    hosted_zone_id: str = ""
    created: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    listeners: list[Listener] = field(default_factory=list)


@dataclass
class TargetGroup:
    arn: str
    name: str
    vpc_id: str
    health_check: HealthCheck
    protocol: str = "HTTP"
    port: int = 80
    target_type: str = "ip"
    protocol_version: str = "HTTP1"
    ip_address_type: str = "ipv4"
    deregistration_delay: float = 300  # seconds on the local clock (ALB's default: 300)


@dataclass(frozen=True)
class Target:
    """A registered target of an ``ip`` target group: an IP address and the port it serves on."""

    id: str
    port: int

    @property
    def host(self) -> str:
        """The address as a URL names it (an IPv6 one in brackets)."""
        return f"[{self.id}]" if ":" in self.id else self.id

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    def from_url(cls, url: str) -> Target:
        """The target a ``http://host:port`` URL names (how the local ECS registers its tasks)."""
        host, _, port = url.removeprefix("http://").rpartition(":")
        return cls(host.strip("[]"), int(port))

    @property
    def address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.ip_address(self.id)


@dataclass
class Elbv2Resources:
    """Everything the local Elastic Load Balancing has: its load balancers (with their listeners and
    rules) and target groups, and the tags on any of them."""

    load_balancers: list[LoadBalancer] = field(default_factory=list)
    target_groups: dict[str, TargetGroup] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def listeners(self) -> list[Listener]:
        return [listener for balancer in self.load_balancers for listener in balancer.listeners]

    @property
    def rules(self) -> list[Rule]:
        return [rule for listener in self.listeners for rule in listener.in_order()]

    def listener_named(self, name: str) -> Listener | None:
        return next((listener for listener in self.listeners if listener.name == name), None)

    def forwards_to(self, group: str) -> list[Rule]:
        """The rules whose forward action names ``group``, at any weight."""
        return [
            rule
            for rule in self.rules
            if any(isinstance(action, Forward) and group in action.weights() for action in rule.actions)
        ]

    def load_balancers_of(self, group: str) -> list[str]:
        """The load balancers whose rules forward to ``group`` (DescribeTargetGroups' LoadBalancerArns)."""
        listeners = {rule.listener_arn for rule in self.forwards_to(group)}
        return [
            balancer.arn
            for balancer in self.load_balancers
            if any(listener.arn in listeners for listener in balancer.listeners)
        ]


def service_rules(load_balancers: list[dict[str, object]] | None) -> tuple[str | None, str | None]:
    """(production rule, test rule) a service's ``loadBalancers`` name (``advancedConfiguration``)."""
    first = (load_balancers or [{}])[0]
    advanced = first.get("advancedConfiguration") if isinstance(first, dict) else None
    if not isinstance(advanced, dict):
        return None, None
    production, test = advanced.get("productionListenerRule"), advanced.get("testListenerRule")
    return (str(production) if production else None, str(test) if test else None)
