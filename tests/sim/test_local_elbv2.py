"""The local Elastic Load Balancing v2 through a running endpoint, with boto3 and raw HTTP: every answer in
botocore's shapes, the writes a hook makes (ModifyRule, ModifyListener, RegisterTargets,
DeregisterTargets) changing where real requests go, and ELB's error codes (HTTP 400, never 500) for
unknown ARNs and bad input."""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
import logging
import os
import random
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import boto3
import botocore.session
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.parsers import QueryParser
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_bg.local.elbv2.api import Elbv2Api
from ecs_bg.local.elbv2.balancer import GROUP_HEADER
from ecs_bg.local.elbv2.load_balancing import LoadBalancing
from ecs_bg.local.endpoint import LocalAws
from tests.cloud import outputs, sample_balancing
from tests.examples_budget import examples
from tests.sim.local_ecs_process import aws_cli
from tests.sim.stub_targets import StubTarget

T = TypeVar("T")
REGION = "ap-northeast-1"
OUTPUTS = outputs(REGION)
BLUE, GREEN = OUTPUTS["BlueTargetGroupArn"], OUTPUTS["GreenTargetGroupArn"]
PRODUCTION_RULE, TEST_RULE = OUTPUTS["ProductionListenerRuleArn"], OUTPUTS["TestListenerRuleArn"]
GROUP_NAMES = {BLUE: "blue", GREEN: "green"}
LB_NAME = PRODUCTION_RULE.split("/")[2]  # listener-rule/app/<name>/...: CloudFormation's generated name
# The stack's health check (every 15 s, 2 to pass) at 300x: a probe every 0.05 s, healthy in 0.1 s.
SPEED = 300.0
MODEL = botocore.session.get_session().get_service_model("elbv2")
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "elbv2_hook" / "shift_traffic.py"

# Members of botocore's shapes an answer leaves out because they do not apply to an HTTP Application
# Load Balancer in a VPC with no Outposts, IPAM pools, TLS, rule transforms or anomaly detection.
NOT_APPLICABLE = {
    "LoadBalancer": {
        "CustomerOwnedIpv4Pool",
        "EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic",  # Network Load Balancers
        "EnablePrefixForIpv6SourceNat",  # Network Load Balancers
        "IpamPools",
    },
    "AvailabilityZone": {"OutpostId", "SourceNatIpv6Prefixes"},
    "Listener": {"Certificates", "SslPolicy", "AlpnPolicy", "MutualAuthentication"},
    "Rule": {"Transforms"},
    "TargetGroup": {"TargetControlPort"},
    "TargetHealthDescription": {"AnomalyDetection"},
    "TargetDescription": {"AvailabilityZone", "QuicServerId"},
}


