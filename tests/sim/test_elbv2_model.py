"""The local Elastic Load Balancing's model without the wire: how a listener picks a rule, what the
backend refuses beyond botocore's shapes, how the stack's load balancer is built, and its clock."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import pytest
from multidict import CIMultiDict

from ecs_bg.local.elbv2.backend import Elbv2Backend
from ecs_bg.local.elbv2.balancer import LocalLoadBalancer
from ecs_bg.local.elbv2.health import HealthCheck
from ecs_bg.local.elbv2.load_balancing import resources
from ecs_bg.local.elbv2.models import Condition, FixedResponse, Forward, Listener, Rule, Target, WeightedGroup
from ecs_bg.local.elbv2.routing import RequestView, choose_rule, matches
from ecs_bg.local.errors import AwsError
from tests.cloud import TEMPLATE, outputs, roles, sample_balancing, sample_cloud
from tests.sim.stub_targets import StubTarget, run, wait_for

OUTPUTS = outputs()
BLUE, GREEN = OUTPUTS["BlueTargetGroupArn"], OUTPUTS["GreenTargetGroupArn"]
PRODUCTION_RULE = OUTPUTS["ProductionListenerRuleArn"]


def request(headers: dict[str, str] | None = None, **parts: Any) -> RequestView:
    view = {"method": "GET", "path": "/", "host": "shop.example.com", "query": [], "source_ip": "127.0.0.1"}
    return RequestView(headers=CIMultiDict(headers or {}), **(view | parts))


# -- routing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "view", "matched"),
    [
        (Condition("path-pattern", ("/img/*",)), request(path="/img/a/b.png"), True),
        (Condition("path-pattern", ("/img/*",)), request(path="/IMG/a.png"), False),  # case-sensitive
        (Condition("path-pattern", ("/v?/x",)), request(path="/v2/x"), True),
        (Condition("path-pattern", ("/v?/x",)), request(path="/v10/x"), False),  # ? is one character
        (Condition("path-pattern", ("/a.c",)), request(path="/abc"), False),  # . is a dot, not a wildcard
        (Condition("host-header", ("*.example.com",)), request(host="Shop.EXAMPLE.com"), True),
        (Condition("host-header", ("*.example.com",)), request(host="example.com"), False),
        (
            Condition("http-header", ("beta*",), header_name="X-Channel"),
            request(headers={"x-channel": "BETA-1"}),
            True,
        ),
        (Condition("http-header", ("beta*",), header_name="X-Channel"), request(), False),
        (Condition("http-request-method", ("POST",)), request(method="POST"), True),
        (Condition("http-request-method", ("POST",)), request(method="post"), False),
        (Condition("query-string", query=(("v", "2*"),)), request(query=[("V", "20")]), True),
        (Condition("query-string", query=((None, "canary"),)), request(query=[("mode", "Canary")]), True),
        (Condition("query-string", query=(("v", "2"),)), request(query=[("w", "2")]), False),
        (Condition("source-ip", ("127.0.0.0/8",)), request(), True),
        (Condition("source-ip", ("10.0.0.0/8", "::1/128")), request(), False),
    ],
)
def test_each_condition_compares_as_alb_does(condition: Condition, view: RequestView, matched: bool) -> None:
    assert matches(condition, view) is matched


def test_rules_are_tried_by_priority_and_the_default_rule_last() -> None:
    def rule(name: str, priority: int | None, *conditions: Condition) -> Rule:
        return Rule(name, "listener", priority, conditions, (FixedResponse(200),))

    listener = Listener("listener", "lb", "production", 80)
    listener.rules = [
        rule("default", None),
        rule(
            "api-v2", 20, Condition("path-pattern", ("/api/*",)), Condition("http-request-method", ("POST",))
        ),
        rule("api", 30, Condition("path-pattern", ("/api/*",))),
        rule("first", 5, Condition("path-pattern", ("/api/first",))),
    ]
    assert choose_rule(listener, request(path="/api/first", method="POST")).arn == "first"
    assert choose_rule(listener, request(path="/api/x", method="POST")).arn == "api-v2"  # every condition
    assert choose_rule(listener, request(path="/api/x")).arn == "api"
    assert choose_rule(listener, request(path="/other")).arn == "default"


# -- the backend -------------------------------------------------------------------------------------


@pytest.fixture
def backend() -> Elbv2Backend:
    return Elbv2Backend(LocalLoadBalancer(resources(sample_cloud(), roles())))


def refused(backend: Elbv2Backend, **request: Any) -> str:
    with pytest.raises(AwsError) as error:
        backend.modify_rule(PRODUCTION_RULE, request)
    return error.value.code


def test_a_refused_write_changes_nothing(backend: Elbv2Backend) -> None:
    rule = backend.rule(PRODUCTION_RULE)
    before = (rule.conditions, rule.actions)
    good = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": GREEN, "Weight": 5}]}}]
    # Valid actions, invalid conditions: neither is applied.
    assert refused(backend, Actions=good, Conditions=[]) == "ValidationError"
    assert refused(backend, Actions=good, Conditions=[{"Field": "path-pattern"}]) == "ValidationError"
    assert (rule.conditions, rule.actions) == before


def test_forward_forms_and_their_limits(backend: Elbv2Backend) -> None:
    def forward(*groups: dict[str, Any], **more: Any) -> list[dict[str, Any]]:
        return [{"Type": "forward", "ForwardConfig": {"TargetGroups": list(groups), **more}}]

    assert refused(backend, Actions=forward(*[{"TargetGroupArn": BLUE}] * 2)) == "ValidationError"  # twice
    sticky = {"TargetGroupStickinessConfig": {"Enabled": True}}
    assert refused(backend, Actions=forward({"TargetGroupArn": BLUE}, **sticky)) == "ValidationError"
    assert refused(backend, Actions=forward({"Weight": 1})) == "ValidationError"
    six = [{"TargetGroupArn": BLUE}] * 6
    assert refused(backend, Actions=forward(*six)) == "ValidationError"
    # Both forms naming the same single group is one forward (as DescribeRules answers it).
    backend.modify_rule(
        PRODUCTION_RULE, {"Actions": [{**forward({"TargetGroupArn": GREEN})[0], "TargetGroupArn": GREEN}]}
    )
    assert backend.rule_weights(PRODUCTION_RULE) == {GREEN: 1}
    sticky = {"TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 60}}
    backend.modify_rule(
        PRODUCTION_RULE, {"Actions": forward({"TargetGroupArn": BLUE, "Weight": 0}, **sticky)}
    )
    action = backend.rule(PRODUCTION_RULE).routing
    assert isinstance(action, Forward)
    assert (action.stickiness, action.stickiness_seconds, action.weights()) == (True, 60, {BLUE: 0})


def test_a_condition_in_both_forms_is_taken_only_when_they_agree(backend: Elbv2Backend) -> None:
    same = {"Field": "path-pattern", "Values": ["/a*"], "PathPatternConfig": {"Values": ["/a*"]}}
    backend.modify_rule(PRODUCTION_RULE, {"Conditions": [same]})
    assert backend.rule(PRODUCTION_RULE).conditions == (Condition("path-pattern", ("/a*",)),)
    differ = {"Field": "path-pattern", "Values": ["/a*"], "PathPatternConfig": {"Values": ["/b*"]}}
    assert refused(backend, Conditions=[differ]) == "ValidationError"
    assert refused(backend, Conditions=[{"Field": "http-header", "Values": ["x"]}]) == "ValidationError"
    regex = {"Field": "path-pattern", "PathPatternConfig": {"RegexValues": ["^/a$"]}}
    assert refused(backend, Conditions=[regex]) == "ValidationError"  # not emulated, said so
    assert refused(backend, Conditions=[], Transforms=[{"Type": "url-rewrite"}]) == "ValidationError"


def test_a_redirect_goes_into_a_location_header_whole(backend: Elbv2Backend) -> None:
    def redirect(**config: str) -> list[dict[str, Any]]:
        return [{"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_302", **config}}]

    for config in ({"Host": "a.example.com\r\nX-Injected: 1"}, {"Path": "/caf\u00e9"}, {"Port": "70000"}):
        assert refused(backend, Actions=redirect(**config)) == "ValidationError", config
    backend.modify_rule(PRODUCTION_RULE, {"Actions": redirect(Host="#{host}", Port="8443", Path="/#{path}")})
    assert backend.rule(PRODUCTION_RULE).routing.port == "8443"  # type: ignore[union-attr]


def test_set_rule_weights_is_the_one_call_that_moves_a_rule(backend: Elbv2Backend) -> None:
    backend.set_rule_weights(PRODUCTION_RULE, {BLUE: 10, GREEN: 90})
    assert backend.rule_weights(PRODUCTION_RULE) == {BLUE: 10, GREEN: 90}
    with pytest.raises(AwsError) as error:
        backend.set_rule_weights(PRODUCTION_RULE, {"arn:nope": 1})
    assert error.value.code == "TargetGroupNotFound"
    assert backend.rule_weights(PRODUCTION_RULE) == {BLUE: 10, GREEN: 90}


def test_targets_are_addresses_on_this_machine() -> None:
    assert Target.from_url("http://127.0.0.1:8080") == Target("127.0.0.1", 8080)
    assert Target.from_url("http://[::1]:8080") == Target("::1", 8080)
    assert Target("::1", 8080).url == "http://[::1]:8080"


# -- the stack's load balancer -----------------------------------------------------------------------


def test_listeners_are_named_by_the_role_the_service_gives_their_rule() -> None:
    """The sample template's load balancer: the listener whose rule the service names as its production
    rule is "production" (traffic statistics and reports say so), the test rule's "test"; without the
    service's roles each is named by its port. One forward rule each, production to blue and test to
    green, the template's 404 default behind it."""
    cloud = sample_cloud()
    (balancer,) = resources(cloud, roles()).load_balancers
    assert [(listener.name, listener.port) for listener in balancer.listeners] == [
        ("production", 80),
        ("test", 10080),
    ]
    production, test = balancer.listeners
    assert [rule.arn for rule in production.rules if not rule.is_default] == [PRODUCTION_RULE]
    assert production.in_order()[0].routing == Forward((WeightedGroup(BLUE, 1),))
    assert test.in_order()[0].routing == Forward((WeightedGroup(GREEN, 1),))
    assert production.default_rule.routing == FixedResponse(404, "text/plain", "no route")
    assert all(listener.local_port == cloud.ports[listener.arn] for listener in balancer.listeners)
    (unnamed,) = resources(cloud).load_balancers
    assert [listener.name for listener in unnamed.listeners] == ["listener-80", "listener-10080"]


