"""ecsReadiness against moto's ECS, with the service-deployment APIs moto lacks answered in-process."""

from __future__ import annotations

import io
from typing import Any

from ecs_bg.hooks import HookContext, LifecycleHook, Stage, aws
from ecs_bg.lifecycle.events import ServiceIds, lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.aws_world import EcsWorld
from tests.conftest import ClockThatActs, VirtualClock, log_lines
from tests.ecs_apis import ServiceDeploymentApis
from tests.faults import fail


def readiness(
    world: EcsWorld, settings: dict[str, Any], *, requested: int = 2, clock: VirtualClock | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    clock = clock or VirtualClock()
    revision = {"taskDefinition": world.task_definition_arn}
    ServiceDeploymentApis(world.ids, requested=requested, revision=revision).attach(
        aws.client("ecs", "us-west-2")
    )
    stream = io.StringIO()
    hook = LifecycleHook(f"readiness-{id(stream)}", clock=clock, log_stream=stream)

    @hook.stage(Stage.POST_SCALE_UP)
    def ready(ctx: HookContext) -> None:
        ctx.run_checks("ecsReadiness")

    event = lifecycle_event("POST_SCALE_UP", ids=world.ids, hook_details={"ecsReadiness": settings})
    response = hook.handler(
        event, LocalLambdaContext("readiness", timeout_seconds=300, monotonic=clock.monotonic)
    )
    return response, log_lines(stream)


def test_green_tasks_healthy_in_the_requested_number_pass(world: EcsWorld) -> None:
    for arn in world.start_service_tasks(2):
        world.set_task(arn, health="HEALTHY")
    response, lines = readiness(world, {})
    assert response == {"hookStatus": "SUCCEEDED"}
    assert "2 of 2 requested green task(s) running and healthy" in lines[-1]["reason"]


def test_waits_until_the_tasks_turn_healthy(world: EcsWorld) -> None:
    arns = world.start_service_tasks(2)
    clock = ClockThatActs(after=3, act=lambda: [world.set_task(a, health="HEALTHY") for a in arns])
    response, lines = readiness(world, {"intervalSeconds": 5}, clock=clock)
    assert response == {"hookStatus": "SUCCEEDED"}
    assert clock.sleeps == [5, 5, 5]
    assert [line["polls"] for line in lines if line["message"] == "wait over"] == [4]


def test_unhealthy_tasks_until_the_timeout_fail_naming_them(world: EcsWorld) -> None:
    arns = world.start_service_tasks(2)
    world.set_task(arns[0], health="HEALTHY")
    world.set_task(arns[1], health="UNHEALTHY")
    response, lines = readiness(world, {"timeoutSeconds": 30, "intervalSeconds": 10})
    assert response == {"hookStatus": "FAILED"}
    reason = lines[-1]["reason"]
    assert (
        "ecsReadiness: still not met after 30s: 1 of 2 requested green task(s) running and healthy, need 2"
        in reason
    )
    assert f"unhealthy: {arns[1].rsplit('/', 1)[-1]}" in reason


def test_blue_tasks_and_other_task_definitions_do_not_count(world: EcsWorld) -> None:
    blue_definition = world.ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "x", "memory": 512, "cpu": 256}]
    )["taskDefinition"]["taskDefinitionArn"]
    for arn in world.start_service_tasks(2, blue_definition):
        world.set_task(arn, health="HEALTHY")
    (green,) = world.start_service_tasks(1)
    world.set_task(green, health="HEALTHY")
    response, lines = readiness(world, {"timeoutSeconds": 10})
    assert response == {"hookStatus": "FAILED"}
    assert "1 of 2 requested green task(s)" in lines[-1]["reason"]


def test_min_healthy_percent(world: EcsWorld) -> None:
    (one, _) = world.start_service_tasks(2)
    world.set_task(one, health="HEALTHY")
    assert readiness(world, {"minHealthyPercent": 50})[0] == {"hookStatus": "SUCCEEDED"}


def test_without_a_container_health_check_running_is_ready(moto: None) -> None:
    from tests.aws_world import ecs_world

    unchecked = ecs_world(ServiceIds(), health_check=False)
    unchecked.start_service_tasks(2)
    assert readiness(unchecked, {})[0] == {"hookStatus": "SUCCEEDED"}


def test_throttling_is_retried(world: EcsWorld) -> None:
    for arn in world.start_service_tasks(2):
        world.set_task(arn, health="HEALTHY")
    throttle = fail(aws.client("ecs", "us-west-2"), "ListTasks", "ThrottlingException", times=2)
    assert readiness(world, {})[0] == {"hookStatus": "SUCCEEDED"}
    assert throttle.hits == 3


def test_access_denied_fails_naming_the_permission(world: EcsWorld) -> None:
    fail(aws.client("ecs", "us-west-2"), "ListTasks", "AccessDeniedException")
    response, lines = readiness(world, {})
    assert response == {"hookStatus": "FAILED"}
    assert (
        "AccessDeniedException calling ecs:ListTasks: the hook function's role lacks this permission"
        in (lines[-1]["reason"])
    )


def test_bad_settings_name_the_field(world: EcsWorld) -> None:
    response, lines = readiness(world, {"minHealthyPercent": 0})
    assert response == {"hookStatus": "FAILED"}
    assert "hookDetails.ecsReadiness.minHealthyPercent: 0 is out of range [1, 100]" in lines[-1]["reason"]
