"""A local endpoint that answers ECS calls with a test's own handlers, over the wire, in a thread;
every other service (CloudWatch Logs, CloudWatch, ELBv2) is moto's, behind the same URL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ecs_bg.lifecycle.events import ServiceIds
from ecs_bg.local.endpoint import JsonAnswer, LocalAws
from ecs_bg.local.errors import AwsError

IDS = ServiceIds()


def hook(
    hook_id: str, status: str, target_type: str = "PAUSE", target_arn: str | None = None
) -> dict[str, Any]:
    detail = {"hookId": hook_id, "targetType": target_type, "status": status, "timeoutAction": "ROLLBACK"}
    return detail | ({"targetArn": target_arn} if target_arn else {})


class Ecs:
    """ECS's answers about one deployment of IDS's service, as a test sets them, or an error."""

    def __init__(self) -> None:
        self.hooks: list[dict[str, Any]] = []
        self.error: AwsError | None = None
        self.continued: list[dict[str, Any]] = []
        self.status = "IN_PROGRESS"
        self.stage = "POST_SCALE_UP"
        self.created_at = 1.0  # epoch seconds
        self.finished_at: float | None = None
        self.rollback_reason: str | None = None
        self.load_balancers: list[dict[str, Any]] = []  # the target revision's

    def answers(self) -> dict[str, JsonAnswer]:
        return {
            "ListServiceDeployments": self.list_service_deployments,
            "DescribeServiceDeployments": self.describe_service_deployments,
            "DescribeServiceRevisions": self.describe_service_revisions,
            "ContinueServiceDeployment": self.continue_service_deployment,
        }

    async def list_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.error:
            raise self.error
        if request["service"] != IDS.service:
            raise AwsError("ServiceNotFoundException", "Service not found.")
        brief = {
            "serviceDeploymentArn": IDS.deployment_arn,
            "status": self.status,
            "createdAt": self.created_at,
        }
        old = {"serviceDeploymentArn": IDS.deployment_arn + "0", "status": "SUCCESSFUL", "createdAt": 0.5}
        return {"serviceDeployments": [old, brief]}

    async def describe_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        assert request["serviceDeploymentArns"] == [IDS.deployment_arn]
        deployment: dict[str, Any] = {
            "serviceDeploymentArn": IDS.deployment_arn,
            "status": self.status,
            "lifecycleStage": self.stage,
            "createdAt": self.created_at,
            "startedAt": self.created_at,
            "targetServiceRevision": {"arn": IDS.green_arn, "requestedTaskCount": 2, "runningTaskCount": 1},
            "sourceServiceRevisions": [
                {"arn": IDS.blue_arn, "requestedTaskCount": 2, "runningTaskCount": 2,
                 "requestedProductionTrafficWeight": 100.0, "requestedTestTrafficWeight": 0.0}
            ],
            "lifecycleHookDetails": self.hooks,
        }  # fmt: skip
        if self.finished_at is not None:
            deployment["finishedAt"] = self.finished_at
        if self.rollback_reason is not None:
            deployment["rollback"] = {"reason": self.rollback_reason, "startedAt": self.created_at}
        return {"serviceDeployments": [deployment], "failures": []}

    async def describe_service_revisions(self, request: dict[str, Any]) -> dict[str, Any]:
        revisions = [
            {"serviceRevisionArn": arn, "taskDefinition": "td:1", "loadBalancers": self.load_balancers}
            for arn in request["serviceRevisionArns"]
        ]
        return {"serviceRevisions": revisions, "failures": []}

    async def continue_service_deployment(self, request: dict[str, Any]) -> dict[str, Any]:
        self.continued.append(request)
        return {"serviceDeploymentArn": IDS.deployment_arn}


@contextmanager
def serve(answers: Mapping[str, JsonAnswer]) -> Iterator[str]:
    """The endpoint's URL while it serves ``answers`` (operation name -> async handler)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    aws = LocalAws(dict(answers))
    asyncio.run_coroutine_threadsafe(aws.start(), loop).result(timeout=30)
    try:
        yield aws.url
    finally:
        asyncio.run_coroutine_threadsafe(aws.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