def test_a_group_the_model_lacks_is_made_when_ecs_attaches_it() -> None:
    balancing = sample_balancing(60)
    other = BLUE.replace("zenn-ecs-cdk-ecspre-W2ZTYHINZEBO", "my-service")
    balancing.attach(other, (PRODUCTION_RULE,))
    assert balancing.weights(PRODUCTION_RULE) == {BLUE: 1.0, other: 0.0}
    assert balancing.model.target_groups[other].name == "my-service"
    assert (
        balancing.model.target_groups[other].health_check == balancing.model.target_groups[BLUE].health_check
    )


def test_health_checks_run_on_the_local_clock_and_wait_for_answers_on_the_wall_clock() -> None:
    """The stack's 15 s interval at 60x is a probe every 0.25 s, at 240x every 0.0625 s; the 5 s timeout
    stays 5 s, so an app that takes 0.3 s to answer passes at any speed."""

    async def balancer(speed: float, path: str) -> LocalLoadBalancer:
        model = resources(sample_cloud(), roles())
        for group in model.target_groups.values():
            group.health_check = HealthCheck(path=path, interval=15, timeout=5, healthy_threshold=2)
        lb = LocalLoadBalancer(model, speed=speed)
        await lb.start()
        return lb

    async def probes(speed: float) -> int:
        target = await StubTarget("t").start()  # /probe is not its /health: each probe is recorded
        lb = await balancer(speed, "/probe")
        try:
            lb.register(GREEN, target.url)
            await asyncio.sleep(1.0)
            return len(target.seen_headers)
        finally:
            await lb.close()
            await target.stop()

    async def slow_answer_passes() -> bool:
        target = await StubTarget("t", health_delay=0.3).start()
        lb = await balancer(240, "/health")
        try:
            lb.register(GREEN, target.url)
            return await wait_for(lambda: lb.target_health(GREEN)[0].state == "healthy", timeout=5)
        finally:
            await lb.close()
            await target.stop()

    async def all_at_once() -> tuple[int, int, bool]:  # each on its own balancer: a second, not three
        return await asyncio.gather(probes(60), probes(240), slow_answer_passes())

    slow, fast, passes = run(all_at_once)
    assert 2 <= slow <= 5  # one at once, then one every 0.25 s: at most 5 in a second
    assert fast > 2 * slow
    assert passes


