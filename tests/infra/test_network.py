"""VPC and security groups: who may reach which port."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Synthesized

pytestmark = pytest.mark.slow


def _ingress(app: Synthesized, group_path: str) -> list[dict[str, Any]]:
    group = app.logical_id(f"{group_path}/Resource")
    inline = app.resource(group)["Properties"].get("SecurityGroupIngress", [])
    separate = [
        r["Properties"]
        for r in app.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group, "GroupId"]}
    ]
    return [*inline, *separate]


def test_vpc_spans_two_azs_with_public_and_private_subnets(default_app: Synthesized) -> None:
    subnets = default_app.resources("AWS::EC2::Subnet")
    assert len(subnets) == 4
    public = [s for s in subnets.values() if s["Properties"]["MapPublicIpOnLaunch"]]
    assert len(public) == 2
    assert len(default_app.resources("AWS::EC2::NatGateway")) == 1
    assert len(default_app.resources("AWS::EC2::FlowLog")) == 1


def test_tasks_accept_the_container_port_from_the_alb_only(default_app: Synthesized) -> None:
    [rule] = _ingress(default_app, "Network/ServiceSecurityGroup")
    alb_group = default_app.logical_id("Network/AlbSecurityGroup/Resource")
    assert rule["SourceSecurityGroupId"] == {"Fn::GetAtt": [alb_group, "GroupId"]}
    assert (rule["FromPort"], rule["ToPort"]) == (8080, 8080)


def test_alb_ports_by_source(default_app: Synthesized) -> None:
    rules = _ingress(default_app, "Network/AlbSecurityGroup")
    by_port: dict[int, list[Any]] = {}
    for rule in rules:
        by_port.setdefault(rule["FromPort"], []).append(rule["CidrIp"])
    nat_eip = default_app.logical_id("Network/NatEip1")
    from_nat = {"Fn::Join": ["", [{"Fn::GetAtt": [nat_eip, "PublicIp"]}, "/32"]]}
    # Production is public by default; the test port is open only to the hooks' NAT address.
    assert sorted(map(str, by_port[80])) == sorted(map(str, ["0.0.0.0/0", from_nat]))
    assert by_port[10080] == [from_nat]


def test_internal_alb_admits_the_hooks_by_security_group(private_app: Synthesized) -> None:
    hooks = {"Fn::GetAtt": [private_app.logical_id("Network/HookSecurityGroup/Resource"), "GroupId"]}
    by_port: dict[int, list[Any]] = {}
    for rule in _ingress(private_app, "Network/AlbSecurityGroup"):
        by_port.setdefault(rule["FromPort"], []).append(rule.get("CidrIp", rule.get("SourceSecurityGroupId")))
    assert sorted(map(str, by_port[10080])) == sorted(map(str, ["10.9.0.0/16", hooks]))
    assert sorted(map(str, by_port[443])) == sorted(map(str, ["10.0.0.0/8", hooks]))
    assert private_app.resources("AWS::EC2::NatGateway") == {}
    endpoints = private_app.resources("AWS::EC2::VPCEndpoint").values()
    assert len(endpoints) == 10  # S3 gateway; ECR x2 and Logs for tasks; six APIs the hooks call
    assert private_app.outputs()["ProductionUrl"]["Value"] == "https://app.example.com"
