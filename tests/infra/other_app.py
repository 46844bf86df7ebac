"""Another team's CDK app, written as they would write it: nothing of ecs-bg's sample stack.

Its own stack name (orders-service-qa), output keys, listener ports, a target group pair on
``/healthz`` with a forward-only rule on each listener (as ECS's blue/green needs), two hook functions
with their own handler names, each from its own code folder (one with a requirements.txt), the two
roles an ECS blue/green service names (hook invocation, load balancer), and its own alarms: 5xx as
metric math over both target groups and the load balancer, and the slower target group's p95 latency.
Synthesized in-process, as ``conftest.synthesize`` does for the sample, with the asset metadata the CDK
CLI writes by default. tests/e2e/test_installed_tool.py deploys a service with it.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

HOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "cloudformation" / "orders-hooks"
STACK_NAME = "orders-service-qa"


class OrdersService(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, hooks: Path = HOOKS, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        vpc = ec2.Vpc(
            self,
            "Network",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="edge", subnet_type=ec2.SubnetType.PUBLIC)],
        )
        edge = elbv2.ApplicationLoadBalancer(self, "Edge", vpc=vpc, internet_facing=True)
        primary, secondary = (
            elbv2.ApplicationTargetGroup(
                self,
                name,
                vpc=vpc,
                port=3000,
                protocol=elbv2.ApplicationProtocol.HTTP,
                target_type=elbv2.TargetType.IP,
                health_check=elbv2.HealthCheck(
                    path="/healthz",
                    interval=cdk.Duration.seconds(20),
                    healthy_threshold_count=4,
                    healthy_http_codes="200,204",
                ),
            )
            for name in ("Primary", "Secondary")
        )
        public = edge.add_listener(
            "Public",
            port=8080,
            protocol=elbv2.ApplicationProtocol.HTTP,
            open=False,
            default_action=elbv2.ListenerAction.weighted_forward(
                [
                    elbv2.WeightedTargetGroup(target_group=primary, weight=100),
                    elbv2.WeightedTargetGroup(target_group=secondary, weight=0),
                ]
            ),
        )
        # ECS shifts production between the groups on a listener rule, not on a default action.
        live_rule = elbv2.ApplicationListenerRule(
            self,
            "LiveRule",
            listener=public,
            priority=3,
            conditions=[elbv2.ListenerCondition.path_patterns(["/*"])],
            action=elbv2.ListenerAction.forward([primary]),
        )
        preview = edge.add_listener(
            "Preview",
            port=9090,
            protocol=elbv2.ApplicationProtocol.HTTP,
            open=False,
            default_action=elbv2.ListenerAction.fixed_response(404),
        )
        preview_rule = elbv2.ApplicationListenerRule(
            self,
            "PreviewRule",
            listener=preview,
            priority=7,
            conditions=[elbv2.ListenerCondition.http_header("x-preview", ["1"])],
            action=elbv2.ListenerAction.forward([secondary]),
        )
        gate = lambda_.Function(
            self,
            "TrafficGate",
            function_name="orders-qa-traffic-gate",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="gate.check",
            code=lambda_.Code.from_asset(str(hooks / "gate")),
            timeout=cdk.Duration.seconds(45),
            environment={
                "PREVIEW_URL": f"http://{edge.load_balancer_dns_name}:9090",
                "CANDIDATE_GROUP": secondary.target_group_full_name,
            },
        )
        audit = lambda_.Function(
            self,
            "Audit",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="audit.record",
            code=lambda_.Code.from_asset(str(hooks / "audit")),  # with its requirements.txt
        )
        # The roles ECS's blue/green takes: one to invoke the hooks, one to shift the listener rules.
        invoker = iam.Role(self, "HookInvoker", assumed_by=iam.ServicePrincipal("ecs.amazonaws.com"))
        for function in (gate, audit):
            function.grant_invoke(invoker)
        shifter = iam.Role(
            self,
            "TrafficShifter",
            assumed_by=iam.ServicePrincipal("ecs.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "AmazonECSInfrastructureRolePolicyForLoadBalancers"
                )
            ],
        )
        tasks = ec2.SecurityGroup(self, "Tasks", vpc=vpc)
        # 5xx counts are published only when nonzero, and arithmetic with a missing operand is
        # missing: each is FILLed, or one group's quiet minute would hide the other's errors. The load
        # balancer's own 5xx (no healthy target left) count too.
        errors = cloudwatch.Alarm(
            self,
            "TargetErrors",
            metric=cloudwatch.MathExpression(
                expression="FILL(p, 0) + FILL(s, 0) + FILL(e, 0)",
                using_metrics={
                    "p": primary.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
                    "s": secondary.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
                    "e": edge.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT),
                },
                period=cdk.Duration.minutes(1),
            ),
            threshold=10,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        latency = cloudwatch.Alarm(
            self,
            "SlowTargets",
            metric=cloudwatch.MathExpression(
                expression="MAX([p, s])",
                using_metrics={
                    "p": primary.metrics.target_response_time(statistic="p95"),
                    "s": secondary.metrics.target_response_time(statistic="p95"),
                },
                period=cdk.Duration.minutes(1),
            ),
            threshold=1.5,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        cdk.CfnOutput(self, "GateFunctionArn", value=gate.function_arn)
        cdk.CfnOutput(self, "AuditFunction", value=audit.function_name)
        cdk.CfnOutput(self, "PreviewRuleArn", value=preview_rule.listener_rule_arn)
        cdk.CfnOutput(self, "LiveRuleArn", value=live_rule.listener_rule_arn)
        cdk.CfnOutput(self, "PrimaryGroup", value=primary.target_group_arn)
        cdk.CfnOutput(self, "SecondaryGroup", value=secondary.target_group_arn)
        cdk.CfnOutput(self, "HookInvokerArn", value=invoker.role_arn)
        cdk.CfnOutput(self, "TrafficShifterArn", value=shifter.role_arn)
        for index, subnet in enumerate(vpc.public_subnets):
            cdk.CfnOutput(self, f"EdgeSubnet{index}", value=subnet.subnet_id)
        cdk.CfnOutput(self, "TasksSecurityGroup", value=tasks.security_group_id)
        cdk.CfnOutput(self, "ErrorsAlarmName", value=errors.alarm_name)
        cdk.CfnOutput(self, "SlowAlarmName", value=latency.alarm_name)
        cdk.CfnOutput(
            self, "EdgeUrl", value=f"http://{edge.load_balancer_dns_name}:8080", export_name="orders-edge-url"
        )


def synthesize(outdir: Path, hooks: Path = HOOKS) -> Path:
    """The app's cloud assembly in ``outdir``, with asset and path metadata as the CDK CLI writes them;
    ``hooks`` holds the functions' code folders (gate/, audit/)."""
    app = cdk.App(
        outdir=str(outdir),
        context={"aws:cdk:enable-asset-metadata": True, "aws:cdk:enable-path-metadata": True},
    )
    OrdersService(app, "OrdersService", hooks=hooks, stack_name=STACK_NAME)
    app.synth()
    return outdir
