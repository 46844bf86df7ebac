"""The simulated ECS answers, checked against botocore's ECS model and driven by the real engine."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

from ecs_bg.hooks.event import Stage
from ecs_bg.sim.control_plane import SimulatedEcs
from ecs_bg.sim.engine import Engine
from ecs_bg.sim.events import ServiceIds
from ecs_bg.sim.local_aws import AwsError
from ecs_bg.sim.plan import DeploymentSpec, HookSpec
from ecs_bg.sim.tasks import LocalTasks

IDS = ServiceIds()
MODEL = botocore.session.get_session().get_service_model("ecs")


def check(operation: str, response: dict[str, Any]) -> dict[str, Any]:
    validate_parameters(response, MODEL.operation_model(operation).output_shape)
    return response


@pytest.fixture
def plane() -> tuple[SimulatedEcs, list[Any]]:
    now = [0.0]
    spec = DeploymentSpec(
        ids=IDS,
        hooks=(
            HookSpec("gate", "PAUSE", (Stage.PRE_SCALE_UP,), timeout_minutes=30, timeout_action="ROLLBACK"),
        ),
    )
    engine = Engine(spec, lambda: now[0])
    actions: list[Any] = list(engine.start())
    revisions = {
        IDS.green_arn: {"taskDefinition": "arn:aws:ecs:us-west-2:123456789012:task-definition/app:2"}
    }
    tasks = LocalTasks(IDS, lambda url: "healthy", command=[sys.executable, "-c", "raise SystemExit(3)"])
    ecs = SimulatedEcs(
        IDS, engine, revisions, tasks, counts=lambda arn: (2, 1), apply=lambda step: actions.extend(step())
    )
    return ecs, actions


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_deployments_and_the_waiting_pause_hook(plane: tuple[SimulatedEcs, list[Any]]) -> None:
    ecs, _ = plane
    listed = check("ListServiceDeployments", run(ecs.list_service_deployments({"service": IDS.service})))
    assert [d["status"] for d in listed["serviceDeployments"]] == ["IN_PROGRESS", "SUCCESSFUL"]
    described = check(
        "DescribeServiceDeployments",
        run(ecs.describe_service_deployments({"serviceDeploymentArns": [IDS.deployment_arn, "arn:nope"]})),
    )
    (deployment,) = described["serviceDeployments"]
    assert deployment["lifecycleStage"] == "PRE_SCALE_UP"
    assert deployment["targetServiceRevision"]["requestedTaskCount"] == 2
    (hook,) = deployment["lifecycleHookDetails"]
    assert (hook["hookId"], hook["status"], hook["timeoutAction"]) == (
        "ecs-pause-1",
        "AWAITING_ACTION",
        "ROLLBACK",
    )
    assert described["failures"] == [{"arn": "arn:nope", "reason": "MISSING"}]
    revisions = check(
        "DescribeServiceRevisions",
        run(ecs.describe_service_revisions({"serviceRevisionArns": [IDS.green_arn]})),
    )
    assert revisions["serviceRevisions"][0]["taskDefinition"].endswith("app:2")


def test_continue_moves_the_engine_on_and_a_second_continue_is_refused(
    plane: tuple[SimulatedEcs, list[Any]],
) -> None:
    ecs, actions = plane
    before = len(actions)
    request = {"serviceDeploymentArn": IDS.deployment_arn, "hookId": "ecs-pause-1", "action": "CONTINUE"}
    check("ContinueServiceDeployment", run(ecs.continue_service_deployment(request)))
    assert len(actions) > before  # SCALE_UP's work handed to the simulation
    assert ecs.engine.stage == "SCALE_UP"
    with pytest.raises(AwsError) as refused:
        run(ecs.continue_service_deployment(request))
    assert refused.value.code == "InvalidParameterException"


def test_stop_with_rollback(plane: tuple[SimulatedEcs, list[Any]]) -> None:
    ecs, _ = plane
    check(
        "StopServiceDeployment",
        run(ecs.stop_service_deployment({"serviceDeploymentArn": IDS.deployment_arn})),
    )
    assert ecs.engine.status.startswith("ROLLBACK")
    with pytest.raises(AwsError) as refused:
        run(ecs.stop_service_deployment({"serviceDeploymentArn": "arn:other"}))
    assert refused.value.code == "ServiceDeploymentNotFoundException"


def test_unknown_service_is_refused(plane: tuple[SimulatedEcs, list[Any]]) -> None:
    ecs, _ = plane
    with pytest.raises(AwsError) as refused:
        run(ecs.list_service_deployments({"service": "other"}))
    assert refused.value.code == "ServiceNotFoundException"


def test_run_task_runs_the_command_and_reports_its_exit_code(plane: tuple[SimulatedEcs, list[Any]]) -> None:
    ecs, _ = plane

    async def migrate() -> dict[str, Any]:
        started = check(
            "RunTask",
            await ecs.run_task(
                {"taskDefinition": "td:2", "startedBy": "ecs-bg-migrate-1", "cluster": IDS.cluster}
            ),
        )
        arn = started["tasks"][0]["taskArn"]
        for _ in range(100):
            listed = await ecs.list_tasks({"startedBy": "ecs-bg-migrate-1", "desiredStatus": "STOPPED"})
            if listed["taskArns"]:
                break
            await asyncio.sleep(0.05)
        described = check("DescribeTasks", await ecs.describe_tasks({"tasks": [arn]}))
        await ecs.task_source.close()  # type: ignore[attr-defined]
        return described["tasks"][0]

    task = run(migrate())
    assert task["lastStatus"] == "STOPPED"
    assert task["containers"][0]["exitCode"] == 3