def test_the_server_answers_elbv2_and_cloudformation_and_the_local_ecs_reads_the_same_rules() -> None:
    from ecs_bg.local.options import LocalOptions
    from ecs_bg.local.server import LocalEcsServer

    async def scenario() -> tuple[dict[str, int], str, dict[str, float]]:
        roles = {PRODUCTION_RULE: "production", OUTPUTS["TestListenerRuleArn"]: "test"}
        async with LocalEcsServer(LocalOptions(template=TEMPLATE, clusters=("c",)), roles=roles) as server:

            def calls() -> tuple[dict[str, int], str]:
                made = {
                    "region_name": "ap-northeast-1",
                    "endpoint_url": server.url,
                    "aws_access_key_id": "local",
                    "aws_secret_access_key": "local",
                }
                elbv2, cloudformation = boto3.client("elbv2", **made), boto3.client("cloudformation", **made)
                actions = [
                    {
                        "Type": "forward",
                        "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": GREEN, "Weight": 7}]},
                    }
                ]
                elbv2.modify_rule(RuleArn=PRODUCTION_RULE, Actions=actions)
                (rule,) = elbv2.describe_rules(RuleArns=[PRODUCTION_RULE])["Rules"]
                weights = {
                    g["TargetGroupArn"]: g["Weight"]
                    for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
                }
                (stack,) = cloudformation.describe_stacks(StackName="zenn-ecs-cdk-ecspresso")["Stacks"]
                outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
                return weights, outputs["TestUrl"]

            weights, test_url = await asyncio.to_thread(calls)
            assert test_url == server.listener_urls["test"]
            return weights, test_url, server.weights("production")

    weights, _, seen_by_ecs = run(scenario)
    assert weights == {GREEN: 7}
    assert seen_by_ecs == {GREEN: 7}  # what ModifyRule wrote is what ECS's side reads
