"""migration against moto's ECS: one task per deployment across invocations, exit codes, logs, errors."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from moto.ecs.models import ecs_backends

from ecs_bg.hooks import LifecycleHook, Stage, aws
from ecs_bg.hooks.checks.migration import client_token, started_by
from ecs_bg.hooks.event import parse_event
from ecs_bg.lifecycle.events import lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.aws_world import ACCOUNT, EcsWorld
from tests.conftest import VirtualClock, log_lines
from tests.ecs_apis import ServiceDeploymentApis, answer
from tests.faults import fail
from tests.readings import READINGS, Reading

_names = itertools.count()
COMMAND = ["python", "manage.py", "migrate"]
Between = Callable[[int], None]


@pytest.fixture
def green(world: EcsWorld) -> EcsWorld:
    """The green revision ECS describes: the world's task definition, on Fargate in its VPC."""
    revision = {
        "taskDefinition": world.task_definition_arn,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": world.network_configuration,
    }
    ServiceDeploymentApis(world.ids, revision=revision).attach(aws.client("ecs", world.ids.region))
    return world


class Deployment:
    """The migration hook invoked as ECS invokes it, on a virtual clock."""

    def __init__(self, world: EcsWorld | None, clock: VirtualClock) -> None:
        self.world, self.clock, self.stream = world, clock, io.StringIO()
        self.hook = LifecycleHook(f"migrate-{next(_names)}", clock=clock, log_stream=self.stream)
        self.hook.stage(Stage.PRE_SCALE_UP)(lambda ctx: ctx.run_checks("migration") and None)

    def invoke(self, details: dict[str, Any], *, timeout: float = 30) -> dict[str, Any]:
        context = LocalLambdaContext("migrate", timeout_seconds=timeout, monotonic=self.clock.monotonic)
        response = self.hook.handler(lifecycle_event(Stage.PRE_SCALE_UP, hook_details=details), context)
        assert context.get_remaining_time_in_millis() > 0, "the invocation overran its deadline"
        return response

    def run(
        self,
        settings: dict[str, Any],
        between: Between = lambda n: None,
        reading: Reading = READINGS["deep-merge"],
    ) -> list[dict[str, Any]]:
        """Invoke until a final answer: ECS calls back after callBackDelay, with the returned
        hookDetails as ``reading`` hands them on."""
        details: dict[str, Any] = {"migration": settings}
        responses = []
        for invocation in range(1, 30):
            responses.append(self.invoke(details))
            if responses[-1]["hookStatus"] != "IN_PROGRESS":
                return responses
            self.clock.sleep(responses[-1]["callBackDelay"])
            details = reading(details, responses[-1].get("hookDetails", {}))
            between(invocation)
        raise AssertionError("never finished")

    def tasks(self) -> list[Any]:
        assert self.world is not None
        return list(
            ecs_backends[ACCOUNT][self.world.ids.region].tasks.get(self.world.ids.cluster, {}).values()
        )

    def finish(self, *, exit_code: int | None, **stop: str) -> None:
        """The migration task exits (or never started its container: ``exit_code`` None)."""
        (task,) = self.tasks()
        assert self.world is not None
        self.world.set_task(task.task_arn, stopped=True, **stop)
        for container in task.containers:
            container.exitCode = exit_code  # moto's attribute; None means the container never ran

    def lines(self) -> list[dict[str, Any]]:
        return log_lines(self.stream)

    def reason(self) -> str:
        return str(self.lines()[-1]["reason"])


@pytest.fixture
def deployment(green: EcsWorld, clock: VirtualClock) -> Deployment:
    return Deployment(green, clock)


def test_one_task_across_three_invocations_then_exit_0_succeeds(
    deployment: Deployment, reading: Reading
) -> None:
    requests: list[dict[str, Any]] = []
    aws.client("ecs", "us-west-2").meta.events.register(
        "provide-client-params.ecs.RunTask", lambda params, **_: requests.append(dict(params))
    )
    responses = deployment.run(
        {"command": COMMAND, "environment": {"DJANGO_SETTINGS": "prod"}},
        between=lambda n: deployment.finish(exit_code=0) if n == 2 else None,
        reading=reading,
    )
    assert [r["hookStatus"] for r in responses] == ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"]
    assert responses[0]["callBackDelay"] == 5
    (task,) = deployment.tasks()
    assert len(requests) == 1
    event = parse_event(lifecycle_event(Stage.PRE_SCALE_UP))
    assert requests[0]["startedBy"] == started_by(event) == "ecs-bg-migrate-EZe5RNVLH6PPzHXINuP28"
    assert requests[0]["clientToken"] == client_token(event)
    assert len(client_token(event)) == 64
    assert requests[0]["launchType"] == "FARGATE"
    assert requests[0]["networkConfiguration"] == deployment.world.network_configuration
    assert task.overrides == {
        "containerOverrides": [
            {"name": "app", "command": COMMAND, "environment": [{"name": "DJANGO_SETTINGS", "value": "prod"}]}
        ]
    }
    task_id = task.task_arn.rsplit("/", 1)[-1]
    where = f"logs: CloudWatch Logs group /ecs/app, stream app/app/{task_id}"
    assert f"migration: task {task_id} exited 0; {where}" in deployment.reason()
    started = [line for line in deployment.lines() if line["message"] == "migration task started"]
    assert len(started) == 1
    assert started[0]["command"] == COMMAND
    logs = next(line for line in deployment.lines() if line["message"] == "migration task logs")
    assert (logs["logGroup"], logs["logStream"]) == ("/ecs/app", f"app/app/{task_id}")


