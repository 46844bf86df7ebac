from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.outputs import CloudFormationOutputs, OutputsFile
from ecs_bg.deploy.template import LookupFailed

STACK_TEMPLATE = {
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    "Outputs": {
        "ClusterName": {"Value": "ecs-bg-dev"},
        "TopicArn": {"Value": {"Ref": "Topic"}, "Export": {"Name": "ecs-bg-topic"}},
    },
}


def test_outputs_file_reads_the_cdk_format(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"stack": {"ClusterName": "c", "ContainerPort": 8080}}))
    source = OutputsFile(path)
    assert source.output("stack", "ClusterName") == "c"
    assert source.output("stack", "ContainerPort") == "8080"
    with pytest.raises(LookupFailed, match="stack stack has no output Missing"):
        source.output("stack", "Missing")
    with pytest.raises(LookupFailed, match="stack other is not in"):
        source.output("other", "ClusterName")
    with pytest.raises(LookupFailed, match="carry no exports"):
        source.export("anything")


def test_outputs_file_rejects_other_shapes(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps([{"OutputKey": "a", "OutputValue": "b"}]))
    with pytest.raises(DefinitionError, match="not a cdk outputs file"):
        OutputsFile(path)


def test_cloudformation_outputs_and_exports(moto: None) -> None:
    client = boto3.client("cloudformation", region_name="ap-northeast-1")
    client.create_stack(StackName="zenn-ecs-cdk-ecspresso", TemplateBody=json.dumps(STACK_TEMPLATE))
    source = CloudFormationOutputs(client)
    assert source.output("zenn-ecs-cdk-ecspresso", "ClusterName") == "ecs-bg-dev"
    assert source.export("ecs-bg-topic").startswith("arn:aws:sns:ap-northeast-1:")
    with pytest.raises(LookupFailed, match="has no output Nope"):
        source.output("zenn-ecs-cdk-ecspresso", "Nope")
    with pytest.raises(LookupFailed, match="cannot describe stack missing-stack"):
        source.output("missing-stack", "ClusterName")
    with pytest.raises(LookupFailed, match="no CloudFormation export named nope"):
        source.export("nope")
