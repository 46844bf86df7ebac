"""CloudFormation reads about the local stack, in botocore's shapes (``ecs_bg.local.query``).

DescribeStacks answers the stack's outputs (what ecspresso's ``cfn_output`` and
``ecs-bg render --endpoint-url`` read), with the listeners' real local URLs; ListExports the stack's
exports (``StackOutputs.exports``: none, as the stack declares none; what ``cfn_export`` reads).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from ecs_bg.local.cloudformation.stack import ACCOUNT, StackOutputs
from ecs_bg.local.endpoint import QueryAnswer
from ecs_bg.local.errors import AwsError
from ecs_bg.local.query import QueryService

STACK_NAME = (
    "zenn-ecs-cdk-ecspresso"  # ecspresso's files read this stack unless ECS_BG_STACK_NAME says otherwise
)


class CloudFormationApi:
    def __init__(
        self,
        outputs: StackOutputs,
        region: str,
        listener_urls: Callable[[], dict[str, str]],
        stack_name: str = STACK_NAME,
    ) -> None:
        """``listener_urls()``: the outputs the local listeners decide (``ProductionUrl``, ``TestUrl``),
        asked at each request, as the listeners' ports are known once they listen."""
        self.outputs = outputs
        self.listener_urls = listener_urls
        self.stack_name = stack_name
        stack = f"{stack_name}/0a1b2c3d-0000-4000-8000-000000000001"
        self.stack_id = f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{stack}"
        self.created = datetime.datetime.now(datetime.UTC)

    def answers(self) -> dict[str, QueryAnswer]:
        return QueryService(
            "cloudformation", {"DescribeStacks": self.describe_stacks, "ListExports": self.list_exports}
        ).answers()

    def describe_stacks(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("StackName", self.stack_name)
        if name not in (self.stack_name, self.stack_id):
            raise AwsError("ValidationError", f"Stack with id {name} does not exist")
        values = {**self.outputs.values, **self.listener_urls()}
        stack = {
            "StackId": self.stack_id,
            "StackName": self.stack_name,
            "CreationTime": self.created,
            "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in values.items()],
        }
        return {"Stacks": [stack]}

    def list_exports(self, request: dict[str, Any]) -> dict[str, Any]:
        exports = [
            {"ExportingStackId": self.stack_id, "Name": name, "Value": value}
            for name, value in self.outputs.exports.items()
        ]
        return {"Exports": exports}
