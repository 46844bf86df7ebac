"""The lifecycle hook functions (``ecs_bg.deploy.functions``' model), all sharing one code asset.

The asset is assembled here in Python, without Docker or pip: the code folder's files at the root plus the
``ecs_bg.hooks`` package (Powertools comes from its public layer; boto3 from the runtime). Each
function gets its own role with the seed's permissions plus what its checks need, taken from
``ecs_bg.hooks.permissions`` and mapped onto this stack's resources by the caller.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IValidation

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import LambdaFunction, render_environment, stage_asset
from ecs_bg.deploy.probe import probe
from ecs_bg.deploy.stack_context import hook_details_problems
from ecs_bg.deploy.template import LookupFailed, TemplateFunction, env_functions
from ecs_bg.hooks.permissions import DEFAULT_HOOK_CHECKS, Permission, ResourceKind, permissions_for

from ..scoping import ResourceScope, acknowledge_wildcards, wildcard_reasons

METRICS_NAMESPACE = "EcsBlueGreen"

# What the seed grants every hook, before any check adds its own.
SEED_PERMISSIONS: tuple[Permission, ...] = (
    Permission(("ecs:DescribeServices",), "service"),
    Permission(("ecs:DescribeTaskDefinition",), "any"),
    Permission(("ecs:DescribeTasks",), "task"),
    Permission(("elasticloadbalancing:DescribeTargetHealth",), "any"),
)


WILDCARD_ANY_REASON = (
    "Only actions without resource-level permissions (ecs:DescribeTaskDefinition, Elastic Load "
    "Balancing Describe*, cloudwatch:GetMetricData/PutMetricData), and ecs:ListTasks, which takes no "
    "cluster ARN; PutMetricData is held to the "
    f"{METRICS_NAMESPACE} namespace and ListTasks to this cluster by conditions."
)


def _registered_permissions(function: LambdaFunction) -> tuple[Permission, ...]:
    """What the checks ``function``'s code registers (``ecs_bg.hooks.register_check``) need."""
    probed = probe(function)
    return tuple(
        Permission(tuple(p["actions"]), p["resource"], p.get("wildcardReason"))
        for permissions in probed.checks.values()
        for p in permissions
    )


@jsii.implements(IValidation)
class HookDetailsContext:
    """The stack's hookDetails context, judged at synthesis by the code of the hook each object
    configures (``ecs_bg.deploy.stack_context.hook_details_problems``): a finding fails `cdk synth`,
    naming the hook, the key and the value, before anything is deployed."""

    def __init__(
        self, hook_details: Mapping[str, Mapping[str, Any]], functions: Sequence[LambdaFunction]
    ) -> None:
        self._hook_details = hook_details
        self._functions = functions

    def validate(self) -> list[str]:
        return hook_details_problems(self._hook_details, self._functions, "CDK context:")


@jsii.implements(IValidation)
class FunctionEnvironment:
    """The hookFunctions context's environment values that cannot be rendered (``StackOutputs``): a
    finding fails `cdk synth`, naming the hook, the variable and the expression."""

    def __init__(self, problems: Sequence[str]) -> None:
        self._problems = list(problems)

    def validate(self) -> list[str]:
        return self._problems


class StackOutputs:
    """``cfn_output`` of this stack, answered at synthesis by the values its outputs will hold (CDK
    tokens: CloudFormation resolves them at deployment, the local world from the template). Only the
    outputs that do not depend on the hook functions: a function's environment naming its own ARN,
    or its role's, would be a circular dependency."""

    def __init__(self, stack_name: str, values: Mapping[str, str], later: Sequence[str]) -> None:
        self.stack_name = stack_name
        self.values = values
        self.later = later

    def output(self, stack: str, key: str) -> str:
        if stack != self.stack_name:
            raise LookupFailed(
                f"only this stack's outputs ({self.stack_name}) resolve at synthesis, not {stack}'s"
            )
        if key in self.later:
            raise LookupFailed(f"{key} depends on the hook functions: their environment cannot name it")
        if key not in self.values:
            raise LookupFailed(f"this stack has no output {key} (outputs: {', '.join(sorted(self.values))})")
        return self.values[key]

    def functions(self) -> dict[str, TemplateFunction]:
        """ecspresso's template functions a hookFunctions environment value may use: ``env`` and
        ``must_env`` read the environment `cdk synth` runs in, as ecspresso's read the deployer's."""
        return {**env_functions(os.environ), "cfn_output": TemplateFunction(self.output, 2, 2)}


class HookFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Sequence[LambdaFunction],
        hook_details: Mapping[str, Mapping[str, Any]],
        runtime: lambda_.Runtime,
        powertools_layer: lambda_.ILayerVersion,
        environment: Mapping[str, str],
        resources: Mapping[ResourceKind, ResourceScope],
        extra_checks: Mapping[str, Sequence[str]],
        log_retention: logs.RetentionDays,
        outputs: StackOutputs | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
    ) -> None:
        """``functions`` are the stack's hook functions (``ecs_bg.deploy.functions``: one model for the
        stack, ``ecs-bg invoke`` and the simulator), all from one code folder; ``hook_details`` the
        hookDetails context, each hook's object judged by its code when the app synthesizes;
        ``outputs`` answers ``cfn_output`` in the functions' environment values (hookFunctions)."""
        super().__init__(scope, construct_id)
        self.node.add_validation(HookDetailsContext(hook_details, functions))
        problems: list[str] = []
        if outputs is not None:
            functions = [self._rendered(f, outputs, problems) for f in functions]
        self.node.add_validation(FunctionEnvironment(problems))
        unknown = sorted(set(extra_checks) - {f.hook_id for f in functions})
        if unknown:
            raise ValueError(f"hookChecks names no hook function: {unknown}")
        folders = {f.code for f in functions}
        if len(folders) > 1:
            raise ValueError(f"the hook functions share one code asset, not {sorted(map(str, folders))}")
        self._resources = resources
        self.functions: dict[str, lambda_.Function] = {}  # by the output holding the ARN
        # The asset is copied into the cloud assembly when the first function binds its code, so
        # the staging directory lives until every function exists.
        with tempfile.TemporaryDirectory(prefix="ecs-bg-hook-asset-") as staging:
            self.asset_files = [file for folder in folders for file in stage_asset(folder, Path(staging))]
            code = lambda_.Code.from_asset(staging)
            for function in functions:
                assert function.hook is not None
                # The seed's construct ids (before_install_hook), so the logical ids stay put.
                node_id = f"{function.hook_id}_hook"
                log_group = logs.LogGroup(
                    self,
                    f"{node_id}LogGroup",
                    log_group_name=function.log_group,
                    retention=log_retention,
                    removal_policy=RemovalPolicy.DESTROY,
                )
                role = self._role(
                    node_id,
                    own_checks=_registered_permissions(function),
                    description=f"ECS lifecycle hook {function.name}",
                    checks=(
                        *DEFAULT_HOOK_CHECKS.get(function.hook_id, ()),
                        *extra_checks.get(function.hook_id, ()),
                    ),
                    in_vpc=vpc is not None,
                )
                log_group.grant_write(role)
                assert function.output_key is not None
                self.functions[function.output_key] = lambda_.Function(
                    self,
                    node_id,
                    function_name=function.name,
                    runtime=runtime,
                    architecture=lambda_.Architecture.ARM_64,
                    handler=function.handler,
                    code=code,
                    layers=[powertools_layer],
                    timeout=Duration.seconds(function.timeout_seconds),
                    memory_size=function.memory_mb,
                    role=role,
                    log_group=log_group,
                    environment={
                        **environment,
                        # ECS_BG_HOOK_DETAILS (the path hook settings take intact: ecspresso cannot
                        # pass hookDetails) and the hookFunctions context's own variables.
                        **function.environment,
                        "POWERTOOLS_SERVICE_NAME": function.hook,
                        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                        "POWERTOOLS_LOG_LEVEL": "INFO",
                    },
                    vpc=vpc,
                    vpc_subnets=vpc_subnets,
                    security_groups=[security_group] if security_group else None,
                )
                Validations.of(self.functions[function.output_key]).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-L1",
                        reason=f"{runtime.name} on purpose: the project's hooks, their Powertools layer and "
                        "their tests target it; moving to a newer runtime is a deliberate, tested upgrade.",
                    )
                )

    @staticmethod
    def _rendered(function: LambdaFunction, outputs: StackOutputs, problems: list[str]) -> LambdaFunction:
        """``function`` with its environment values rendered; a problem is noted, the value kept."""
        try:
            environment = render_environment(
                function.environment,
                outputs.functions(),
                f"CDK context: hookFunctions.{function.hook}.environment",
            )
        except DefinitionError as error:
            problems.append(str(error))
            return function
        return dataclasses.replace(function, environment=environment)

    def _role(
        self,
        node_id: str,
        *,
        description: str,
        checks: tuple[str, ...],
        own_checks: tuple[Permission, ...],
        in_vpc: bool,
    ) -> iam.Role:
        """The seed's permissions plus those of ``checks`` on this stack's resources, plus those the
        user's own checks (``own_checks``) declare, and nothing else."""
        role = iam.Role(
            self,
            f"{node_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
        )
        # cdk-nag reports each wildcard resource once per policy; acknowledge each, with its reason.
        scopes = []
        for permission in dict.fromkeys((*SEED_PERMISSIONS, *permissions_for(checks), *own_checks)):
            scope = self._resources.get(permission.resource)  # type: ignore[arg-type]
            if scope is None:  # a user's check names its ARN itself
                scope = ResourceScope([permission.resource], wildcard_reason=permission.wildcard_reason)
            if not scope.arns:
                continue
            scopes.append(scope)
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=list(permission.actions),
                    resources=list(scope.arns),
                    conditions=dict(scope.conditions) if scope.conditions else None,
                )
            )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            )
        )
        acknowledge_wildcards(role, {**wildcard_reasons(scopes), "*": WILDCARD_ANY_REASON})
        if in_vpc:
            role.add_managed_policy(
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaVPCAccessExecutionRole")
            )
            Validations.of(role).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaVPCAccessExecutionRole]",
                    reason="The ENI permissions Lambda needs to place the function in the VPC; "
                    "AWS keeps this policy in step with what Lambda calls.",
                )
            )
        return role
