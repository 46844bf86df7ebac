"""A local endpoint that answers ECS calls with a test's own handlers, over the wire, in a thread;
every other service (CloudWatch Logs, CloudWatch, ELBv2) is moto's, behind the same URL.

One endpoint serves every test of a test process (an xdist worker): its moto server takes half a
second of CPU to start, and each service's first request there imports that service (EC2's, a second
more). Each ``serve`` hands it the test's own answers and empties moto (its reset API), so a test
sees nothing of the one before; ``close`` stops it when the session ends.
"""

from __future__ import annotations

import asyncio
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ecs_bg.lifecycle.events import ServiceIds
from ecs_bg.local.endpoint import JsonAnswer, LocalAws
from ecs_bg.local.errors import AwsError
from tests.sigv4 import signed_request

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


class _Endpoint:
    """The test process's one LocalAws, on an event loop in a thread of its own, once started."""

    def __init__(self) -> None:
        self.answers: dict[str, JsonAnswer] = {}  # the serving test's; LocalAws reads it per request
        self._aws: LocalAws | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def started(self) -> LocalAws:
        if self._aws is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
            self._thread.start()
            aws = LocalAws(self.answers)
            asyncio.run_coroutine_threadsafe(aws.start(), self._loop).result(timeout=30)
            self._aws = aws
        return self._aws

    def close(self) -> None:
        if self._aws is None or self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._aws.stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
        self._aws = self._loop = self._thread = None


_ENDPOINT = _Endpoint()


@contextmanager
def serve(answers: Mapping[str, JsonAnswer]) -> Iterator[str]:
    """The endpoint's URL while it serves ``answers`` (operation name -> async handler) and an empty moto."""
    aws = _ENDPOINT.started()
    _ENDPOINT.answers.update(answers)
    aws.calls.clear()
    reset = signed_request("POST", f"{aws.url}/moto-api/reset")  # the endpoint refuses unsigned requests
    urllib.request.urlopen(reset, timeout=60).close()  # waits for moto's first start, too
    try:
        yield aws.url
    finally:
        _ENDPOINT.answers.clear()


def close() -> None:
    """Stop the endpoint and its moto server (the end of a test session)."""
    _ENDPOINT.close()
