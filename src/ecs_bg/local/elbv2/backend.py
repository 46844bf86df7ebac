"""The local Elastic Load Balancing: its operations on the model (``models``), with ELB's error codes.

Every write is validated whole before anything changes, so a refused request leaves no trace. The
requests reach here already parsed and checked against botocore's input shapes (types, required
members, enums, lengths: ``ecs_bg.local.query``); what follows is what ELB itself refuses beyond the
shapes. The error codes are those botocore's elbv2 model declares for each operation; where AWS's
documentation says what it refuses, the comment says where.

The data plane (``balancer.LocalLoadBalancer``) reads the same model: a rule changed here routes the
next request; a target registered here is health-checked at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from ecs_bg.local.elbv2.balancer import LocalLoadBalancer
from ecs_bg.local.elbv2.health import NOT_REGISTERED, TargetHealth
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
    Target,
    TargetGroup,
    WeightedGroup,
)
from ecs_bg.local.errors import AwsError

# ALB's limits ("Quotas for your Application Load Balancers", ALB guide; the action and condition
# pages cited below).
MAX_WEIGHT = 999  # "The weight. The range is 0 to 999." (TargetGroupTuple, CloudFormation reference)
MAX_GROUPS_PER_FORWARD = 5  # "Target groups per action"
MAX_VALUES_PER_CONDITION = 3
MAX_VALUES_PER_RULE = 5
# "Each rule can optionally include up to one of each of the following conditions: host-header,
# http-request-method, path-pattern, and source-ip" (ALB guide, "Condition types for listener rules").
ONCE_PER_RULE = frozenset({"host-header", "http-request-method", "path-pattern", "source-ip"})
FIXED_RESPONSE_CONTENT_TYPES = frozenset(
    {"text/plain", "text/css", "text/html", "application/javascript", "application/json"}
)
# The local VPC is this machine: a target is an address on its loopback network. (On AWS an IP target
# is in the VPC's subnets or a private range; either would be another machine here, and the local
# load balancer proxies to nothing but this one.)
LOCAL_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
T = TypeVar("T")


def not_found(kind: str) -> AwsError:
    """ELB's answer for an unknown ARN or name: ``kind`` is LoadBalancer, Listener, Rule, TargetGroup."""
    plural = {"LoadBalancer": "load balancers", "TargetGroup": "target groups"}.get(kind, f"{kind.lower()}s")
    return AwsError(f"{kind}NotFound", f"One or more {plural} not found")


def invalid(message: str) -> AwsError:
    return AwsError("ValidationError", message)


