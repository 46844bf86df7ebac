"""What the service and its task definition run on; ecspresso creates the service and the task definition.

The execution role gets exactly what the ECS agent does for this service (pull from this repository,
write to the application log group) instead of the broad AmazonECSTaskExecutionRolePolicy.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct


class EcsPlatform(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        cluster_name: str,
        repository_name: str,
        app_log_group_name: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            cluster_name=cluster_name,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=repository_name,
            image_scan_on_push=True,
            # Each pipeline run pushes its commit's tag; an immutable tag always means one image.
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description="drop untagged layers left by failed pushes",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(7),
                    rule_priority=1,
                ),
                # Enough history to roll back by hand; blue/green itself only needs two revisions.
                ecr.LifecycleRule(
                    description="keep the 30 newest images", max_image_count=30, rule_priority=2
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.app_log_group = logs.LogGroup(
            self,
            "AppLogGroup",
            log_group_name=app_log_group_name,
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )

        tasks = iam.ServicePrincipal("ecs-tasks.amazonaws.com")
        self.execution_role = iam.Role(
            self, "TaskExecutionRole", assumed_by=tasks, description="ECS agent: pull the image, write logs"
        )
        self.repository.grant_pull(self.execution_role)
        self.app_log_group.grant_write(self.execution_role)
        Validations.of(self.execution_role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="ecr:GetAuthorizationToken has no resource-level permissions; image pulls "
                "are scoped to this repository.",
            )
        )
        # The application itself calls no AWS API yet; grant to this role when it does.
        self.task_role = iam.Role(
            self, "TaskRole", assumed_by=tasks, description="The application's own role"
        )
