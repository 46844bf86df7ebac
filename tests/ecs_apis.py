"""ECS's service-deployment APIs, which moto lacks, answered in-process for a client.

Every request is checked against botocore's ECS model when the client serializes it, and every
answer is checked against the operation's output shape, as botocore's Stubber does; all other
operations go on to moto.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

from ecs_bg.lifecycle.events import ServiceIds


@dataclass
class ServiceDeploymentApis:
    """ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions for one service."""

    ids: ServiceIds
    requested: int = 2
    running: int = 2
    previous_deployments: int = 1
    revision: dict[str, Any] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def attach(self, client: Any) -> ServiceDeploymentApis:
        for operation in ("ListServiceDeployments", "DescribeServiceDeployments", "DescribeServiceRevisions"):
            client.meta.events.register(f"before-call.ecs.{operation}", self._answer)
        return self

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = json.loads(params["body"] or b"{}")
        self.calls.append(model.name)
        response: dict[str, Any] = getattr(self, f"_{model.name}")(request)
        validate_parameters(response, model.output_shape)
        return AWSResponse(None, 200, {}, None), response

    def _ListServiceDeployments(self, request: dict[str, Any]) -> dict[str, Any]:
        ids = self.ids
        summaries = [
            {
                "serviceDeploymentArn": ids.deployment_arn.replace(ids.deployment_id, f"d{i}"),
                "serviceArn": ids.service_arn,
                "status": "SUCCESSFUL" if i else "IN_PROGRESS",
                "targetServiceRevisionArn": ids.green_arn,
                "createdAt": datetime(2026, 11, 26, tzinfo=UTC),
            }
            for i in range(self.previous_deployments + 1)
        ]
        return {"serviceDeployments": summaries[: request.get("maxResults", 20)]}

    def _DescribeServiceDeployments(self, request: dict[str, Any]) -> dict[str, Any]:
        assert request["serviceDeploymentArns"] == [self.ids.deployment_arn]
        return {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": self.ids.deployment_arn,
                    "serviceArn": self.ids.service_arn,
                    "status": "IN_PROGRESS",
                    "targetServiceRevision": {
                        "arn": self.ids.green_arn,
                        "requestedTaskCount": self.requested,
                        "runningTaskCount": self.running,
                        "pendingTaskCount": max(0, self.requested - self.running),
                    },
                }
            ],
            "failures": [],
        }

    def _DescribeServiceRevisions(self, request: dict[str, Any]) -> dict[str, Any]:
        if request["serviceRevisionArns"] != [self.ids.green_arn]:
            return {
                "serviceRevisions": [],
                "failures": [{"arn": request["serviceRevisionArns"][0], "reason": "MISSING"}],
            }
        return {
            "serviceRevisions": [{"serviceRevisionArn": self.ids.green_arn, **self.revision}],
            "failures": [],
        }


def answer(client: Any, operation: str, respond: Any) -> list[int]:
    """Answer ``operation`` on ``client`` with ``respond()``, validated against the operation's output shape.

    For states moto cannot produce (an unhealthy target, say). Returns a list counting the calls.
    """
    calls: list[int] = []

    def handler(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        calls.append(1)
        response = respond()
        validate_parameters(response, model.output_shape)
        return AWSResponse(None, 200, {}, None), response

    client.meta.events.register(
        f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}", handler
    )
    return calls
