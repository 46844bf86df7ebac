"""The local CloudFormation's reads, answered from botocore's output shapes: DescribeStacks (the stack's
outputs with the listeners' local URLs) and ListExports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.parsers import QueryParser

from ecs_bg.local.cloudformation.api import CloudFormationApi
from ecs_bg.local.cloudformation.cloud import read_cloud
from ecs_bg.local.errors import AwsError
from tests.cloud import STACK, TEMPLATE, sample_cloud


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
    cloud = sample_cloud()
    api = CloudFormationApi(cloud)
    (stack,) = answer(api, "DescribeStacks", StackName=STACK)["Stacks"]
    values = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    template = json.loads(TEMPLATE.read_text())["Outputs"]
    assert set(values) == set(template)
    production, test = (
        (listener for listener in cloud.resources[0].listeners if listener.port == 80),
        (listener for listener in cloud.resources[0].listeners if listener.port == 10080),
    )
    assert values["ProductionUrl"] == f"http://127.0.0.1:{cloud.ports[next(production).arn]}"
    assert values["TestUrl"] == f"http://127.0.0.1:{cloud.ports[next(test).arn]}"
    assert values["ClusterName"] == "ecs-bg-dev"  # cdk.json's clusterName, resolved from the template
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    stack_arns = f"arn:aws:cloudformation:ap-northeast-1:123456789012:stack/{STACK}/"
    assert stack["StackId"].startswith(stack_arns)
    # By its id too, and unnamed (every stack).
    assert answer(api, "DescribeStacks", StackName=stack["StackId"])["Stacks"][0]["StackName"] == STACK
    assert len(answer(api, "DescribeStacks")["Stacks"]) == 1
    with pytest.raises(AwsError) as error:
        answer(api, "DescribeStacks", StackName="another")
    assert error.value.code == "ValidationError"
    assert error.value.message == "Stack with id another does not exist"


def test_list_exports_answers_each_export_in_botocores_shape(tmp_path: Path) -> None:
    assert answer(CloudFormationApi(sample_cloud()), "ListExports")["Exports"] == []  # it exports nothing
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "Cluster": {"Value": "orders", "Export": {"Name": "orders-ClusterName"}},
            "TopicArn": {"Value": {"Ref": "Topic"}},
        },
    }
    (tmp_path / "orders.template.json").write_text(json.dumps(template))
    (export,) = answer(CloudFormationApi(read_cloud(tmp_path, "eu-west-1")), "ListExports")["Exports"]
    assert (export["Name"], export["Value"]) == ("orders-ClusterName", "orders")
    assert export["ExportingStackId"].startswith(
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/orders/"
    )