@pytest.mark.parametrize("stopped", [False, True], ids=["still-running", "already-stopped"])
def test_a_lost_state_finds_the_started_task_instead_of_starting_another(
    deployment: Deployment, stopped: bool
) -> None:
    settings = {"migration": {"command": COMMAND}}
    assert deployment.invoke(settings)["hookStatus"] == "IN_PROGRESS"
    if stopped:
        deployment.finish(exit_code=0)
    # The IN_PROGRESS answer's hookDetails never arrive (say the invocation timed out): no state.
    second = deployment.invoke(settings, timeout=5 if not stopped else 30)
    assert second["hookStatus"] == ("SUCCEEDED" if stopped else "IN_PROGRESS")
    assert len(deployment.tasks()) == 1
    assert any(line["message"] == "migration task found, not started again" for line in deployment.lines())


def test_a_non_zero_exit_fails_with_the_exit_code_and_the_logs(deployment: Deployment) -> None:
    deployment.invoke({"migration": {"command": COMMAND}})
    deployment.finish(exit_code=1)
    responses = deployment.run({"command": COMMAND})
    assert responses[-1] == {"hookStatus": "FAILED"}
    assert len(deployment.tasks()) == 1  # the second run found the first task
    reason = deployment.reason()
    assert "failed with exit code 1" in reason
    assert "logs: CloudWatch Logs group /ecs/app, stream app/app/" in reason


def test_a_task_that_never_started_fails_with_ecs_stopped_reason(deployment: Deployment) -> None:
    responses = deployment.run(
        {"command": COMMAND},
        between=lambda n: deployment.finish(
            exit_code=None,
            stop_code="TaskFailedToStart",
            stopped_reason="CannotPullContainerError: pull access denied for app",
        ),
    )
    assert responses[-1] == {"hookStatus": "FAILED"}
    reason = deployment.reason()
    assert "stopped without an exit code: TaskFailedToStart; CannotPullContainerError" in reason
    assert "logs: CloudWatch Logs group /ecs/app" in reason


def test_a_migration_over_its_timeout_fails_and_names_the_running_task(deployment: Deployment) -> None:
    responses = deployment.run({"command": COMMAND, "timeoutSeconds": 60, "intervalSeconds": 5})
    assert responses[-1] == {"hookStatus": "FAILED"}
    assert len(responses) >= 2
    (task,) = deployment.tasks()
    assert f"still not met after 60s: task {task.id} is RUNNING" in deployment.reason()


def test_dry_run_lets_a_failed_migration_through(deployment: Deployment) -> None:
    deployment.invoke({"migration": {"command": COMMAND}})
    deployment.finish(exit_code=3)
    assert deployment.run({"command": COMMAND, "dryRun": True})[-1] == {"hookStatus": "SUCCEEDED"}
    assert any(line["message"].startswith("dryRun: the check would") for line in deployment.lines())


def test_a_container_the_task_definition_lacks_fails_before_any_task_starts(deployment: Deployment) -> None:
    assert deployment.run({"command": COMMAND, "containerName": "worker"})[-1] == {"hookStatus": "FAILED"}
    assert deployment.tasks() == []
    assert "task definition app:1 has no container 'worker' (containers: app)" in deployment.reason()


def test_access_denied_on_run_task_fails_naming_the_permission(deployment: Deployment) -> None:
    fail(aws.client("ecs", "us-west-2"), "RunTask", "AccessDeniedException")
    assert deployment.run({"command": COMMAND})[-1] == {"hookStatus": "FAILED"}
    assert "AccessDeniedException calling ecs:RunTask: the hook function's role lacks" in deployment.reason()


def test_run_task_placing_nothing_fails_with_ecs_reason(deployment: Deployment) -> None:
    failure = {"arn": "arn:aws:ecs:us-west-2:123456789012:cluster/my-cluster", "reason": "RESOURCE:MEMORY"}
    answer(aws.client("ecs", "us-west-2"), "RunTask", lambda: {"tasks": [], "failures": [failure]})
    assert deployment.run({"command": COMMAND})[-1] == {"hookStatus": "FAILED"}
    assert "migration: RunTask started no task: RESOURCE:MEMORY" in deployment.reason()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "hookDetails.migration.command: missing (required)"),
        ({"command": []}, "hookDetails.migration: command must list the program"),
        ({"command": "migrate"}, "hookDetails.migration.command: expected an array"),
        ({"command": COMMAND, "containerNmae": "app"}, "hookDetails.migration.containerNmae: unknown"),
        (
            {"command": COMMAND, "timeoutSeconds": 0},
            "hookDetails.migration.timeoutSeconds: 0 is out of range",
        ),
        (
            {"command": COMMAND, "timeoutSeconds": 10, "intervalSeconds": 60},
            "intervalSeconds must not exceed timeoutSeconds",
        ),
        (
            {"command": COMMAND, "environment": {"K": 1}},
            "hookDetails.migration.environment.K: expected a string",
        ),
    ],
)
def test_bad_configuration_fails_before_any_aws_call(
    moto: None, clock: VirtualClock, settings: dict[str, Any], message: str
) -> None:
    calls: list[str] = []
    aws.client("ecs", "us-west-2").meta.events.register(
        "before-call.ecs", lambda model, **_: calls.append(model.name)
    )
    deployment = Deployment(None, clock)
    assert deployment.run(settings)[-1] == {"hookStatus": "FAILED"}
    assert message in deployment.reason()
    assert calls == []
