"""The ALB wiring ECS native blue/green needs, and the guard against aws-cdk#36649.

ECS rewrites the production rule's action into a weighted forward and swaps the weights on each
deployment. CloudFormation updates a resource only when its template properties change, so the
rules' template must not change when anything else in the stack does: the last test synthesizes a
differently configured app and asserts the rules (and the target groups they reference) are
byte-identical, logical ids included.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecs_bg.local.cloudformation.stack import StackOutputs
from ecs_bg.local.elbv2.load_balancing import TARGET_GROUPS, stack_load_balancer
from ecs_bg.local.elbv2.models import Condition, FixedResponse, Forward, WeightedGroup

from .conftest import Synthesized

pytestmark = pytest.mark.slow


def _rules(app: Synthesized) -> dict[str, dict[str, Any]]:
    return app.resources("AWS::ElasticLoadBalancingV2::ListenerRule")


def test_production_and_test_rules_forward_to_one_group_each(default_app: Synthesized) -> None:
    production = default_app.resource(default_app.logical_id("LoadBalancer/ProductionRule/Resource"))[
        "Properties"
    ]
    test = default_app.resource(default_app.logical_id("LoadBalancer/TestRule/Resource"))["Properties"]
    blue = default_app.logical_id("LoadBalancer/BlueTargetGroup/Resource")
    green = default_app.logical_id("LoadBalancer/GreenTargetGroup/Resource")
    assert production["Actions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": blue}}]
    assert test["Actions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": green}}]
    assert production["ListenerArn"] == {
        "Ref": default_app.logical_id("LoadBalancer/Alb/HttpListener/Resource")
    }
    assert test["ListenerArn"] == {"Ref": default_app.logical_id("LoadBalancer/Alb/TestListener/Resource")}
    assert len(_rules(default_app)) == 2


def test_target_groups_are_ip_groups_with_the_same_settings(default_app: Synthesized) -> None:
    blue, green = (
        default_app.resource(default_app.logical_id(f"LoadBalancer/{name}/Resource"))["Properties"]
        for name in ("BlueTargetGroup", "GreenTargetGroup")
    )
    assert blue == green
    assert blue["TargetType"] == "ip"
    assert blue["Port"] == 8080
    assert blue["HealthCheckPath"] == "/health"
    assert "Name" not in blue  # a physical name would make replacing a group fail, or reset the rules


def test_the_simulator_checks_and_drains_targets_as_the_stack_does(default_app: Synthesized) -> None:
    blue = default_app.logical_id("LoadBalancer/BlueTargetGroup/Resource")
    group = default_app.resource(blue)["Properties"]
    attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
    simulated = TARGET_GROUPS
    assert group["HealthCheckPath"] == simulated.health_check_path
    assert group["Matcher"] == {"HttpCode": simulated.healthy_http_codes}
    assert group["HealthCheckIntervalSeconds"] == simulated.interval
    assert group.get("HealthCheckTimeoutSeconds", 5) == simulated.timeout  # unset: ALB's default, 5 s
    assert group["HealthyThresholdCount"] == simulated.healthy_threshold
    assert group["UnhealthyThresholdCount"] == simulated.unhealthy_threshold
    assert float(attributes["deregistration_delay.timeout_seconds"]) == simulated.deregistration_delay


def test_listeners_serve_production_on_80_and_tests_on_the_test_port(default_app: Synthesized) -> None:
    listeners = default_app.resources("AWS::ElasticLoadBalancingV2::Listener").values()
    ports = {listener["Properties"]["Port"]: listener["Properties"] for listener in listeners}
    assert set(ports) == {80, 10080}
    for listener in ports.values():
        # Traffic reaches the groups only through the rules ECS manages.
        assert listener["DefaultActions"][0]["Type"] == "fixed-response"


def test_stack_updates_leave_the_rules_alone(default_app: Synthesized, variant_app: Synthesized) -> None:
    def owned_by_rules(app: Synthesized) -> dict[str, str]:
        ids = set(_rules(app))
        ids |= {
            app.logical_id(f"LoadBalancer/{name}/Resource")
            for name in ("BlueTargetGroup", "GreenTargetGroup", "Alb/HttpListener", "Alb/TestListener")
        }
        return {i: json.dumps(app.resource(i)["Properties"], sort_keys=True) for i in ids}

    # The variant differs in the pipeline, hook permissions, alarms, log retention and layer...
    assert default_app.template != variant_app.template
    # ...and still writes the rules and everything they reference byte for byte the same.
    assert owned_by_rules(variant_app) == owned_by_rules(default_app)


def test_the_local_load_balancer_is_the_one_the_template_declares(default_app: Synthesized) -> None:
    """ecs-bg local builds the stack's load balancer (stack_load_balancer) as the template declares it:
    the listeners' ports and default action, each rule's priority, condition and group."""
    template = {
        listener["Properties"]["Port"]: listener["Properties"]
        for listener in default_app.resources("AWS::ElasticLoadBalancingV2::Listener").values()
    }
    rules = {
        rule["Properties"]["ListenerArn"]["Ref"]: rule["Properties"] for rule in _rules(default_app).values()
    }
    listener_ids = {
        80: default_app.logical_id("LoadBalancer/Alb/HttpListener/Resource"),
        10080: default_app.logical_id("LoadBalancer/Alb/TestListener/Resource"),
    }
    groups = {
        default_app.logical_id(f"LoadBalancer/{name}/Resource"): arn
        for name, arn in (("BlueTargetGroup", "blue"), ("GreenTargetGroup", "green"))
    }
    outputs = {
        **StackOutputs("ap-northeast-1").values,
        "BlueTargetGroupArn": "blue",
        "GreenTargetGroupArn": "green",
    }
    (balancer,) = stack_load_balancer(outputs).resources.load_balancers
    assert {listener.port for listener in balancer.listeners} == set(template)
    for listener in balancer.listeners:
        declared = template[listener.port]
        fixed = declared["DefaultActions"][0]["FixedResponseConfig"]
        assert listener.default_rule.routing == FixedResponse(
            int(fixed["StatusCode"]), fixed.get("ContentType"), fixed.get("MessageBody")
        )
        (rule,) = [rule for rule in listener.rules if not rule.is_default]
        declared_rule = rules[listener_ids[listener.port]]
        assert rule.priority == declared_rule["Priority"]
        (condition,) = declared_rule["Conditions"]
        assert rule.conditions == (
            Condition(condition["Field"], tuple(condition["PathPatternConfig"]["Values"])),
        )
        (action,) = declared_rule["Actions"]
        assert rule.routing == Forward((WeightedGroup(groups[action["TargetGroupArn"]["Ref"]], 1),))