class Elbv2Backend:
    """The operations on ``lb``'s model, which ``lb`` serves."""

    def __init__(self, lb: LocalLoadBalancer) -> None:
        self.lb = lb
        self.resources: Elbv2Resources = lb.resources

    # -- lookups -------------------------------------------------------------------------------------

    def load_balancer(self, arn: str) -> LoadBalancer:
        found = next((lb for lb in self.resources.load_balancers if lb.arn == arn), None)
        if found is None:
            raise not_found("LoadBalancer")
        return found

    def listener(self, arn: str) -> Listener:
        found = next((listener for listener in self.resources.listeners if listener.arn == arn), None)
        if found is None:
            raise not_found("Listener")
        return found

    def rule(self, arn: str) -> Rule:
        found = next((rule for rule in self.resources.rules if rule.arn == arn), None)
        if found is None:
            raise not_found("Rule")
        return found

    def target_group(self, arn: str) -> TargetGroup:
        found = self.resources.target_groups.get(arn)
        if found is None:
            raise not_found("TargetGroup")
        return found

    # -- reads ---------------------------------------------------------------------------------------

    def describe_load_balancers(self, arns: Sequence[str], names: Sequence[str]) -> list[LoadBalancer]:
        balancers = self.resources.load_balancers
        return _every(balancers, arns, names, lambda lb: lb.arn, lambda lb: lb.name, "LoadBalancer")

    def describe_listeners(self, load_balancer: str | None, arns: Sequence[str]) -> list[Listener]:
        # "You must specify either a load balancer or one or more listeners" (DescribeListeners, API
        # reference; botocore's elbv2 model documents the same).
        if load_balancer is None and not arns:
            raise invalid("You must specify either listener ARNs or a load balancer ARN")
        if load_balancer is not None:
            listeners = list(self.load_balancer(load_balancer).listeners)
            return [listener for listener in listeners if not arns or listener.arn in arns]
        return [self.listener(arn) for arn in dict.fromkeys(arns)]

    def describe_rules(self, listener: str | None, arns: Sequence[str]) -> list[Rule]:
        # "You must specify either a listener or one or more rules" (DescribeRules, API reference).
        if listener is None and not arns:
            raise invalid("You must specify either listener or rule ARNs")
        if listener is not None:
            return [rule for rule in self.listener(listener).in_order() if not arns or rule.arn in arns]
        return [self.rule(arn) for arn in dict.fromkeys(arns)]

    def describe_target_groups(
        self, load_balancer: str | None, arns: Sequence[str], names: Sequence[str]
    ) -> list[TargetGroup]:
        groups = list(self.resources.target_groups.values())
        if load_balancer is not None:
            self.load_balancer(load_balancer)
            groups = [g for g in groups if load_balancer in self.resources.load_balancers_of(g.arn)]
        return _every(groups, arns, names, lambda g: g.arn, lambda g: g.name, "TargetGroup")

    def target_health(
        self, group: str, targets: Sequence[Mapping[str, Any]] = ()
    ) -> list[tuple[Target, TargetHealth]]:
        """Each registered target's health, or the named targets' (an unregistered one is ``unused``,
        Target.NotRegistered, as DescribeTargetHealth answers for it)."""
        settings = self.target_group(group)
        registered = {health.target: health for health in self.lb.target_health(group)}
        if not targets:
            return [(Target.from_url(url), health) for url, health in registered.items()]
        wanted = self._targets(settings, targets)
        return [
            (target, registered.get(target.url) or TargetHealth(target.url, "unused", *NOT_REGISTERED))
            for target in wanted
        ]

    # -- writes --------------------------------------------------------------------------------------

    def modify_listener(self, arn: str, request: Mapping[str, Any]) -> Listener:
        """ModifyListener: the port users know it by, and its default actions. The listener keeps
        listening where it does locally; HTTPS (certificates, TLS policies) is not emulated."""
        listener = self.listener(arn)
        balancer = self.load_balancer(listener.load_balancer_arn)
        port = request.get("Port")
        if port is not None and any(
            other.port == port and other is not listener for other in balancer.listeners
        ):
            raise AwsError("DuplicateListener", "A listener with the specified port already exists.")
        protocol = request.get("Protocol")
        if protocol is not None and protocol not in ("HTTP", "HTTPS"):
            raise invalid(f"Listener protocol '{protocol}' must be one of 'HTTPS, HTTP'")
        tls = ("SslPolicy", "Certificates", "AlpnPolicy", "MutualAuthentication")
        if protocol == "HTTPS" or any(key in request for key in tls):
            raise AwsError(
                "UnsupportedProtocol",
                "ecs-bg local's listeners serve HTTP only: HTTPS, certificates and TLS policies "
                "are not emulated",
            )
        actions = request.get("DefaultActions")
        default = listener.default_rule
        new_actions = self._actions(actions) if actions is not None else default.actions
        # Everything is valid: change it.
        if port is not None:
            listener.port = port
        default.actions = new_actions
        return listener

    def modify_rule(self, arn: str, request: Mapping[str, Any]) -> Rule:
        """ModifyRule: "Replaces the specified properties of the specified rule. Any properties that you
        do not specify are unchanged ... To modify the actions for the default rule, use
        ModifyListener" (API reference)."""
        rule = self.rule(arn)
        if rule.is_default:
            # ELB's own answer (seen in FeLvi-zzz/tentez#32, ModifyRule on a default rule).
            raise AwsError("OperationNotPermitted", f"Default rule '{rule.arn}' cannot be modified")
        if request.get("Transforms"):
            raise invalid("ecs-bg local does not apply rule transforms (host-header-rewrite, url-rewrite)")
        conditions = request.get("Conditions")
        actions = request.get("Actions")
        new_conditions = self._conditions(conditions) if conditions is not None else rule.conditions
        new_actions = self._actions(actions) if actions is not None else rule.actions
        rule.conditions, rule.actions = new_conditions, new_actions
        return rule

    def set_rule_weights(self, rule_arn: str, weights: Mapping[str, float]) -> None:
        """Make the rule forward to exactly these target groups by these weights, as ECS rewrites the
        production and test rules (a weighted forward over both groups, "blue" whichever serves)."""
        rule = self.rule(rule_arn)
        for group in weights:
            self.target_group(group)
        if any(weight < 0 for weight in weights.values()):
            raise invalid(f"weights must not be negative: {dict(weights)}")
        forward = Forward(tuple(WeightedGroup(group, weight) for group, weight in weights.items()))
        rule.actions = (forward,)

    def rule_weights(self, rule_arn: str) -> dict[str, float]:
        """The rule's weighted forward (empty if it does not forward)."""
        action = self.rule(rule_arn).routing
        return action.weights() if isinstance(action, Forward) else {}

    def register_targets(self, group: str, targets: Sequence[Mapping[str, Any]]) -> None:
        """RegisterTargets: each target starts ``initial`` and is health-checked at once (``unused``
        while no rule forwards to its group)."""
        settings = self.target_group(group)
        for target in self._targets(settings, targets, registering=True):
            self.lb.register(group, target.url)

    def deregister_targets(self, group: str, targets: Sequence[Mapping[str, Any]]) -> None:
        """DeregisterTargets: the targets drain (in-flight requests finish) and leave."""
        settings = self.target_group(group)
        wanted = self._targets(settings, targets)
        registered = {health.target for health in self.lb.target_health(group)}
        missing = [target for target in wanted if target.url not in registered]
        if missing:
            # "The specified target does not exist, is not in the same VPC as the target group, or has
            # an unsupported instance type" (InvalidTarget, DeregisterTargets API reference).
            raise AwsError("InvalidTarget", f"The following targets are not registered: {_ids(missing)}")
        for target in wanted:
            self.lb.deregister(group, target.url)

    # -- validation ----------------------------------------------------------------------------------

    def _targets(
        self, group: TargetGroup, targets: Sequence[Mapping[str, Any]], *, registering: bool = False
    ) -> list[Target]:
        """The targets a request names: IP addresses on the local network, each port the group's
        unless given."""
        found = []
        for target in targets:
            address = str(target.get("Id", ""))
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                raise AwsError(
                    "InvalidTarget", f"The IP address '{address}' is not a valid IPv4 or IPv6 address"
                ) from None
            if registering and not any(ip in network for network in LOCAL_NETWORKS):
                raise AwsError(
                    "InvalidTarget",
                    f"The IP address '{address}' is not in the local VPC: ecs-bg local's targets are "
                    "on this machine (127.0.0.0/8, ::1)",
                )
            found.append(Target(str(ip), int(target.get("Port") or group.port)))
        return found

    def _conditions(self, conditions: Sequence[Mapping[str, Any]]) -> tuple[Condition, ...]:
        # "Each rule consists of a priority, one or more actions, and one or more conditions" (ALB
        # guide, "Listener rules for your Application Load Balancer").
        if not conditions:
            raise invalid("A rule must have at least one condition")
        parsed = tuple(_condition(condition) for condition in conditions)
        fields = [condition.field for condition in parsed]
        for field in ONCE_PER_RULE:
            if fields.count(field) > 1:
                raise invalid(f"A rule can have only one '{field}' condition")
        if sum(len(c.values) + len(c.query) for c in parsed) > MAX_VALUES_PER_RULE:
            raise invalid(f"A rule can have at most {MAX_VALUES_PER_RULE} condition values in all")
        return parsed

    def _actions(self, actions: Sequence[Mapping[str, Any]]) -> tuple[Action, ...]:
        """Exactly one routing action, performed last; forward, fixed-response and redirect are emulated.
        "Each rule must include exactly one of the following routing actions: forward, redirect, or
        fixed-response, and it must be the last action to be performed" (ALB guide, "Action types for
        listener rules"); Order "is required for rules with multiple actions" (Action, API reference)."""
        if not actions:
            raise invalid("A rule must have at least one action")
        if len(actions) > 1 and any("Order" not in action for action in actions):
            raise invalid("An action order must be specified for each action when there is more than one")
        orders = [action.get("Order", index + 1) for index, action in enumerate(actions)]
        if len(set(orders)) < len(orders):
            raise invalid("Each action must have a different order")
        for action in actions:
            if action["Type"] in ("authenticate-oidc", "authenticate-cognito", "jwt-validation"):
                # "[HTTPS listeners] Use Amazon Cognito to authenticate users ..." (ALB guide, "Action
                # types for listener rules"): the local listeners are HTTP. (Which code ELB answers
                # with for this is not documented; InvalidLoadBalancerAction is the one it declares.)
                raise AwsError(
                    "InvalidLoadBalancerAction",
                    f"The action type '{action['Type']}' is only valid on HTTPS listeners",
                )
        parsed = tuple(self._action(action, order) for action, order in zip(actions, orders, strict=True))
        if len(parsed) > 1:
            raise invalid("A rule can have only one forward, redirect or fixed-response action")
        return parsed

    def _action(self, action: Mapping[str, Any], order: int) -> Action:
        kind = action["Type"]
        if kind == "forward":
            return self._forward(action, order)
        if kind == "fixed-response":
            config = action.get("FixedResponseConfig")
            if config is None:
                raise invalid("A fixed-response action must have a FixedResponseConfig")
            content_type = config.get("ContentType")
            if content_type is not None and content_type not in FIXED_RESPONSE_CONTENT_TYPES:
                raise invalid(
                    f"The content type '{content_type}' is not one of {sorted(FIXED_RESPONSE_CONTENT_TYPES)}"
                )
            return FixedResponse(int(config["StatusCode"]), content_type, config.get("MessageBody"), order)
        if kind == "redirect":
            config = action.get("RedirectConfig")
            if config is None:
                raise invalid("A redirect action must have a RedirectConfig")
            return self._redirect(config, order)
        raise invalid(f"The action type '{kind}' is not valid")

    def _redirect(self, config: Mapping[str, Any], order: int) -> Redirect:
        """RedirectActionConfig: "The absolute path, starting with the leading '/'"; the port "from 1 to
        65535 or #{port}" (API reference). Each part goes into a Location header: no blanks in it."""
        keys = ("Protocol", "Port", "Host", "Path", "Query")
        parts = {key.lower(): config[key] for key in keys if key in config}
        if not all("!" <= char <= "~" for part in parts.values() for char in part):
            raise invalid("A redirect's protocol, port, host, path and query take visible ASCII only")
        if not parts.get("path", "/").startswith("/"):
            raise invalid("The redirect path must start with a '/'")
        port = parts.get("port", "#{port}")
        if port != "#{port}" and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise invalid("The redirect port must be from 1 to 65535, or #{port}")
        return Redirect(config["StatusCode"], **parts, order=order)

    def _forward(self, action: Mapping[str, Any], order: int) -> Forward:
        """Both forms: ``TargetGroupArn`` (one group), ``ForwardConfig.TargetGroups`` (by weight), or
        both: "If you specify both ForwardConfig and TargetGroupArn, you can specify only one target
        group using ForwardConfig and it must be the same target group specified in TargetGroupArn"
        (Action, API reference)."""
        single = action.get("TargetGroupArn")
        config = action.get("ForwardConfig") or {}
        tuples = config.get("TargetGroups") or []
        if single is None and not tuples:
            raise invalid("A forward action must specify a target group")
        if single is not None and tuples and (len(tuples) > 1 or tuples[0].get("TargetGroupArn") != single):
            raise invalid(
                "You can specify both a top-level target group ARN and a ForwardConfig only with the "
                "same single target group"
            )
        if len(tuples) > MAX_GROUPS_PER_FORWARD:
            raise invalid(f"A forward action can have at most {MAX_GROUPS_PER_FORWARD} target groups")
        groups = []
        for entry in tuples or [{"TargetGroupArn": single}]:
            arn = entry.get("TargetGroupArn")
            if arn is None:
                raise invalid("Each target group of a forward action must have a TargetGroupArn")
            if arn not in self.resources.target_groups:
                raise AwsError("TargetGroupNotFound", f"Target group '{arn}' not found")
            weight = entry.get("Weight", 1)
            if not 0 <= weight <= MAX_WEIGHT:
                raise invalid(f"The weight of target group '{arn}' must be 0-{MAX_WEIGHT}, got {weight}")
            groups.append(WeightedGroup(arn, weight))
        if len({group.arn for group in groups}) < len(groups):
            raise invalid("A target group can appear only once in a forward action")
        stickiness = config.get("TargetGroupStickinessConfig") or {}
        enabled = bool(stickiness.get("Enabled", False))
        seconds = stickiness.get("DurationSeconds")
        if enabled and not (seconds is not None and 1 <= seconds <= 604800):
            # "The range is 1-604800 seconds (7 days)" (TargetGroupStickinessConfig, API reference).
            raise invalid("Target group stickiness needs a duration from 1 to 604800 seconds")
        return Forward(tuple(groups), order, enabled, seconds if enabled else None)


