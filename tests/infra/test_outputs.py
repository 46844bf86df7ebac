"""The CfnOutputs are the contract with ecspresso's templates (`cfn_output`)."""

from __future__ import annotations

import pytest

from .conftest import Synthesized

pytestmark = pytest.mark.slow

SEED_KEYS = {
    "BeforeInstallHookArn",
    "AfterInstallHookArn",
    "BeforeAllowTrafficHookArn",
    "AfterAllowTrafficHookArn",
    "EcsBlueGreenDeployRoleArn",
}
ECSPRESSO_KEYS = SEED_KEYS | {
    "EcsLoadBalancerRoleArn",
    "ClusterName",
    "ServiceName",
    "TaskFamily",
    "EcrRepositoryUri",
    "TaskExecutionRoleArn",
    "TaskRoleArn",
    "AppLogGroupName",
    "PrivateSubnet1Id",
    "PrivateSubnet2Id",
    "ServiceSecurityGroupId",
    "BlueTargetGroupArn",
    "GreenTargetGroupArn",
    "ProductionListenerRuleArn",
    "TestListenerRuleArn",
    "ProductionUrl",
    "TestUrl",
    "Http5xxAlarmName",
    "LatencyAlarmName",
    "NotificationTopicArn",
    "TaskCpuArchitecture",
    "ContainerPort",
    "Environment",
}


def test_outputs_are_exactly_the_keys_ecspresso_reads(any_app: Synthesized) -> None:
    assert set(any_app.outputs()) == ECSPRESSO_KEYS


def test_seed_outputs_point_at_the_hooks_and_the_hook_invoke_role(default_app: Synthesized) -> None:
    outputs = default_app.outputs()
    for key, module in [
        ("BeforeInstallHookArn", "before_install_hook"),
        ("AfterInstallHookArn", "after_install_hook"),
        ("BeforeAllowTrafficHookArn", "before_allow_traffic_hook"),
        ("AfterAllowTrafficHookArn", "after_allow_traffic_hook"),
    ]:
        function_id = default_app.logical_id(f"Hooks/{module}/Resource")
        assert outputs[key]["Value"] == {"Fn::GetAtt": [function_id, "Arn"]}
    role_id = default_app.logical_id("BlueGreenRoles/HookInvokeRole/Resource")
    assert outputs["EcsBlueGreenDeployRoleArn"]["Value"] == {"Fn::GetAtt": [role_id, "Arn"]}


def test_plain_value_outputs(default_app: Synthesized) -> None:
    outputs = default_app.outputs()
    assert {k: outputs[k]["Value"] for k in ("ServiceName", "TaskFamily", "TaskCpuArchitecture")} == {
        "ServiceName": "ecs-bg-app",
        "TaskFamily": "ecs-bg-app",
        "TaskCpuArchitecture": "ARM64",
    }
    assert outputs["ContainerPort"]["Value"] == "8080"
    assert outputs["Environment"]["Value"] == "dev"
