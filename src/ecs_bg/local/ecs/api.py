"""ECS's API over the local control plane: each request is read and checked against botocore's ECS
model before any state changes, each answer written from the operation's output shape, each error
answered with ECS's code and HTTP 400.

A body that is not a JSON object, or a member of the wrong JSON type, is a SerializationException,
as AWS answers it; a value the model does not admit (a missing required member, one under its
minimum) is an InvalidParameterException. What the model cannot say (RunTask's count of 1 to 10, a
task definition of at most 64 KiB) the backend checks, also before it changes anything.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botocore.model import OperationModel

from ecs_bg.deploy.model import ecs_model
from ecs_bg.local import awsjson
from ecs_bg.local.ecs.errors import (
    InvalidParameterException,
    SerializationException,
    UnknownOperationException,
)
from ecs_bg.local.errors import AwsError

TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."  # X-Amz-Target: <prefix><operation>
CONTENT_TYPE = "application/x-amz-json-1.1"
Operation = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class EcsApi:
    def __init__(self, operations: Mapping[str, Operation]) -> None:
        """``operations``: what this ECS serves, by API operation name (CreateService, ...)."""
        self.operations = operations

    async def handle(self, operation: str, body: bytes) -> tuple[int, bytes]:
        """The HTTP status and body of the answer to ``operation`` with ``body``."""
        try:
            model = self._model(operation)
            try:
                request = awsjson.read_request(body, model)
            except awsjson.RequestError as error:
                kind = SerializationException if error.kind == "serialization" else InvalidParameterException
                raise kind(error.message) from None
            result = await self.operations[operation](request)
            return 200, awsjson.write_answer(result, model)
        except AwsError as error:  # ECS's own (errors.EcsError), or any a test's fake ECS raises
            return error.status, json.dumps({"__type": error.code, "message": error.message}).encode()

    def _model(self, operation: str) -> OperationModel:
        if operation not in self.operations:
            known = operation in ecs_model().operation_names
            why = "is not served by this local ECS" if known else "is not an ECS operation"
            raise UnknownOperationException(f"{operation} {why}")
        return ecs_model().operation_model(operation)