def _condition(condition: Mapping[str, Any]) -> Condition:
    """One RuleCondition, in either form where ELB takes two (``Values``, or the field's config)."""
    field = condition.get("Field")
    configs = {
        "path-pattern": "PathPatternConfig",
        "host-header": "HostHeaderConfig",
        "http-header": "HttpHeaderConfig",
        "http-request-method": "HttpRequestMethodConfig",
        "query-string": "QueryStringConfig",
        "source-ip": "SourceIpConfig",
    }
    if field not in configs:
        raise invalid(f"Condition field '{field}' must be one of '[{', '.join(configs)}]'")
    config = condition.get(configs[field])
    legacy = condition.get("Values")
    if condition.get("RegexValues") or (config or {}).get("RegexValues"):
        raise invalid("ecs-bg local does not match conditions by regular expression (RegexValues)")
    if legacy is not None and field not in ("path-pattern", "host-header"):
        # "Specify only when Field is host-header or path-pattern" (RuleCondition's Values).
        raise invalid(f"The 'Values' field is not compatible with '{field}'")
    if legacy is not None and config is not None and legacy != config.get("Values"):
        # Both forms at once are taken when they say the same, as DescribeRules answers a condition
        # (whether ELB takes them back so is UNCONFIRMED; a client copying a rule does send them).
        raise invalid(f"You cannot provide both Values and '{configs[field]}' for a '{field}' condition")
    if config is None and legacy is None:
        raise invalid(f"A '{configs[field]}' must be specified with '{field}'")
    if field == "query-string":
        pairs = tuple((pair.get("Key"), pair.get("Value")) for pair in (config or {}).get("Values") or [])
        if not pairs or any(value is None for _, value in pairs):
            raise invalid("A query-string condition needs key/value pairs, each with a Value")
        checked: tuple[tuple[str | None, str], ...] = tuple((key, str(value)) for key, value in pairs)
        _count(field, len(checked))
        return Condition(field, query=checked)
    values = tuple(legacy if legacy is not None else (config or {}).get("Values") or [])
    if not values or any(value == "" for value in values):
        raise invalid("A condition value must be specified")  # "the value for a condition can't be empty"
    _count(field, len(values))
    if any(len(value) > 128 for value in values):
        raise invalid(f"The '{field}' value is too long; the limit is '128'")
    header = None
    if field == "http-header":
        header = (config or {}).get("HttpHeaderName")
        if not header or len(header) > 40:
            raise invalid("An http-header condition needs an HttpHeaderName of at most 40 characters")
    if field == "source-ip":
        for block in values:
            try:
                ipaddress.ip_network(block, strict=False)
            except ValueError:
                raise invalid(f"The source-ip value '{block}' is not a valid CIDR block") from None
    return Condition(field, values, header_name=header)


def _every(
    resources: Sequence[T],
    arns: Sequence[str],
    names: Sequence[str],
    arn: Callable[[T], str],
    name: Callable[[T], str],
    kind: str,
) -> list[T]:
    """All of ``resources``, or those named by ARN or name: any one not found fails the whole call, as
    ELB answers a list of ARNs or names."""
    if not arns and not names:
        return list(resources)
    by_arn = [r for r in resources if arn(r) in arns]
    by_name = [r for r in resources if name(r) in names]
    if len(by_arn) < len(set(arns)) or len(by_name) < len(set(names)):
        raise not_found(kind)
    return list({id(r): r for r in by_arn + by_name}.values())


def _count(field: str, values: int) -> None:
    if values > MAX_VALUES_PER_CONDITION:
        raise invalid(f"The '{field}' condition can have at most {MAX_VALUES_PER_CONDITION} values")


def _ids(targets: Sequence[Target]) -> str:
    return ", ".join(f"'{target.id}:{target.port}'" for target in targets)
