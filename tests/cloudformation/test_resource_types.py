"""The Ref and Fn::GetAtt table: every attribute is one CloudFormation has, and every value resolves.

cfn-lint ships the CloudFormation registry schemas; a type's GetAtt names are its ``readOnlyProperties``
(and, for a few types, the properties CloudFormation also returns), so an attribute the table made up
would show here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from ecs_bg.local.cloudformation.resource_types import TYPES, elb_full_name
from tests.cloudformation.helpers import stack_of

# Properties without which a type's values cannot be made (a parent's ARN, a name to point at).
NEEDS: dict[str, dict[str, Any]] = {
    "AWS::ElasticLoadBalancingV2::Listener": {"LoadBalancerArn": {"Ref": "Lb"}},
    "AWS::ElasticLoadBalancingV2::ListenerRule": {"ListenerArn": {"Ref": "Listener"}},
    "AWS::Lambda::Version": {"FunctionName": {"Ref": "Fn"}},
    "AWS::Lambda::Alias": {"FunctionName": {"Ref": "Fn"}, "Name": "live"},
    "AWS::SNS::Subscription": {"TopicArn": {"Ref": "Topic"}},
    "AWS::SSM::Parameter": {"Type": "String", "Value": "v"},
    "AWS::SecretsManager::SecretTargetAttachment": {
        "SecretId": "arn:aws:secretsmanager:eu-west-1:1:secret:s"
    },
    "AWS::EC2::VPC": {"CidrBlock": "10.0.0.0/16"},
    "AWS::EC2::Subnet": {"CidrBlock": "10.0.0.0/24", "VpcId": "vpc-1"},
    "AWS::EC2::SecurityGroup": {"VpcId": "vpc-1"},
    "AWS::EC2::Route": {"DestinationCidrBlock": "0.0.0.0/0"},
    "AWS::KMS::Alias": {"AliasName": "alias/x"},
    "AWS::Route53::RecordSet": {"Name": "app.example.com"},
    "AWS::ApplicationAutoScaling::ScalableTarget": {
        "ResourceId": "service/c/s",
        "ScalableDimension": "ecs:service:DesiredCount",
        "ServiceNamespace": "ecs",
    },
}
PARENTS = {
    "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer"},
    "Listener": {
        "Type": "AWS::ElasticLoadBalancingV2::Listener",
        "Properties": {"LoadBalancerArn": {"Ref": "Lb"}},
    },
    "Fn": {"Type": "AWS::Lambda::Function"},
    "Topic": {"Type": "AWS::SNS::Topic"},
}


@pytest.mark.parametrize("resource_type", sorted(TYPES))
def test_every_attribute_is_one_the_registry_schema_has(resource_type: str) -> None:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # with sympy, 0.7 s to import: here, not to collect

    documented = set(PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).get_atts)
    assert set(TYPES[resource_type].attributes) <= documented


@pytest.mark.parametrize("resource_type", sorted(TYPES))
def test_every_value_resolves_and_arns_name_their_service(resource_type: str) -> None:
    kind = TYPES[resource_type]
    stack = stack_of(
        {"Resources": {**PARENTS, "R": {"Type": resource_type, "Properties": NEEDS.get(resource_type, {})}}}
    )
    resource = stack.resources["R"]
    values = {"Ref": resource.value("Ref", ())} | {name: resource.value(name, ()) for name in kind.attributes}
    for name, value in values.items():
        assert value is not None, name
        if name.endswith("Arn") and isinstance(value, str):
            assert re.match(r"arn:aws:[a-z0-9-]+:(eu-west-1)?:(111122223333)?:", value), (name, value)
    if kind.name_property is not None:
        assert len(resource.name) <= kind.name_limit
        assert resource.name == resource.name.lower() or not kind.lowercase


def test_elb_full_names_are_the_cloudwatch_dimension_values() -> None:
    head = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:"
    # LoadBalancerFullName app/my-load-balancer/50dc6c495c0c9188 and TargetGroupFullName
    # targetgroup/my-target-group/cbf133c568e0d028, the User Guide's examples
    assert elb_full_name(f"{head}loadbalancer/app/my-load-balancer/50dc6c495c0c9188") == (
        "app/my-load-balancer/50dc6c495c0c9188"
    )
    assert elb_full_name(f"{head}targetgroup/my-target-group/cbf133c568e0d028") == (
        "targetgroup/my-target-group/cbf133c568e0d028"
    )
    with pytest.raises(ValueError, match="not an Elastic Load Balancing ARN"):
        elb_full_name("arn:aws:sns:eu-west-1:1:t")


def test_listener_and_rule_arns_extend_their_parents() -> None:
    stack = stack_of(
        {
            "Resources": {
                **PARENTS,
                "Rule": {
                    "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
                    "Properties": NEEDS["AWS::ElasticLoadBalancingV2::ListenerRule"],
                },
            }
        }
    )
    load_balancer = stack.ref("Lb", ())
    listener = stack.ref("Listener", ())
    rule = stack.ref("Rule", ())
    assert re.fullmatch(r".*:loadbalancer/app/t-Lb-[A-Z2-7]{12}/[0-9a-f]{16}", load_balancer)
    assert listener.startswith(load_balancer.replace(":loadbalancer/", ":listener/") + "/")
    assert rule.startswith(listener.replace(":listener/", ":listener-rule/") + "/")
    assert stack.get_att("Lb", "LoadBalancerFullName", ()) == load_balancer.split(":loadbalancer/")[1]
    assert re.fullmatch(
        r"t-Lb-[A-Z2-7]{12}-\d{10}\.eu-west-1\.elb\.amazonaws\.com", stack.get_att("Lb", "DNSName", ())
    )


def test_an_internal_or_network_load_balancer_says_so_in_its_dns_name_and_arn() -> None:
    stack = stack_of(
        {
            "Resources": {
                "Internal": {
                    "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                    "Properties": {"Scheme": "internal", "Name": "inside"},
                },
                "Nlb": {
                    "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                    "Properties": {"Type": "network", "Name": "n"},
                },
            }
        }
    )
    assert stack.get_att("Internal", "DNSName", ()).startswith("internal-inside-")
    assert ":loadbalancer/net/n/" in stack.ref("Nlb", ())


def test_a_rule_on_a_custom_event_bus_names_the_bus_in_its_arn() -> None:
    bus_arn = "arn:aws:events:eu-west-1:111122223333:event-bus/deployments"
    stack = stack_of(
        {
            "Resources": {
                "OnDefault": {"Type": "AWS::Events::Rule", "Properties": {"Name": "a"}},
                "OnCustom": {
                    "Type": "AWS::Events::Rule",
                    "Properties": {"Name": "b", "EventBusName": bus_arn},
                },
            }
        }
    )
    assert stack.get_att("OnDefault", "Arn", ()) == "arn:aws:events:eu-west-1:111122223333:rule/a"
    assert stack.get_att("OnCustom", "Arn", ()) == "arn:aws:events:eu-west-1:111122223333:rule/deployments/b"
    assert stack.ref("OnCustom", ()) == "b"
