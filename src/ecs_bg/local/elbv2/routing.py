"""Which rule of a listener answers a request, as an Application Load Balancer decides it.

"When a listener receives a request, it evaluates the request against each rule in priority order,
starting with the lowest numbered rule ... If none of the conditions for the other rules are met, then
the action for the default rule is performed" (ALB guide, "Listener rules for your Application Load
Balancer", docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html). A rule
matches when all its conditions do; a condition matches when any of its values does.

How each condition compares (ALB guide, "Condition types for listener rules",
docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html): ``*`` matches
0 or more characters and ``?`` exactly one; a path pattern is case-sensitive and applies to the
path only, not the query string; host names, HTTP header values and query strings are not
case-sensitive; request methods are; source-ip compares the client's address (the one the
connection comes from) with CIDR blocks.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ecs_bg.local.elbv2.models import Condition, Listener, Rule


@dataclass(frozen=True)
class RequestView:
    """What rule conditions look at in a request."""

    method: str
    path: str  # as sent, without the query string
    host: str  # the Host header, without its port
    headers: Mapping[str, str]  # case-insensitive names (a CIMultiDict)
    query: Sequence[tuple[str, str]]
    source_ip: str


@functools.lru_cache(maxsize=1024)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL)


def _like(value: str, patterns: Sequence[str], ignore_case: bool) -> bool:
    return any(_wildcard(pattern, ignore_case).fullmatch(value) for pattern in patterns)


def _from(source_ip: str, blocks: Sequence[str]) -> bool:
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(block, strict=False) for block in blocks)


def matches(condition: Condition, request: RequestView) -> bool:
    field, values = condition.field, condition.values
    if field == "path-pattern":
        return _like(request.path, values, ignore_case=False)
    if field == "host-header":
        return _like(request.host, values, ignore_case=True)
    if field == "http-header":
        wanted = request.headers.get(condition.header_name or "")
        return wanted is not None and _like(wanted, values, ignore_case=True)
    if field == "http-request-method":
        return request.method in values
    if field == "query-string":
        return any(
            (key is None or _like(name, [key], ignore_case=True))
            and _like(value, [pattern], ignore_case=True)
            for key, pattern in condition.query
            for name, value in request.query
        )
    if field == "source-ip":
        return _from(request.source_ip, values)
    return False  # the backend accepts no other field


def choose_rule(listener: Listener, request: RequestView) -> Rule:
    for rule in listener.in_order():
        if rule.is_default or all(matches(condition, request) for condition in rule.conditions):
            return rule
    raise AssertionError(f"listener {listener.arn} has no default rule")  # the backend always makes one
