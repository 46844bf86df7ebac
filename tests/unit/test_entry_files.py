"""The seed's four hook entry files, invoked as Lambda invokes them, with their default checks.

AWS is moto (ECS tasks, target groups, alarms) plus the service-deployment APIs moto lacks;
both listeners are a local HTTP server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from ecs_bg.hooks import Stage, aws
from ecs_bg.lifecycle.events import lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.aws_world import EcsWorld, put_alarm
from tests.conftest import ENTRY_FILES, LocalServer, load_entry
from tests.ecs_apis import ServiceDeploymentApis

SEED_STAGES = {
    "before_install": {Stage.PRE_SCALE_UP},
    "after_install": {Stage.POST_SCALE_UP},
    "before_allow_traffic": {Stage.TEST_TRAFFIC_SHIFT, Stage.POST_TEST_TRAFFIC_SHIFT},
    "after_allow_traffic": {Stage.POST_PRODUCTION_TRAFFIC_SHIFT},
}
ALARMS = ("ecs-bg-green-5xx-dev", "ecs-bg-green-latency-dev")


@dataclass
class Deployment:
    world: EcsWorld
    listeners: LocalServer
    cloudwatch: Any
    ecs_apis: ServiceDeploymentApis


@pytest.fixture
def deployment(world: EcsWorld, http_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    """Green running healthy behind its target group, quiet alarms, listeners answering 200."""
    for arn in world.start_service_tasks(2):
        world.set_task(arn, health="HEALTHY")
    ec2 = boto3.client("ec2", region_name="us-west-2")
    vpc = ec2.describe_vpcs()["Vpcs"][-1]["VpcId"]
    elbv2 = boto3.client("elbv2", region_name="us-west-2")
    green = elbv2.create_target_group(
        Name="tg-green", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=green, Targets=[{"Id": "10.0.1.20"}, {"Id": "10.0.1.21"}])
    revision = {
        "taskDefinition": world.task_definition_arn,
        "resolvedConfiguration": {"loadBalancers": [{"targetGroupArn": green}]},
    }
    ecs_apis = ServiceDeploymentApis(world.ids, revision=revision).attach(aws.client("ecs", "us-west-2"))
    cloudwatch = boto3.client("cloudwatch", region_name="us-west-2")
    for name in ALARMS:
        put_alarm(cloudwatch, name)
    monkeypatch.setenv("ECS_BG_ALARM_NAMES", ",".join(ALARMS))
    monkeypatch.setenv("ECS_BG_TEST_URL", http_server.url)
    monkeypatch.setenv("ECS_BG_PRODUCTION_URL", http_server.url)
    http_server.routes["/"] = (200, "ok")
    return Deployment(world, http_server, cloudwatch, ecs_apis)


def invoke(name: str, stage: Stage, **event_options: Any) -> dict[str, Any]:
    module = load_entry(name)
    context = LocalLambdaContext(f"ecs-bg-{name.replace('_', '-')}-dev", timeout_seconds=300)
    return module.handler(lifecycle_event(stage, **event_options), context)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ENTRY_FILES)
def test_each_entry_file_handles_exactly_its_seed_stages(name: str) -> None:
    assert load_entry(name).hook.stages == SEED_STAGES[name]


@pytest.mark.parametrize(
    ("name", "stage"), [(n, s) for n, stages in SEED_STAGES.items() for s in sorted(stages)]
)
def test_a_healthy_deployment_succeeds_at_every_stage(
    deployment: Deployment, name: str, stage: Stage
) -> None:
    assert invoke(name, stage) == {"hookStatus": "SUCCEEDED"}


@pytest.mark.parametrize("stage", [Stage.TEST_TRAFFIC_SHIFT, Stage.POST_TEST_TRAFFIC_SHIFT])
def test_before_allow_traffic_stops_a_green_that_answers_500(deployment: Deployment, stage: Stage) -> None:
    deployment.listeners.routes["/"] = (500, "boom")
    details = {"smokeTest": {"intervalSeconds": 0}}
    assert invoke("before_allow_traffic", stage, hook_details=details) == {"hookStatus": "FAILED"}
    assert deployment.listeners.hits["/"] == 3  # the default three attempts


def test_before_allow_traffic_is_tuned_from_hook_details(deployment: Deployment) -> None:
    deployment.listeners.routes["/health"] = (200, '{"status":"ok"}')
    details = {"smokeTest": {"path": "/health", "bodyContains": "ok", "attempts": 1}, "targetHealth": False}
    assert invoke("before_allow_traffic", Stage.POST_TEST_TRAFFIC_SHIFT, hook_details=details) == {
        "hookStatus": "SUCCEEDED"
    }
    assert deployment.listeners.hits == {"/health": 1}


def test_before_allow_traffic_lets_a_rollback_through_without_testing(deployment: Deployment) -> None:
    deployment.listeners.routes["/"] = (500, "green is broken, that is why we roll back")
    assert invoke("before_allow_traffic", Stage.TEST_TRAFFIC_SHIFT, rollback=True) == {
        "hookStatus": "SUCCEEDED"
    }
    assert deployment.listeners.hits == {}


def test_after_allow_traffic_fails_on_a_gate_alarm(deployment: Deployment) -> None:
    deployment.cloudwatch.set_alarm_state(AlarmName=ALARMS[0], StateValue="ALARM", StateReason="5xx above 5")
    assert invoke("after_allow_traffic", Stage.POST_PRODUCTION_TRAFFIC_SHIFT) == {"hookStatus": "FAILED"}


def test_after_allow_traffic_checks_production(deployment: Deployment) -> None:
    deployment.listeners.routes["/"] = (503, "unavailable")
    details = {"smokeTest": {"attempts": 1}}
    assert invoke("after_allow_traffic", Stage.POST_PRODUCTION_TRAFFIC_SHIFT, hook_details=details) == {
        "hookStatus": "FAILED"
    }


def test_after_install_waits_for_green_tasks(deployment: Deployment) -> None:
    (starting,) = deployment.world.start_service_tasks(1)
    deployment.world.set_task(starting, health="UNHEALTHY")
    deployment.ecs_apis.requested = 3  # two healthy, one unhealthy: not ready
    details = {"ecsReadiness": {"timeoutSeconds": 1, "intervalSeconds": 1}}
    assert invoke("after_install", Stage.POST_SCALE_UP, hook_details=details) == {"hookStatus": "FAILED"}


@pytest.mark.parametrize("name", ENTRY_FILES)
def test_a_stage_the_hook_does_not_serve_fails_clearly(name: str) -> None:
    foreign = next(s for s in (Stage.RECONCILE_SERVICE, Stage.PRE_SCALE_UP) if s not in SEED_STAGES[name])
    assert invoke(name, foreign) == {"hookStatus": "FAILED"}