class Endpoint:
    """``LocalAws`` on its own event loop in a thread, answering elbv2 from whichever load balancer a
    test puts behind it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.aws = LocalAws({})
        self.url = self.run(self.aws.start())
        self.http = httpx.Client(timeout=10)  # one client: making one costs a tenth of a second

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.http.close()
        self.run(self.aws.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@dataclass
class ShapeChecker:
    """Each parsed answer against its output shape (unknown or mistyped members are errors), and each
    described resource carries every member its shape has but NOT_APPLICABLE."""

    problems: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)

    def __call__(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.output_shape is None or "Error" in parsed:
            return
        answer = {key: value for key, value in parsed.items() if key != "ResponseMetadata"}
        report = ParamValidator().validate(answer, model.output_shape)
        if report.has_errors():
            self.problems.append(f"{model.name}: {report.generate_report()}")
        self._complete(model.name, model.output_shape, answer)
        self.checked.add(model.name)

    def _complete(self, operation: str, shape: Any, value: Any) -> None:
        if shape.type_name == "list":
            for item in value:
                self._complete(operation, shape.member, item)
        elif shape.type_name == "structure":
            if shape.name in NOT_APPLICABLE:
                missing = set(shape.members) - set(value) - NOT_APPLICABLE[shape.name]
                if missing:
                    self.problems.append(f"{operation}: {shape.name} lacks {sorted(missing)}")
            for name, member in shape.members.items():
                if name in value:
                    self._complete(operation, member, value[name])


@dataclass
class Local:
    """One test's load balancer (the stack's, as ECS leaves it: both rules on blue 100, green 0), its
    client, and the stub targets the test started."""

    endpoint: Endpoint
    balancing: LoadBalancing
    elbv2: Any
    shapes: ShapeChecker
    targets: list[StubTarget] = field(default_factory=list)

    def target(self, name: str, **options: Any) -> StubTarget:
        started = self.endpoint.run(StubTarget(name, **options).start())
        self.targets.append(started)
        return started

    def register(self, group: str, target: StubTarget) -> None:
        port = int(target.url.rsplit(":", 1)[1])
        self.elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": port}])

    def health(self, group: str) -> list[str]:
        descriptions = self.elbv2.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
        return [description["TargetHealth"]["State"] for description in descriptions]

    def until(self, probe: Any, timeout: float = 10.0) -> None:
        """Poll ``probe`` (from this thread: it may call the endpoint) until it holds."""
        deadline = time.monotonic() + timeout
        while not probe():
            assert time.monotonic() < deadline, f"not reached within {timeout} s"
            time.sleep(0.02)

    def served(self, listener: str, count: int = 100, path: str = "/") -> Counter[str]:
        """Which group answered each of ``count`` requests through the listener ("-": the load
        balancer itself), blue or green."""
        url = self.balancing.lb.url(listener) + path
        seen: Counter[str] = Counter()
        for _ in range(count):
            response = self.endpoint.http.get(url)
            group = response.headers.get(GROUP_HEADER)
            seen[GROUP_NAMES[group] if group else f"-{response.status_code}"] += 1
        return seen

    def forward(self, weights: dict[str, int]) -> list[dict[str, Any]]:
        groups = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights.items()]
        return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    running = Endpoint()
    yield running
    running.close()


@pytest.fixture
def local(endpoint: Endpoint) -> Iterator[Local]:
    # A seeded choice of target group per request: each weighted split below is then the same on every
    # run. Unseeded, a split of 40 requests fell 4 standard deviations off once in CI (the distribution
    # was binomial over 150 repetitions here): a test of where the weights go, not of chance.
    balancing = sample_balancing(SPEED, rng=random.Random(1))
    # As ECS leaves them after a first deployment: both rules name both groups, blue at 100.
    balancing.set_weights({rule: {BLUE: 100, GREEN: 0} for rule in (PRODUCTION_RULE, TEST_RULE)})
    endpoint.run(balancing.start())
    endpoint.aws.query_answers = Elbv2Api(balancing.backend).answers()
    client = boto3.client(
        "elbv2",
        region_name=REGION,
        endpoint_url=endpoint.url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    shapes = ShapeChecker()
    client.meta.events.register("after-call", shapes)
    made = Local(endpoint, balancing, client, shapes)
    yield made
    endpoint.run(balancing.close())
    for target in made.targets:
        endpoint.run(target.stop())
    assert shapes.problems == []


def raw(endpoint: Endpoint, params: dict[str, str]) -> httpx.Response:
    """A query-protocol request as any client could send it: signed, but not checked by botocore."""
    body = urlencode(params)
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = AWSRequest(method="POST", url=endpoint.url + "/", data=body, headers=headers)
    SigV4Auth(Credentials("local", "local"), "elasticloadbalancing", REGION).add_auth(request)
    return endpoint.http.post(endpoint.url + "/", content=body, headers=dict(request.headers.items()))


def error_code(response: httpx.Response) -> str:
    parsed = QueryParser().parse(
        {"body": response.content, "headers": response.headers, "status_code": response.status_code},
        None,
    )
    code: str = parsed["Error"]["Code"]
    return code


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = error.value.response["Error"]["Code"]
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return code


# -- reads -------------------------------------------------------------------------------------------


def test_every_read_answers_the_stack_in_botocores_shapes(local: Local) -> None:
    elbv2 = local.elbv2
    (balancer,) = elbv2.describe_load_balancers()["LoadBalancers"]
    assert balancer["LoadBalancerName"] == LB_NAME
    assert balancer["Type"] == "application"
    arn = balancer["LoadBalancerArn"]
    assert elbv2.describe_load_balancers(Names=[LB_NAME])["LoadBalancers"] == [balancer]
    listeners = elbv2.describe_listeners(LoadBalancerArn=arn)["Listeners"]
    # The ports users know (80 and cdk.json's testListenerPort), each answering 404 by default.
    assert [listener["Port"] for listener in listeners] == [80, 10080]
    for listener in listeners:
        assert listener["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
    rules = elbv2.describe_rules(ListenerArn=listeners[0]["ListenerArn"])["Rules"]
    assert [(rule["Priority"], rule["IsDefault"]) for rule in rules] == [("1", False), ("default", True)]
    (production,) = elbv2.describe_rules(RuleArns=[PRODUCTION_RULE])["Rules"]
    assert production == rules[0]
    assert production["Conditions"][0]["PathPatternConfig"] == {"Values": ["/*"]}
    weights = {
        g["TargetGroupArn"]: g["Weight"] for g in production["Actions"][0]["ForwardConfig"]["TargetGroups"]
    }
    assert weights == {BLUE: 100, GREEN: 0}
    groups = elbv2.describe_target_groups()["TargetGroups"]
    assert [group["TargetGroupArn"] for group in groups] == [BLUE, GREEN]
    assert groups[0]["HealthCheckPath"] == "/health"
    assert groups[0]["HealthCheckIntervalSeconds"] == 15  # ALB's seconds, whatever the local clock
    assert groups[0]["LoadBalancerArns"] == [arn]
    assert elbv2.describe_target_groups(LoadBalancerArn=arn)["TargetGroups"] == groups
    assert elbv2.describe_target_groups(Names=[GREEN.split("/")[1]])["TargetGroups"] == groups[1:]
    attributes = elbv2.describe_target_group_attributes(TargetGroupArn=BLUE)["Attributes"]
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in attributes
    local.register(GREEN, local.target("green"))
    assert local.health(GREEN) in (["initial"], ["healthy"])
    assert local.shapes.checked >= {
        "DescribeLoadBalancers",
        "DescribeListeners",
        "DescribeRules",
        "DescribeTargetGroups",
        "DescribeTargetGroupAttributes",
        "DescribeTargetHealth",
    }


def test_describes_page_by_marker(local: Local) -> None:
    first = local.elbv2.describe_target_groups(PageSize=1)
    assert [group["TargetGroupArn"] for group in first["TargetGroups"]] == [BLUE]
    second = local.elbv2.describe_target_groups(PageSize=1, Marker=first["NextMarker"])
    assert [group["TargetGroupArn"] for group in second["TargetGroups"]] == [GREEN]
    assert "NextMarker" not in second
    paginated = local.elbv2.get_paginator("describe_target_groups").paginate(PaginationConfig={"PageSize": 1})
    assert [group["TargetGroupArn"] for page in paginated for group in page["TargetGroups"]] == [BLUE, GREEN]
    with pytest.raises(ClientError) as error:
        local.elbv2.describe_target_groups(Marker="elsewhere")
    assert code_of(error) == "ValidationError"


# -- writes move real traffic ------------------------------------------------------------------------


def test_modify_rule_shifts_where_production_requests_go(local: Local) -> None:
    local.register(BLUE, local.target("blue"))
    local.register(GREEN, local.target("green"))
    local.until(lambda: local.health(BLUE) == local.health(GREEN) == ["healthy"])
    assert local.served("production") == {"blue": 100}

    changed = local.elbv2.modify_rule(RuleArn=PRODUCTION_RULE, Actions=local.forward({BLUE: 0, GREEN: 100}))
    (rule,) = changed["Rules"]
    assert rule["Actions"][0]["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": BLUE, "Weight": 0},
        {"TargetGroupArn": GREEN, "Weight": 100},
    ]
    assert local.served("production") == {"green": 100}
    assert local.served("test") == {"blue": 100}  # the test rule is another rule: unmoved
    assert local.balancing.weights(PRODUCTION_RULE) == {BLUE: 0, GREEN: 100}  # what the local ECS reads

    local.elbv2.modify_rule(RuleArn=PRODUCTION_RULE, Actions=local.forward({BLUE: 1, GREEN: 1}))
    split = local.served("production", count=200)
    assert set(split) == {"blue", "green"}
    assert 60 <= split["green"] <= 140  # 100 expected; over five standard deviations either side

    # The single-group form; DescribeRules then names the group at the top level too, as ELB does.
    local.elbv2.modify_rule(RuleArn=PRODUCTION_RULE, Actions=[{"Type": "forward", "TargetGroupArn": GREEN}])
    (described,) = local.elbv2.describe_rules(RuleArns=[PRODUCTION_RULE])["Rules"]
    assert described["Actions"][0]["TargetGroupArn"] == GREEN
    assert described["Actions"][0]["ForwardConfig"]["TargetGroups"] == [
        {"TargetGroupArn": GREEN, "Weight": 1}
    ]
    assert local.served("production", count=20) == {"green": 20}


def test_conditions_route_by_path_and_host_and_the_default_action_takes_the_rest(local: Local) -> None:
    local.register(BLUE, local.target("blue"))
    local.register(GREEN, local.target("green"))
    local.until(lambda: local.health(BLUE) == local.health(GREEN) == ["healthy"])
    conditions = [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*", "/v?/*"]}}]
    local.elbv2.modify_rule(RuleArn=PRODUCTION_RULE, Conditions=conditions)
    assert local.served("production", 10, "/api/products") == {"blue": 10}
    assert local.served("production", 10, "/v2/x") == {"blue": 10}
    assert local.served("production", 10, "/API/products") == {"-404": 10}  # paths are case-sensitive
    assert local.served("production", 10, "/other") == {"-404": 10}  # the listener's default: 404

    (listener,) = local.elbv2.modify_listener(
        ListenerArn=local.balancing.model.listeners[0].arn,
        DefaultActions=local.forward({GREEN: 1}),
    )["Listeners"]
    assert listener["DefaultActions"][0]["TargetGroupArn"] == GREEN
    assert local.served("production", 10, "/other") == {"green": 10}
    assert local.served("production", 10, "/api/x") == {"blue": 10}

    local.elbv2.modify_rule(
        RuleArn=PRODUCTION_RULE, Conditions=[{"Field": "host-header", "Values": ["*.example.com"]}]
    )
    url, client = local.balancing.lb.url("production"), local.endpoint.http
    assert client.get(url, headers={"Host": "Shop.Example.com"}).headers[GROUP_HEADER] == BLUE
    assert client.get(url, headers={"Host": "example.org"}).headers[GROUP_HEADER] == GREEN


def test_fixed_response_and_redirect_are_answered_by_the_load_balancer(local: Local) -> None:
    local.elbv2.modify_rule(
        RuleArn=TEST_RULE,
        Actions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {
                    "StatusCode": "503",
                    "ContentType": "application/json",
                    "MessageBody": "{}",
                },
            }
        ],
    )
    url, client = local.balancing.lb.url("test"), local.endpoint.http
    response = client.get(url + "/anything")
    assert (response.status_code, response.text) == (503, "{}")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert GROUP_HEADER not in response.headers
    redirect = {"Type": "redirect", "RedirectConfig": {"Path": "/new/#{path}", "StatusCode": "HTTP_301"}}
    local.elbv2.modify_rule(RuleArn=TEST_RULE, Actions=[redirect])
    moved = client.get(url + "/old?a=1")
    assert moved.status_code == 301
    assert moved.headers["location"] == f"http://127.0.0.1:{url.rsplit(':', 1)[1]}/new/old?a=1"
    stats = local.balancing.lb.stats().listeners["test"]
    assert (stats.requests, stats.elb_5xx, stats.target_5xx) == (2, 1, 0)  # the load balancer's own 503


def test_registered_server_is_health_checked_served_and_drained(local: Local) -> None:
    target = local.target("green", health_status=503)
    local.register(GREEN, target)
    local.until(lambda: local.health(GREEN) == ["unhealthy"])
    (description,) = local.elbv2.describe_target_health(TargetGroupArn=GREEN)["TargetHealthDescriptions"]
    assert description["TargetHealth"]["Reason"] == "Target.ResponseCodeMismatch"
    assert description["HealthCheckPort"] == target.url.rsplit(":", 1)[1]
    target.health_status = 200
    local.until(lambda: local.health(GREEN) == ["healthy"])
    assert local.served("test", count=10) == {"blue": 10}  # no target in blue: ELB's 503 says blue
    local.elbv2.modify_rule(RuleArn=TEST_RULE, Actions=local.forward({GREEN: 100}))
    assert local.served("test", count=10) == {"green": 10}
    assert len(target.seen_headers) == 10

    port = int(target.url.rsplit(":", 1)[1])
    unregistered = {"Id": "127.0.0.1", "Port": port + 1}
    (other,) = local.elbv2.describe_target_health(TargetGroupArn=GREEN, Targets=[unregistered])[
        "TargetHealthDescriptions"
    ]
    assert other["TargetHealth"] == {
        "State": "unused",
        "Reason": "Target.NotRegistered",
        "Description": "Target is not registered to the target group",
    }
    local.elbv2.deregister_targets(TargetGroupArn=GREEN, Targets=[{"Id": "127.0.0.1", "Port": port}])
    local.until(lambda: local.health(GREEN) == [])
    assert local.served("test", count=5) == {"green": 5}  # the load balancer's 503: no target left
    with pytest.raises(ClientError) as error:
        local.elbv2.deregister_targets(TargetGroupArn=GREEN, Targets=[{"Id": "127.0.0.1", "Port": port}])
    assert code_of(error) == "InvalidTarget"


def test_a_group_no_rule_names_is_unused_until_a_rule_forwards_to_it(local: Local) -> None:
    local.elbv2.modify_rule(RuleArn=PRODUCTION_RULE, Actions=local.forward({BLUE: 1}))
    local.elbv2.modify_rule(RuleArn=TEST_RULE, Actions=local.forward({BLUE: 1}))
    target = local.target("green")
    local.register(GREEN, target)
    assert local.health(GREEN) == ["unused"]
    assert (
        local.elbv2.describe_target_groups(TargetGroupArns=[GREEN])["TargetGroups"][0]["LoadBalancerArns"]
        == []
    )
    local.elbv2.modify_rule(RuleArn=TEST_RULE, Actions=local.forward({BLUE: 1, GREEN: 0}))
    local.until(lambda: local.health(GREEN) == ["healthy"])


# -- errors ------------------------------------------------------------------------------------------


def test_unknown_arns_get_elbs_not_found_codes(local: Local) -> None:
    elbv2 = local.elbv2
    lost = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:"
    calls = [
        (
            "LoadBalancerNotFound",
            lambda: elbv2.describe_load_balancers(LoadBalancerArns=[lost + "loadbalancer/app/x/1"]),
        ),
        ("LoadBalancerNotFound", lambda: elbv2.describe_load_balancers(Names=[LB_NAME, "nope"])),
        (
            "LoadBalancerNotFound",
            lambda: elbv2.describe_listeners(LoadBalancerArn=lost + "loadbalancer/app/x/1"),
        ),
        ("ListenerNotFound", lambda: elbv2.describe_listeners(ListenerArns=[lost + "listener/app/x/1/2"])),
        ("ListenerNotFound", lambda: elbv2.describe_rules(ListenerArn=lost + "listener/app/x/1/2")),
        (
            "RuleNotFound",
            lambda: elbv2.describe_rules(RuleArns=[PRODUCTION_RULE, lost + "listener-rule/app/x/1/2/3"]),
        ),
        ("TargetGroupNotFound", lambda: elbv2.describe_target_groups(TargetGroupArns=[BLUE, BLUE + "0"])),
        ("TargetGroupNotFound", lambda: elbv2.describe_target_health(TargetGroupArn=BLUE + "0")),
        ("TargetGroupNotFound", lambda: elbv2.describe_target_group_attributes(TargetGroupArn="x")),
        (
            "ListenerNotFound",
            lambda: elbv2.modify_listener(ListenerArn="x", DefaultActions=local.forward({BLUE: 1})),
        ),
        ("RuleNotFound", lambda: elbv2.modify_rule(RuleArn="x", Actions=local.forward({BLUE: 1}))),
        (
            "TargetGroupNotFound",
            lambda: elbv2.modify_rule(RuleArn=PRODUCTION_RULE, Actions=local.forward({"x": 1})),
        ),
        (
            "TargetGroupNotFound",
            lambda: elbv2.register_targets(TargetGroupArn="x", Targets=[{"Id": "127.0.0.1"}]),
        ),
        (
            "TargetGroupNotFound",
            lambda: elbv2.deregister_targets(TargetGroupArn="x", Targets=[{"Id": "127.0.0.1"}]),
        ),
    ]
    for expected, call in calls:
        with pytest.raises(ClientError) as error:
            call()
        assert code_of(error) == expected


def test_bad_writes_are_refused_with_elbs_codes_and_change_nothing(local: Local) -> None:
    elbv2 = local.elbv2
    production_listener = local.balancing.model.listeners[0]
    before = elbv2.describe_rules(ListenerArn=production_listener.arn)["Rules"]
    path = [{"Field": "path-pattern", "Values": ["/*"]}]
    both_forms = {"Type": "forward", "TargetGroupArn": BLUE, **local.forward({GREEN: 1})[0]}
    bad_cidr = {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.300/8"]}}
    bad_status = {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "302"}}
    bad_path = {"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_302", "Path": "x"}}
    cognito = {
        "UserPoolArn": "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/x",
        "UserPoolClientId": "c",
        "UserPoolDomain": "d",
    }
    authenticate = [
        {"Type": "authenticate-cognito", "Order": 1, "AuthenticateCognitoConfig": cognito},
        {"Type": "forward", "Order": 2, "TargetGroupArn": BLUE},
    ]
    refused = [
        ("ValidationError", {"Actions": local.forward({BLUE: 1000})}),  # ALB's weights are 0-999
        ("ValidationError", {"Actions": local.forward({BLUE: 1, GREEN: 1}) * 2}),  # two routing actions
        ("ValidationError", {"Actions": [{"Type": "forward"}]}),  # to no group
        ("ValidationError", {"Actions": [both_forms]}),  # both forms, different groups
        ("ValidationError", {"Conditions": path * 2}),  # one path-pattern per rule
        ("ValidationError", {"Conditions": [{"Field": "path-pattern", "Values": ["/a", "/b", "/c", "/d"]}]}),
        ("ValidationError", {"Conditions": [{"Field": "colour", "Values": ["red"]}]}),
        ("ValidationError", {"Conditions": [bad_cidr]}),
        ("ValidationError", {"Actions": [bad_status]}),  # 2xx, 4xx or 5xx only
        ("ValidationError", {"Actions": [bad_path]}),
        ("InvalidLoadBalancerAction", {"Actions": authenticate}),  # HTTPS listeners only
    ]
    for expected, request in refused:
        with pytest.raises(ClientError) as error:
            elbv2.modify_rule(RuleArn=PRODUCTION_RULE, **request)
        assert code_of(error) == expected, request
    default_rule = before[-1]["RuleArn"]
    with pytest.raises(ClientError) as error:
        elbv2.modify_rule(RuleArn=default_rule, Actions=local.forward({BLUE: 1}))
    assert code_of(error) == "OperationNotPermitted"
    with pytest.raises(ClientError) as error:
        elbv2.modify_listener(ListenerArn=production_listener.arn, Port=10080)  # the test listener's
    assert code_of(error) == "DuplicateListener"
    with pytest.raises(ClientError) as error:
        elbv2.modify_listener(ListenerArn=production_listener.arn, Protocol="TCP")
    assert code_of(error) == "ValidationError"
    for target in ({"Id": "i-0123456789abcdef0"}, {"Id": "8.8.8.8", "Port": 80}):
        with pytest.raises(ClientError) as error:
            elbv2.register_targets(TargetGroupArn=BLUE, Targets=[target])
        assert code_of(error) == "InvalidTarget"
    with pytest.raises(ClientError) as error:
        elbv2.describe_listeners()
    assert code_of(error) == "ValidationError"  # "You must specify either a load balancer or ... listeners"
    assert elbv2.describe_rules(ListenerArn=production_listener.arn)["Rules"] == before
    assert local.health(BLUE) == []


def hang_up_mid_body(url: str) -> None:
    """Send a request's headers and part of its body, then close the connection, as a hook worker
    killed at its timeout (or a load generator stopped) does mid-call."""
    host, port = url.removeprefix("http://").split("/")[0].rsplit(":", 1)
    body = urlencode({"Action": "DescribeTargetGroups", "Version": "2015-12-01", "Names.member.1": "x" * 900})
    request = AWSRequest(method="POST", url=url, data=body, headers={"Host": f"{host}:{port}"})
    SigV4Auth(Credentials("local", "local"), "elasticloadbalancing", REGION).add_auth(request)
    head = "".join(f"{name}: {value}\r\n" for name, value in request.headers.items())
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(f"POST / HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode())
        connection.sendall(body[:100].encode())
        time.sleep(0.05)  # the server is reading the body now


@pytest.mark.parametrize("server", ["endpoint", "production listener"])
def test_a_client_hanging_up_mid_request_is_no_error(
    server: str, local: Local, endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp logs an exception that escapes a handler with its traceback, which a user of
    ``ecs-bg simulate`` once saw after a hook worker was killed mid-call: the endpoint and the load
    balancer take a hang-up quietly, and serve on."""
    target = local.target("blue-1")
    local.register(BLUE, target)
    local.until(lambda: local.health(BLUE) == ["healthy"])
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    hang_up_mid_body(endpoint.url if server == "endpoint" else local.balancing.lb.url("production"))
    time.sleep(0.2)  # the servers have met the closed connections
    errors = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert errors == [], [record.getMessage() for record in errors]
    assert local.served("production", count=5) == Counter({"blue": 5})
    assert local.health(BLUE) == ["healthy"]


