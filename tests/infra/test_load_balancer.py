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

from ecs_bg.local.cloudformation.cloud import read_cloud
from ecs_bg.local.elbv2.load_balancing import resources
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
    """ecs-bg local builds the load balancer from the synthesized template: the listeners' ports and
    default action, each rule's priority, condition and group, and the groups' health checks and
    deregistration delay, each as the template declares them."""
    cloud = read_cloud(default_app.outdir, "ap-northeast-1")
    model = resources(cloud)
    (stack,) = cloud.resources
    arn_of = {resource.logical_id: resource.arn for resource in (*stack.target_groups, *stack.listeners)}
    template = {
        listener["Properties"]["Port"]: listener["Properties"]
        for listener in default_app.resources("AWS::ElasticLoadBalancingV2::Listener").values()
    }
    rules = {
        arn_of[rule["Properties"]["ListenerArn"]["Ref"]]: rule["Properties"]
        for rule in _rules(default_app).values()
    }
    (balancer,) = model.load_balancers
    assert {listener.port for listener in balancer.listeners} == set(template)
    for listener in balancer.listeners:
        declared = template[listener.port]
        fixed = declared["DefaultActions"][0]["FixedResponseConfig"]
        assert listener.default_rule.routing == FixedResponse(
            int(fixed["StatusCode"]), fixed.get("ContentType"), fixed.get("MessageBody")
        )
        (rule,) = [rule for rule in listener.rules if not rule.is_default]
        declared_rule = rules[listener.arn]
        assert rule.priority == declared_rule["Priority"]
        (condition,) = declared_rule["Conditions"]
        assert rule.conditions == (
            Condition(condition["Field"], tuple(condition["PathPatternConfig"]["Values"])),
        )
        (action,) = declared_rule["Actions"]
        assert rule.routing == Forward((WeightedGroup(arn_of[action["TargetGroupArn"]["Ref"]], 1),))
    for logical_id, declared in default_app.resources("AWS::ElasticLoadBalancingV2::TargetGroup").items():
        group = model.target_groups[arn_of[logical_id]]
        properties = declared["Properties"]
        attributes = {a["Key"]: a["Value"] for a in properties["TargetGroupAttributes"]}
        assert group.health_check.path == properties["HealthCheckPath"]
        assert group.health_check.matcher == properties["Matcher"]["HttpCode"]
        assert group.health_check.interval == properties["HealthCheckIntervalSeconds"]
        assert group.health_check.timeout == properties.get("HealthCheckTimeoutSeconds", 5)  # ALB's default
        assert group.health_check.healthy_threshold == properties["HealthyThresholdCount"]
        assert group.health_check.unhealthy_threshold == properties["UnhealthyThresholdCount"]
        assert group.deregistration_delay == float(attributes["deregistration_delay.timeout_seconds"])
