"""The ECS API as the simulated deployment answers it (what moto lacks), for hooks and ``ecs-bg``.

Service deployments, revisions and PAUSE hooks come from the lifecycle engine; the service's tasks
are the local app processes; RunTask (a migration) starts a local process too. Shapes follow
botocore's ECS model, so hooks and the CLI read them with unmodified boto3.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ecs_bg.hooks.ecs import DeploymentStatus, HookAction, StopType, TaskStatus, one_of
from ecs_bg.sim.events import ServiceIds
from ecs_bg.sim.local_aws import AwsError, JsonAnswer


class DeploymentView(Protocol):
    """What the control plane reads of the lifecycle engine."""

    status: DeploymentStatus
    stage: str | None
    rollback_reason: str | None

    def lifecycle_hook_details(self) -> list[dict[str, Any]]: ...

    def traffic(self) -> tuple[dict[str, float], dict[str, float]]: ...

    def continue_pause(self, hook_id: str, action: HookAction) -> list[Any]: ...

    def stop(self, rollback: bool) -> list[Any]: ...


class TaskSource(Protocol):
    """The service's tasks and one-off tasks, as DescribeTasks shows them."""

    def tasks(self) -> list[dict[str, Any]]: ...

    async def run_task(self, request: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class SimulatedEcs:
    ids: ServiceIds
    engine: DeploymentView
    revisions: dict[str, dict[str, Any]]  # service revision ARN -> ServiceRevision
    task_source: TaskSource
    counts: Callable[[str], tuple[int, int]]  # revision ARN -> (requested, running) task counts
    first_deployment: bool = False
    created_at: float = field(default_factory=time.time)
    # Runs an engine call and hands the actions it returns to the simulation (continue and stop
    # move the deployment on); by default the actions are dropped.
    apply: Callable[[Callable[[], list[Any]]], None] = lambda step: None
    # The engine's clock -> epoch seconds, for the wall-clock expiresAt an operator reads.
    to_epoch: Callable[[float], float] = lambda moment: moment

    def answers(self) -> dict[str, JsonAnswer]:
        return {
            "ListServiceDeployments": self.list_service_deployments,
            "DescribeServiceDeployments": self.describe_service_deployments,
            "DescribeServiceRevisions": self.describe_service_revisions,
            "ContinueServiceDeployment": self.continue_service_deployment,
            "StopServiceDeployment": self.stop_service_deployment,
            "ListTasks": self.list_tasks,
            "DescribeTasks": self.describe_tasks,
            "RunTask": self.run_task,
        }

    @property
    def cluster_arn(self) -> str:
        return f"arn:aws:ecs:{self.ids.region}:{self.ids.account}:cluster/{self.ids.cluster}"

    def _check_service(self, request: dict[str, Any]) -> None:
        service = request.get("service", "")
        if service not in (self.ids.service, self.ids.service_arn):
            raise AwsError("ServiceNotFoundException", f"Service not found: {service}")

    async def list_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        self._check_service(request)
        current = {
            "serviceDeploymentArn": self.ids.deployment_arn,
            "serviceArn": self.ids.service_arn,
            "clusterArn": self.cluster_arn,
            "createdAt": self.created_at,
            "startedAt": self.created_at,
            "targetServiceRevisionArn": self.ids.green_arn,
            "status": self.engine.status,
        }
        briefs = [current]
        if not self.first_deployment:
            previous = self.ids.deployment_arn.replace(self.ids.deployment_id, f"{self.ids.deployment_id}0")
            briefs.append(
                {
                    **current,
                    "serviceDeploymentArn": previous,
                    "targetServiceRevisionArn": self.ids.blue_arn,
                    "status": DeploymentStatus.SUCCESSFUL,
                    "createdAt": self.created_at - 3600,
                    "startedAt": self.created_at - 3600,
                    "finishedAt": self.created_at - 3000,
                }
            )
        statuses = request.get("status")
        if statuses:
            briefs = [brief for brief in briefs if brief["status"] in statuses]
        return {"serviceDeployments": briefs[: request.get("maxResults", 20)]}

    async def describe_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        found, failures = [], []
        for arn in request.get("serviceDeploymentArns", []):
            if arn == self.ids.deployment_arn:
                found.append(self._deployment())
            else:
                failures.append({"arn": arn, "reason": "MISSING"})
        return {"serviceDeployments": found, "failures": failures}

    def _deployment(self) -> dict[str, Any]:
        production, test = self.engine.traffic()

        def revision(arn: str) -> dict[str, Any]:
            requested, running = self.counts(arn)
            return {
                "arn": arn,
                "requestedTaskCount": requested,
                "runningTaskCount": running,
                "pendingTaskCount": max(0, requested - running),
                "requestedProductionTrafficWeight": float(production.get(arn, 0)),
                "requestedTestTrafficWeight": float(test.get(arn, 0)),
            }

        deployment: dict[str, Any] = {
            "serviceDeploymentArn": self.ids.deployment_arn,
            "serviceArn": self.ids.service_arn,
            "clusterArn": self.cluster_arn,
            "createdAt": self.created_at,
            "startedAt": self.created_at,
            "updatedAt": time.time(),
            "targetServiceRevision": revision(self.ids.green_arn),
            "sourceServiceRevisions": [] if self.first_deployment else [revision(self.ids.blue_arn)],
            "status": self.engine.status,
            "lifecycleHookDetails": [
                {**hook, "expiresAt": self.to_epoch(hook["expiresAt"])}
                for hook in self.engine.lifecycle_hook_details()
            ],
        }
        if self.engine.stage:
            deployment["lifecycleStage"] = self.engine.stage
        if self.engine.rollback_reason:
            deployment["statusReason"] = self.engine.rollback_reason
            deployment["rollback"] = {
                "reason": self.engine.rollback_reason,
                "serviceRevisionArn": self.ids.blue_arn,
            }
        return deployment

    async def describe_service_revisions(self, request: dict[str, Any]) -> dict[str, Any]:
        found, failures = [], []
        for arn in request.get("serviceRevisionArns", []):
            if arn in self.revisions:
                found.append(
                    {"serviceRevisionArn": arn, "serviceArn": self.ids.service_arn, **self.revisions[arn]}
                )
            else:
                failures.append({"arn": arn, "reason": "MISSING"})
        return {"serviceRevisions": found, "failures": failures}

    async def continue_service_deployment(self, request: dict[str, Any]) -> dict[str, Any]:
        self._check_deployment(request)
        action = request.get("action", HookAction.CONTINUE)
        if action not in tuple(HookAction):
            raise AwsError(
                "InvalidParameterException", f"action must be {one_of(HookAction)}, not {action!r}"
            )
        try:
            self.apply(lambda: self.engine.continue_pause(request["hookId"], HookAction(action)))
        except ValueError as error:
            raise AwsError("InvalidParameterException", str(error)) from None
        return {"serviceDeploymentArn": self.ids.deployment_arn}

    async def stop_service_deployment(self, request: dict[str, Any]) -> dict[str, Any]:
        self._check_deployment(request)
        try:
            self.apply(
                lambda: self.engine.stop(
                    rollback=request.get("stopType", StopType.ROLLBACK) == StopType.ROLLBACK
                )
            )
        except ValueError as error:
            raise AwsError("InvalidParameterException", str(error)) from None
        return {"serviceDeploymentArn": self.ids.deployment_arn}

    def _check_deployment(self, request: dict[str, Any]) -> None:
        if request.get("serviceDeploymentArn") != self.ids.deployment_arn:
            raise AwsError("ServiceDeploymentNotFoundException", "The service deployment does not exist.")

    async def list_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        desired = request.get("desiredStatus", TaskStatus.RUNNING)
        tasks = [task for task in self.task_source.tasks() if task["desiredStatus"] == desired]
        if request.get("serviceName"):
            tasks = [task for task in tasks if task.get("group") == f"service:{request['serviceName']}"]
        if request.get("startedBy"):
            tasks = [task for task in tasks if task.get("startedBy") == request["startedBy"]]
        return {"taskArns": [task["taskArn"] for task in tasks]}

    async def describe_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        by_arn = {task["taskArn"]: task for task in self.task_source.tasks()}
        wanted = request.get("tasks", [])
        return {
            "tasks": [by_arn[arn] for arn in wanted if arn in by_arn],
            "failures": [{"arn": arn, "reason": "MISSING"} for arn in wanted if arn not in by_arn],
        }

    async def run_task(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"tasks": [await self.task_source.run_task(request)], "failures": []}
