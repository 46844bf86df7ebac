"""The stack the local world stands for, and its outputs (what ``cfn_output`` and DescribeStacks read).

The outputs are the sample stack's (infrastructure/lib/constructs/ecspresso.py), with local values: the
hook functions' ARNs name the functions the local Lambda runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import LambdaFunction

ACCOUNT = "123456789012"


class StackOutputs:
    """The stack's outputs as the simulation has them (the ``cdk deploy --outputs-file`` keys)."""

    def __init__(self, region: str, env: str = "dev", functions: Iterable[LambdaFunction] = ()) -> None:
        prefix = f"arn:aws:%s:{region}:{ACCOUNT}:"
        elb = prefix % "elasticloadbalancing"
        self.values = {
            "ClusterName": f"ecs-bg-{env}",
            "ServiceName": "ecs-bg-app",
            "TaskFamily": "ecs-bg-app",
            "Environment": env,
            "ContainerPort": "8080",
            "TaskCpuArchitecture": "ARM64",
            "EcrRepositoryUri": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/ecs-bg-app-{env}",
            "AppLogGroupName": f"/ecs/ecs-bg-app-{env}",
            "TaskExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecs-bg-{env}-task-execution",
            "TaskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecs-bg-{env}-task",
            "EcsBlueGreenDeployRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecs-bg-{env}-hook-invoke",
            "EcsLoadBalancerRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecs-bg-{env}-load-balancers",
            "PrivateSubnet1Id": "subnet-0a1b2c3d4e5f60001",
            "PrivateSubnet2Id": "subnet-0a1b2c3d4e5f60002",
            "ServiceSecurityGroupId": "sg-0a1b2c3d4e5f60003",
            "BlueTargetGroupArn": f"{elb}targetgroup/ecs-bg-{env}-blue/0a1b2c3d4e5f6071",
            "GreenTargetGroupArn": f"{elb}targetgroup/ecs-bg-{env}-green/0a1b2c3d4e5f6072",
            "ProductionListenerRuleArn": f"{elb}listener-rule/app/ecs-bg-{env}/0a1b2c3d/0a1b2c3d4e5f6073/1",
            "TestListenerRuleArn": f"{elb}listener-rule/app/ecs-bg-{env}/0a1b2c3d/0a1b2c3d4e5f6074/2",
            "ProductionUrl": "http://127.0.0.1",
            "TestUrl": "http://127.0.0.1",
            "Http5xxAlarmName": f"ecs-bg-{env}-http-5xx",
            "LatencyAlarmName": f"ecs-bg-{env}-latency-p95",
            "NotificationTopicArn": f"{prefix % 'sns'}ecs-bg-{env}-notifications",
        }
        for function in functions:
            if function.output_key is not None:
                self.values[function.output_key] = f"{prefix % 'lambda'}function:{function.name}"

    def output(self, stack: str, key: str) -> str:
        if key not in self.values:
            raise DefinitionError(f"the simulated stack {stack} has no output {key}")
        return self.values[key]

    # The stack's exports, by name (what ListExports answers and cfn_export reads): none. Its outputs
    # (infrastructure/lib/constructs/ecspresso.py) are CfnOutputs without an export name, and
    # CloudFormation exports only an output that declares Export.Name (AWS CloudFormation User Guide,
    # "Outputs": docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html).
    # tests/infra/test_exports.py holds this to the synthesized template.
    exports: Mapping[str, str] = MappingProxyType({})

    def export(self, name: str) -> str:
        if name not in self.exports:
            raise DefinitionError(f"the simulated stack exports nothing named {name} (cfn_export `{name}`)")
        return self.exports[name]