def test_malformed_requests_get_400_with_the_reason(local: Local, endpoint: Endpoint) -> None:
    base = {"Action": "ModifyRule", "Version": "2015-12-01", "RuleArn": PRODUCTION_RULE}
    cases = [
        (
            {**base, "Actions.member.1.Type": "forward", "Actions.member.1.Order": "first"},
            "is not a valid integer",
        ),
        ({**base, "Actions.member.1.Type": "teleport"}, "Member must satisfy enum value set"),
        (
            {**base, "Actions.member.1.Type": "forward", "Actions.member.1.Order": "0"},
            "greater than or equal to 1",
        ),
        ({"Action": "ModifyRule", "Version": "2015-12-01"}, "Value null at 'ruleArn'"),
        (
            {"Action": "DescribeTargetGroups", "Version": "2015-12-01", "PageSize": "401"},
            "less than or equal to 400",
        ),
        ({"Action": "DescribeLoadBalancers", "Version": "2012-06-01"}, "2015-12-01 only"),  # Classic ELB's
    ]
    for params, reason in cases:
        response = raw(endpoint, params)
        assert response.status_code == 400, response.text
        assert reason in response.text
        assert error_code(response) in ("ValidationError", "InvalidAction")


# -- every input: 400 or 200, never 500 ---------------------------------------------------------------


