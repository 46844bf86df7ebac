"""The gates a deployment is judged by, and where their news goes.

Which target group is "green" alternates between deployments, so each alarm watches both groups:
blue's traffic is the baseline it had before, and what a deployment adds comes from green. ECS rolls
back when one goes to ALARM (``deploymentConfiguration.alarms`` in ecs-service-def.json reads the
names from the outputs) and the after-allow-traffic hook's alarm gate checks them too.

The 5xx alarm also counts the load balancer's own 5xx: when green's targets die the ALB answers
502/503/504 itself (``HTTPCode_ELB_5XX_Count``), which no target metric sees. ELB publishes that metric
per load balancer only (dimensions LoadBalancer, or AvailabilityZone and LoadBalancer: "CloudWatch
metrics for your Application Load Balancer"), so it is summed in once, for the whole ALB.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct


class Notifications(Construct):
    """An SNS topic and the two webhook URL secrets; the user puts the URLs in after the first deploy."""

    def __init__(self, scope: Construct, construct_id: str, *, topic_name: str, secret_prefix: str) -> None:
        super().__init__(scope, construct_id)
        # No customer-managed key: CloudWatch alarms cannot publish to a topic under the AWS managed
        # SNS key, and a key of our own would need KMS grants outside the hooks' permission table.
        self.topic = sns.Topic(self, "Topic", topic_name=topic_name, enforce_ssl=True)
        self.webhook_secrets: dict[str, secretsmanager.Secret] = {}
        for name in ("slack", "teams"):
            secret = secretsmanager.Secret(
                self,
                f"{name.capitalize()}WebhookSecret",
                secret_name=f"{secret_prefix}/{name}-webhook-url",
                description=f"{name.capitalize()} incoming webhook URL for deployment notices; "
                "set the value yourself (put-secret-value)",
            )
            # Created without a value: the stack must neither invent nor know the URL, and a
            # generated password would look like a configured webhook to the hooks.
            cfn_secret = secret.node.default_child
            assert isinstance(cfn_secret, secretsmanager.CfnSecret)
            cfn_secret.add_property_deletion_override("GenerateSecretString")
            self.webhook_secrets[name] = secret
            Validations.of(secret).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-SMG4",
                    reason="The webhook URL is issued by Slack/Teams; it is rotated there and pasted in, "
                    "no rotation function can do it.",
                )
            )


class GateAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        http_5xx_alarm_name: str,
        latency_alarm_name: str,
        target_groups: list[elbv2.IApplicationTargetGroup],
        load_balancer: elbv2.IApplicationLoadBalancer,
        http_5xx_threshold: int,
        latency_p95_seconds: float,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        period = Duration.minutes(1)
        errors = {
            **{
                f"e{i}": tg.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period)
                for i, tg in enumerate(target_groups)
            },
            "elb": load_balancer.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=period),
        }
        latency = {
            f"l{i}": tg.metrics.target_response_time(statistic="p95", period=period)
            for i, tg in enumerate(target_groups)
        }
        self.http_5xx = cloudwatch.Alarm(
            self,
            "Http5xx",
            alarm_name=http_5xx_alarm_name,
            alarm_description="5xx responses: both blue/green target groups' and the load balancer's own",
            metric=cloudwatch.MathExpression(
                # Each count is reported only in minutes it is nonzero; FILL keeps a minute with just
                # one of them from dropping out of the sum.
                expression=" + ".join(f"FILL({m}, 0)" for m in errors),
                using_metrics=errors,
                period=period,
                label="5xx",
            ),
            threshold=http_5xx_threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.latency = cloudwatch.Alarm(
            self,
            "Latency",
            alarm_name=latency_alarm_name,
            alarm_description=f"p95 target response time over {latency_p95_seconds}s on either target group",
            metric=cloudwatch.MathExpression(
                expression=f"MAX([{', '.join(latency)}])", using_metrics=latency, period=period, label="p95"
            ),
            threshold=latency_p95_seconds,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarms = [self.http_5xx, self.latency]
        for alarm in self.alarms:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
            alarm.add_ok_action(cloudwatch_actions.SnsAction(topic))
        # The topic's policy replaces SNS's default one, so CloudWatch may publish only if it says so;
        # held to these alarms of this account against the confused deputy (Amazon SNS developer
        # guide, "Example cases for Amazon SNS access control": CloudWatch alarms publishing to a topic).
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowGateAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnEquals": {"aws:SourceArn": [alarm.alarm_arn for alarm in self.alarms]},
                },
            )
        )
