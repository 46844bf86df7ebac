"""CloudFormation reads about the local stacks, in botocore's shapes (``ecs_bg.local.query``).

DescribeStacks answers each stack the user's templates hold, with its outputs made local (what
ecspresso's ``cfn_output`` and ``ecs-bg render --endpoint-url`` read); ListExports their exports (what
``cfn_export`` reads).
"""

from __future__ import annotations

import datetime
from typing import Any

from ecs_bg.local.cloudformation.cloud import LocalCloud
from ecs_bg.local.endpoint import QueryAnswer
from ecs_bg.local.errors import AwsError
from ecs_bg.local.query import QueryService


class CloudFormationApi:
    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.created = datetime.datetime.now(datetime.UTC)

    def answers(self) -> dict[str, QueryAnswer]:
        return QueryService(
            "cloudformation", {"DescribeStacks": self.describe_stacks, "ListExports": self.list_exports}
        ).answers()

    def describe_stacks(self, request: dict[str, Any]) -> dict[str, Any]:
        wanted = request.get("StackName")
        stacks = [s for s in self.cloud.resources if wanted is None or wanted in (s.stack_name, s.stack_id)]
        if wanted is not None and not stacks:
            raise AwsError("ValidationError", f"Stack with id {wanted} does not exist")
        return {
            "Stacks": [
                {
                    "StackId": stack.stack_id,
                    "StackName": stack.stack_name,
                    "CreationTime": self.created,
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [
                        {"OutputKey": key, "OutputValue": value}
                        for key, value in self.cloud.outputs(stack.stack_name).items()
                    ],
                }
                for stack in stacks
            ]
        }

    def list_exports(self, request: dict[str, Any]) -> dict[str, Any]:
        exports = [
            {"ExportingStackId": stack.stack_id, "Name": name, "Value": self.cloud.local(value)}
            for stack in self.cloud.resources
            for name, value in stack.exports.items()
        ]
        return {"Exports": exports}
