"""The optional pipeline (context pipeline=true): build for the task's architecture, ecspresso deploy."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecs_bg.deploy.ecspresso_release import ECSPRESSO_RELEASE

from .conftest import Synthesized
from .test_iam import (
    ECS_PREFIX,
    SERVICE,
    _as_list,
    _joined,
    _resources_by_action,
    _statements,
    assert_service_deployment_reads,
)

pytestmark = pytest.mark.slow


def test_no_pipeline_by_default(default_app: Synthesized) -> None:
    assert default_app.resources("AWS::CodePipeline::Pipeline") == {}
    assert default_app.resources("AWS::CodeBuild::Project") == {}


def test_pipeline_v2_from_the_codestar_connection(variant_app: Synthesized) -> None:
    [pipeline] = variant_app.resources("AWS::CodePipeline::Pipeline").values()
    assert pipeline["Properties"]["PipelineType"] == "V2"
    source, deploy = pipeline["Properties"]["Stages"]
    [action] = source["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert action["Configuration"] == {
        "ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/example",
        "FullRepositoryId": "example-org/example-app",
        "BranchName": "release",
    }
    assert deploy["Actions"][0]["ActionTypeId"]["Provider"] == "CodeBuild"


def _project(app: Synthesized) -> dict[str, Any]:
    return app.resource(app.logical_id("Pipeline/BuildAndDeploy/Resource"))["Properties"]


def test_build_runs_natively_on_the_task_architecture_and_deploys(variant_app: Synthesized) -> None:
    project = _project(variant_app)
    assert project["Environment"]["Type"] == "ARM_CONTAINER"  # TaskCpuArchitecture ARM64
    assert project["Environment"]["PrivilegedMode"] is True
    variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert variables["IMAGE_PLATFORM"] == "linux/arm64"
    commands = [
        c
        for phase in json.loads(project["Source"]["BuildSpec"])["phases"].values()
        for c in phase["commands"]
    ]
    release = f"https://github.com/kayac/ecspresso/releases/download/v{ECSPRESSO_RELEASE}"
    assert f"curl -fsSLO {release}/ecspresso_{ECSPRESSO_RELEASE}_linux_arm64.tar.gz" in commands
    assert "sha256sum --check --ignore-missing checksums.txt" in commands
    # tests/infra/test_buildspec.py runs these in bash; here, only their order.
    assert commands[-3:] == [
        'export DEPLOY_STARTED="$(date -u -d "-60 seconds" +%Y-%m-%dT%H:%M:%SZ)"',
        "ecspresso deploy --config ecspresso/ecspresso.yml --no-wait",
        ".venv/bin/ecs-bg watch --config ecspresso/ecspresso.yml --plain --timeout 5400"
        ' --started-after "$DEPLOY_STARTED"',
    ]
    # CodeBuild ends the build after its timeout; the watch gives up (a failed build) before.
    assert project["TimeoutInMinutes"] == 120


def test_deploy_role_holds_what_ecspresso_deploy_calls(variant_app: Synthesized) -> None:
    role_path = "Pipeline/BuildAndDeploy/Role"
    statements = _statements(variant_app, role_path)
    by_action = _resources_by_action(statements)
    for action in ("ecs:CreateService", "ecs:UpdateService", "ecs:DescribeServices"):
        assert by_action[action] == [SERVICE]
    assert_service_deployment_reads(by_action)
    assert by_action["ecs:RegisterTaskDefinition"] == [f"{ECS_PREFIX}task-definition/ecs-bg-app:*"]
    assert by_action["ecs:DescribeTaskDefinition"] == ["*"]
    assert by_action["ecr:GetAuthorizationToken"] == ["*"]
    assert by_action["cloudformation:DescribeStacks"] == ["<AWS::StackId>"]
    repository = f"<{variant_app.logical_id('Ecs/Repository/Resource')}.Arn>"
    for action in (
        "ecr:PutImage",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:DescribeImages",  # a retry finds its commit's image already pushed
    ):
        assert by_action[action] == [repository]

    def role(path: str) -> str:
        return f"<{variant_app.logical_id(f'{path}/Resource')}.Arn>"

    pass_role = {
        s["Condition"]["StringEquals"]["iam:PassedToService"]: sorted(
            _joined(r) for r in _as_list(s["Resource"])
        )
        for s in statements
        if s["Action"] == "iam:PassRole"
    }
    assert pass_role == {
        "ecs-tasks.amazonaws.com": sorted([role("Ecs/TaskRole"), role("Ecs/TaskExecutionRole")]),
        "ecs.amazonaws.com": sorted(
            [role("BlueGreenRoles/HookInvokeRole"), role("BlueGreenRoles/LoadBalancerRole")]
        ),
    }
    # Nothing else but CodeBuild's own logs, reports and the pipeline's artifact bucket.
    expected_other = {"logs:", "codebuild:", "s3:"}
    others = {a for a in by_action if not a.startswith(("ecs:", "ecr:", "iam:PassRole", "cloudformation:"))}
    assert {a.split(":")[0] + ":" for a in others} <= expected_other


def test_source_action_may_use_the_connection_under_either_service_prefix(variant_app: Synthesized) -> None:
    [pipeline] = variant_app.resources("AWS::CodePipeline::Pipeline").values()
    [action] = pipeline["Properties"]["Stages"][0]["Actions"]
    role_id = action["RoleArn"]["Fn::GetAtt"][0]
    assert variant_app.resource(role_id)["Metadata"]["aws:cdk:path"].endswith("Pipeline/SourceRole/Resource")
    by_action = _resources_by_action(_statements(variant_app, "Pipeline/SourceRole"))
    assert by_action["codeconnections:UseConnection"] == [
        "arn:aws:codeconnections:us-east-1:123456789012:connection/example"
    ]
    assert by_action["codestar-connections:UseConnection"] == [
        "arn:aws:codestar-connections:us-east-1:123456789012:connection/example"
    ]
    bucket = f"<{variant_app.logical_id('Pipeline/Pipeline/ArtifactsBucket/Resource')}.Arn>"
    assert by_action["s3:PutObject"] == [bucket, f"{bucket}/*"]
    trust = variant_app.resource(role_id)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {
                "AWS": {"Fn::GetAtt": [variant_app.logical_id("Pipeline/Pipeline/Role/Resource"), "Arn"]}
            },
        }
    ]
