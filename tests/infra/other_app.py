"""Another team's CDK app, written as they would write it: nothing of ecs-bg's sample stack.

Its own stack name (orders-service-qa), output keys, listener ports, a target group pair on
``/healthz``, two hook functions from one code folder with their own handler names, and a 5xx alarm of
metric math over both target groups. Synthesized in-process, as ``conftest.synthesize`` does for the
sample, with the asset metadata the CDK CLI writes by default.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

HOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "cloudformation" / "orders-hooks"
STACK_NAME = "orders-service-qa"


class OrdersService(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
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
        edge.add_listener(
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
        code = lambda_.Code.from_asset(str(HOOKS))
        gate = lambda_.Function(
            self,
            "TrafficGate",
            function_name="orders-qa-traffic-gate",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="gate.check",
            code=code,
            timeout=cdk.Duration.seconds(45),
            environment={
                "PREVIEW_URL": f"http://{edge.load_balancer_dns_name}:9090",
                "CANDIDATE_GROUP": secondary.target_group_full_name,
            },
        )
        audit = lambda_.Function(
            self, "Audit", runtime=lambda_.Runtime.PYTHON_3_12, handler="audit.record", code=code
        )
        errors = cloudwatch.Alarm(
            self,
            "TargetErrors",
            metric=cloudwatch.MathExpression(
                expression="p + s",
                using_metrics={
                    "p": primary.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
                    "s": secondary.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
                },
                period=cdk.Duration.minutes(1),
            ),
            threshold=10,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        cdk.CfnOutput(self, "GateFunctionArn", value=gate.function_arn)
        cdk.CfnOutput(self, "AuditFunction", value=audit.function_name)
        cdk.CfnOutput(self, "PreviewRuleArn", value=preview_rule.listener_rule_arn)
        cdk.CfnOutput(self, "PrimaryGroup", value=primary.target_group_arn)
        cdk.CfnOutput(self, "ErrorsAlarmName", value=errors.alarm_name)
        cdk.CfnOutput(
            self, "EdgeUrl", value=f"http://{edge.load_balancer_dns_name}:8080", export_name="orders-edge-url"
        )


def synthesize(outdir: Path) -> Path:
    """The app's cloud assembly in ``outdir``, with asset and path metadata as the CDK CLI writes them."""
    app = cdk.App(
        outdir=str(outdir),
        context={"aws:cdk:enable-asset-metadata": True, "aws:cdk:enable-path-metadata": True},
    )
    OrdersService(app, "OrdersService", stack_name=STACK_NAME)
    app.synth()
    return outdir
