"""targetHealth against moto's Elastic Load Balancing, green's group taken from the revision."""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest

from ecs_bg.hooks import LifecycleHook, Stage, aws
from ecs_bg.lifecycle.events import ServiceIds, lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.conftest import VirtualClock, log_lines
from tests.ecs_apis import ServiceDeploymentApis, answer
from tests.faults import fail

IDS = ServiceIds()


@pytest.fixture
def groups(moto: None) -> dict[str, str]:
    """Two IP target groups, as the stack makes them; blue's has two targets, green's has two."""
    ec2 = boto3.client("ec2", region_name="us-west-2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    elbv2 = boto3.client("elbv2", region_name="us-west-2")
    made = {}
    for colour, ips in (("blue", ["10.0.1.10", "10.0.1.11"]), ("green", ["10.0.1.20", "10.0.1.21"])):
        arn = elbv2.create_target_group(
            Name=f"tg-{colour}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip, "Port": 8080} for ip in ips])
        made[colour] = arn
    return made


def target_health(settings: dict[str, Any], green_group: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    revision = {
        "taskDefinition": "arn:aws:ecs:us-west-2:123456789012:task-definition/app:2",
        "resolvedConfiguration": {"loadBalancers": [{"targetGroupArn": green_group}]},
    }
    ServiceDeploymentApis(IDS, revision=revision).attach(aws.client("ecs", "us-west-2"))
    clock = VirtualClock()
    stream = io.StringIO()
    hook = LifecycleHook(f"targets-{id(stream)}", clock=clock, log_stream=stream)
    hook.stage(Stage.POST_TEST_TRAFFIC_SHIFT)(lambda ctx: ctx.run_checks("targetHealth") and None)
    event = lifecycle_event("POST_TEST_TRAFFIC_SHIFT", ids=IDS, hook_details={"targetHealth": settings})
    response = hook.handler(event, LocalLambdaContext("t", timeout_seconds=300, monotonic=clock.monotonic))
    return response, log_lines(stream)


def test_green_is_the_group_ecs_resolved_not_a_name(groups: dict[str, str]) -> None:
    calls: list[str] = []
    elbv2 = aws.client("elbv2", "us-west-2")
    elbv2.meta.events.register(
        f"provide-client-params.{elbv2.meta.service_model.service_id.hyphenize()}.DescribeTargetHealth",
        lambda params, **_: calls.append(params["TargetGroupArn"]),
    )
    response, lines = target_health({}, groups["green"])
    assert response == {"hookStatus": "SUCCEEDED"}
    assert calls == [groups["green"]]
    assert "all 2 target(s) of green's target group healthy" in lines[-1]["reason"]


def unhealthy_then_healthy(polls_unhealthy: int) -> Any:
    seen = {"n": 0}

    def respond() -> dict[str, Any]:
        seen["n"] += 1
        state = "unhealthy" if seen["n"] <= polls_unhealthy else "healthy"
        health = {"State": state}
        if state == "unhealthy":
            health |= {
                "Reason": "Target.ResponseCodeMismatch",
                "Description": "Health checks failed with 500",
            }
        return {
            "TargetHealthDescriptions": [
                {"Target": {"Id": "10.0.1.20", "Port": 8080}, "TargetHealth": health},
                {"Target": {"Id": "10.0.1.99", "Port": 8080}, "TargetHealth": {"State": "draining"}},
            ]
        }

    return respond


def test_waits_while_targets_are_unhealthy_and_passes_when_they_recover(groups: dict[str, str]) -> None:
    calls = answer(aws.client("elbv2", "us-west-2"), "DescribeTargetHealth", unhealthy_then_healthy(2))
    response, _ = target_health({"intervalSeconds": 2}, groups["green"])
    assert response == {"hookStatus": "SUCCEEDED"}
    assert len(calls) == 3  # the draining target never held it back


def test_still_unhealthy_at_the_timeout_fails_with_the_load_balancer_reason(groups: dict[str, str]) -> None:
    answer(aws.client("elbv2", "us-west-2"), "DescribeTargetHealth", unhealthy_then_healthy(10**6))
    response, lines = target_health({"timeoutSeconds": 20, "intervalSeconds": 5}, groups["green"])
    assert response == {"hookStatus": "FAILED"}
    assert "tg-green 10.0.1.20:8080 unhealthy (Target.ResponseCodeMismatch)" in lines[-1]["reason"]


def test_an_empty_group_is_not_healthy(groups: dict[str, str]) -> None:
    answer(aws.client("elbv2", "us-west-2"), "DescribeTargetHealth", lambda: {"TargetHealthDescriptions": []})
    response, lines = target_health({"timeoutSeconds": 5}, groups["green"])
    assert response == {"hookStatus": "FAILED"}
    assert "0 healthy target(s), need 1" in lines[-1]["reason"]


def test_explicit_target_groups_override_the_revision(groups: dict[str, str]) -> None:
    response, _ = target_health({"targetGroupArns": [groups["blue"]]}, "arn:aws:elasticloadbalancing:nowhere")
    assert response == {"hookStatus": "SUCCEEDED"}


def test_access_denied_names_the_permission(groups: dict[str, str]) -> None:
    fail(aws.client("elbv2", "us-west-2"), "DescribeTargetHealth", "AccessDenied", status=403)
    response, lines = target_health({}, groups["green"])
    assert response == {"hookStatus": "FAILED"}
    assert "AccessDenied calling elasticloadbalancing:DescribeTargetHealth" in lines[-1]["reason"]


def test_bad_settings(groups: dict[str, str]) -> None:
    response, lines = target_health({"targetGroupArns": "tg"}, groups["green"])
    assert response == {"hookStatus": "FAILED"}
    assert "hookDetails.targetHealth.targetGroupArns: expected an array, got string" in lines[-1]["reason"]
