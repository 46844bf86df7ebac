"""The stack the local world stands for, and its outputs (what ``cfn_output`` and DescribeStacks read).

The outputs are the sample stack's (infrastructure/lib/constructs/ecspresso.py), with local values: the
hook functions' ARNs name the functions the local Lambda runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import LambdaFunction
from ecs_bg.local.cloudwatch.metric_alarms import AlarmDefinition, Dimension, Metric, MetricQuery, MetricStat

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


def gate_alarms(
    outputs: Mapping[str, str], threshold_5xx: float, latency_p95_seconds: float
) -> dict[str, AlarmDefinition]:
    """The stack's two gate alarms as infrastructure/lib/constructs/alarms.py defines them (a test holds
    them to the synthesized template): the 5xx alarm sums both target groups' 5xx and the load
    balancer's own, >= the threshold in 2 of 2 minutes; the latency alarm is the higher p95 of the two
    groups, > the threshold in 2 of 3 minutes; missing data does not breach."""
    balancer = load_balancer_dimension(outputs)
    groups = [outputs["BlueTargetGroupArn"], outputs["GreenTargetGroupArn"]]

    def stat(query: str, name: str, stat: str, group: str | None) -> MetricQuery:
        dimensions: tuple[Dimension, ...] = (Dimension("LoadBalancer", balancer),)
        if group is not None:
            dimensions = (Dimension("TargetGroup", group.split(":", 5)[5]), *dimensions)
        metric = Metric(name, dimensions=dimensions)
        return MetricQuery(query, MetricStat(metric, stat), return_data=False)

    errors = [stat(f"e{i}", "HTTPCode_Target_5XX_Count", "Sum", g) for i, g in enumerate(groups)]
    errors.append(stat("elb", "HTTPCode_ELB_5XX_Count", "Sum", None))
    latency = [stat(f"l{i}", "TargetResponseTime", "p95", g) for i, g in enumerate(groups)]
    return {
        outputs["Http5xxAlarmName"]: AlarmDefinition(
            threshold=threshold_5xx,
            comparison_operator="GreaterThanOrEqualToThreshold",
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data="notBreaching",
            metrics=(
                *errors,
                MetricQuery("expr", expression=" + ".join(f"FILL({q.id}, 0)" for q in errors), label="5xx"),
            ),
        ),
        outputs["LatencyAlarmName"]: AlarmDefinition(
            threshold=latency_p95_seconds,
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data="notBreaching",
            metrics=(
                *latency,
                MetricQuery("expr", expression=f"MAX([{', '.join(q.id for q in latency)}])", label="p95"),
            ),
        ),
    }


def load_balancer_dimension(outputs: Mapping[str, str]) -> str:
    """The LoadBalancer dimension's value, ``app/NAME/ID``, from the production rule's ARN
    (``...:listener-rule/app/NAME/ID/LISTENER/RULE``)."""
    return outputs["ProductionListenerRuleArn"].split(":listener-rule/", 1)[1].rsplit("/", 2)[0]