def wire_keys(shape: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """Every query-protocol key an input shape takes (lists to two members), with its shape."""
    if shape.type_name == "structure" and depth < 6:
        return [
            pair
            for name, member in shape.members.items()
            for pair in wire_keys(member, f"{prefix}.{name}" if prefix else name, depth + 1)
        ]
    if shape.type_name == "list" and depth < 6:
        return [
            pair
            for index in (1, 2)
            for pair in wire_keys(shape.member, f"{prefix}.member.{index}", depth + 1)
        ]
    return [(prefix, shape)]


ACTIONS = [
    "DescribeLoadBalancers",
    "DescribeListeners",
    "DescribeRules",
    "DescribeTargetGroups",
    "DescribeTargetHealth",
    "DescribeTargetGroupAttributes",
    "ModifyListener",
    "ModifyRule",
    "RegisterTargets",
    "DeregisterTargets",
]
KEYS = {
    action: [key for key, _ in wire_keys(MODEL.operation_model(action).input_shape)] for action in ACTIONS
}
VALUES = st.sampled_from(
    [BLUE, GREEN, PRODUCTION_RULE, TEST_RULE, "forward", "fixed-response", "redirect", "path-pattern",
     "host-header", "source-ip", "127.0.0.1", "8.8.8.8", "9", "0", "-1", "1000", "abc", "", "true", "maybe",
     "/x*", "HTTP_301", "503", "x" * 300, "\u00e9\u0000"]
)  # fmt: skip


@settings(
    max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_input_gets_a_500(local: Local, endpoint: Endpoint, data: st.DataObject) -> None:
    action = data.draw(st.sampled_from(ACTIONS))
    keys = data.draw(st.lists(st.sampled_from(KEYS[action]), max_size=8, unique=True))
    params = {"Action": action, "Version": "2015-12-01", **{key: data.draw(VALUES) for key in keys}}
    response = raw(endpoint, params)
    assert response.status_code in (200, 400), (params, response.text)
    if response.status_code == 400:
        assert error_code(response)
    # Whatever was refused or done, the model still answers in botocore's shape.
    describe = {
        "Action": "DescribeRules",
        "RuleArns.member.1": PRODUCTION_RULE,
        "RuleArns.member.2": TEST_RULE,
    }
    body = endpoint.aws.query_answers["DescribeRules"](describe)
    shape = MODEL.operation_model("DescribeRules").output_shape
    parsed = QueryParser().parse({"body": body.encode(), "headers": {}, "status_code": 200}, shape)
    assert len(parsed["Rules"]) == 2
    assert not ParamValidator().validate({"Rules": parsed["Rules"]}, shape).has_errors()


# -- a hook that shifts traffic itself ---------------------------------------------------------------


def hook_module() -> Any:
    spec = importlib.util.spec_from_file_location("shift_traffic", FIXTURE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_canary_hook_shifts_production_itself_through_boto3(
    local: Local, endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the style of AWS's canary sample hook (aws-samples/sample-amazon-ecs-blue-green-deployment-
    patterns, canaryFunction): it reads the production rule, moves the canary's weight up by a step
    and writes the rule back (ModifyRule; ModifyListener when ECS names a listener's default rule),
    answering IN_PROGRESS until green has it all."""
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint.url,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "CANARY_WEIGHT": "25",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    local.register(BLUE, local.target("blue"))
    local.register(GREEN, local.target("green"))
    local.until(lambda: local.health(BLUE) == local.health(GREEN) == ["healthy"])
    hook = hook_module()

    def event(rule: str) -> dict[str, Any]:
        details = {"productionListenerRule": rule, "greenTargetGroup": GREEN}
        return {"executionDetails": {"testTrafficWeights": {}}, "hookDetails": details}

    answers = []
    while not answers or answers[-1]["hookStatus"] == "IN_PROGRESS":
        answers.append(hook.handler(event(PRODUCTION_RULE), None))
        green = local.balancing.weights(PRODUCTION_RULE)[GREEN]
        assert local.served("production", count=40)["green"] == pytest.approx(40 * green / 100, abs=12)
    assert [answer["hookStatus"] for answer in answers] == ["IN_PROGRESS"] * 4 + ["SUCCEEDED"]
    assert local.balancing.weights(PRODUCTION_RULE) == {BLUE: 0, GREEN: 100}
    assert local.served("production", count=20) == {"green": 20}

    # A listener whose rules send nothing: its default rule is the one to move (AWS's sample has only
    # it), and the hook moves it with ModifyListener.
    test_listener = local.balancing.model.listeners[1]
    local.elbv2.modify_rule(RuleArn=TEST_RULE, Conditions=[{"Field": "path-pattern", "Values": ["/never/*"]}])
    local.elbv2.modify_listener(
        ListenerArn=test_listener.arn, DefaultActions=local.forward({BLUE: 100, GREEN: 0})
    )
    assert local.served("test", count=10) == {"blue": 10}
    default_rule = test_listener.default_rule.arn
    while hook.handler(event(default_rule), None)["hookStatus"] == "IN_PROGRESS":
        pass
    assert local.served("test", count=20) == {"green": 20}
    (listener,) = local.elbv2.describe_listeners(ListenerArns=[test_listener.arn])["Listeners"]
    weights = {
        g["TargetGroupArn"]: g["Weight"]
        for g in listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    }
    assert weights == {BLUE: 0, GREEN: 100}


def test_the_actions_describe_rules_answers_are_taken_back_as_they_are(local: Local) -> None:
    """What a hook reads it may write back unchanged (AWS's sample does): Order, the stickiness config
    and both forward forms are all valid input."""
    for rule in local.elbv2.describe_rules(RuleArns=[PRODUCTION_RULE, TEST_RULE])["Rules"]:
        actions = copy.deepcopy(rule["Actions"])
        again = local.elbv2.modify_rule(
            RuleArn=rule["RuleArn"], Actions=actions, Conditions=rule["Conditions"]
        )
        assert again["Rules"] == [rule]
    local.elbv2.modify_rule(RuleArn=PRODUCTION_RULE, Actions=[{"Type": "forward", "TargetGroupArn": BLUE}])
    (single,) = local.elbv2.describe_rules(RuleArns=[PRODUCTION_RULE])["Rules"]
    local.elbv2.modify_rule(RuleArn=PRODUCTION_RULE, Actions=single["Actions"])  # both forms, one group
    (listener, _) = local.elbv2.describe_listeners(
        LoadBalancerArn=local.balancing.model.load_balancers[0].arn
    )["Listeners"]
    local.elbv2.modify_listener(
        ListenerArn=listener["ListenerArn"], DefaultActions=listener["DefaultActions"]
    )


@pytest.mark.slow  # each AWS CLI command is a new Python process
def test_the_aws_cli_reads_and_moves_a_rule(local: Local, endpoint: Endpoint) -> None:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint.url,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_PAGER": "",
    }
    env.pop("AWS_SESSION_TOKEN", None)

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        command = [aws_cli(), "elbv2", *args, "--output", "json"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)

    described = aws("describe-rules", "--rule-arns", PRODUCTION_RULE)
    assert described.returncode == 0, described.stderr
    assert json.loads(described.stdout)["Rules"][0]["Actions"][0]["ForwardConfig"]["TargetGroups"][0] == {
        "TargetGroupArn": BLUE,
        "Weight": 100,
    }
    actions = json.dumps(local.forward({BLUE: 20, GREEN: 80}))
    moved = aws("modify-rule", "--rule-arn", PRODUCTION_RULE, "--actions", actions)
    assert moved.returncode == 0, moved.stderr
    assert local.balancing.weights(PRODUCTION_RULE) == {BLUE: 20, GREEN: 80}
    refused = aws(
        "modify-rule", "--rule-arn", PRODUCTION_RULE, "--actions", json.dumps(local.forward({BLUE: 1000}))
    )
    assert refused.returncode != 0
    assert "(ValidationError)" in refused.stderr
    assert local.balancing.weights(PRODUCTION_RULE) == {BLUE: 20, GREEN: 80}
