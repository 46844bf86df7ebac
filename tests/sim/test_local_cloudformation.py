"""The local CloudFormation's reads, answered from botocore's output shapes: DescribeStacks (the stack's
outputs with the listeners' local URLs) and ListExports."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.parsers import QueryParser

from ecs_bg.local.cloudformation.api import STACK_NAME, CloudFormationApi
from ecs_bg.local.cloudformation.stack import StackOutputs
from ecs_bg.local.errors import AwsError

URLS = {"ProductionUrl": "http://127.0.0.1:4001", "TestUrl": "http://127.0.0.1:4002"}


def answer(api: CloudFormationApi, action: str, **params: str) -> dict[str, Any]:
    """The operation's XML answer as botocore parses it for a client."""
    body = api.answers()[action]({"Action": action, "Version": "2010-05-15", **params})
    model = botocore.session.get_session().get_service_model("cloudformation")
    parsed: dict[str, Any] = QueryParser().parse(
        {"body": body.encode(), "headers": {}, "status_code": 200},
        model.operation_model(action).output_shape,
    )
    return parsed


def test_describe_stacks_answers_the_outputs_with_the_local_listeners_urls() -> None:
    outputs = StackOutputs("ap-northeast-1")
    api = CloudFormationApi(outputs, "ap-northeast-1", lambda: URLS)
    (stack,) = answer(api, "DescribeStacks", StackName=STACK_NAME)["Stacks"]
    values = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    assert values == {**outputs.values, **URLS}
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    stack_arns = f"arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{STACK_NAME}/"
    assert stack["StackId"].startswith(stack_arns)
    # By its id too, and unnamed (every stack: the one).
    assert answer(api, "DescribeStacks", StackName=stack["StackId"])["Stacks"][0]["StackName"] == STACK_NAME
    assert len(answer(api, "DescribeStacks")["Stacks"]) == 1
    with pytest.raises(AwsError) as error:
        answer(api, "DescribeStacks", StackName="another")
    assert error.value.code == "ValidationError"
    assert error.value.message == "Stack with id another does not exist"


def test_list_exports_answers_each_export_in_botocores_shape() -> None:
    # The stack exports nothing today; an export it declared would be answered like this.
    outputs = StackOutputs("ap-northeast-1")
    api = CloudFormationApi(outputs, "ap-northeast-1", lambda: URLS)
    assert answer(api, "ListExports")["Exports"] == []
    outputs.exports = {"ecs-bg-dev-ClusterName": "ecs-bg-dev"}
    (export,) = answer(api, "ListExports")["Exports"]
    assert (export["Name"], export["Value"]) == ("ecs-bg-dev-ClusterName", "ecs-bg-dev")
    assert export["ExportingStackId"].startswith("arn:aws:cloudformation:ap-northeast-1:")
