"""The lifecycle hook functions: one per entry file in ``lambda/``, all sharing one code asset.

The asset is assembled here in Python, without Docker or pip: the entry files at the root plus the
``ecs_bg.hooks`` package (Powertools comes from its public layer; boto3 from the runtime). Each
function gets its own role with the seed's permissions plus what its checks need, taken from
``ecs_bg.hooks.permissions`` and mapped onto this stack's resources by the caller.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

import ecs_bg
from ecs_bg.hooks.config import HOOK_DETAILS_ENV
from ecs_bg.hooks.permissions import DEFAULT_HOOK_CHECKS, Permission, ResourceKind, permissions_for

from ..scoping import ResourceScope, acknowledge_wildcards, wildcard_reasons

LAMBDA_DIR = Path(__file__).parent / "lambda"
ENTRY_SUFFIX = "_hook.py"
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


@dataclass(frozen=True)
class HookEntry:
    module: str  # before_install_hook

    @property
    def check_key(self) -> str:  # the key of DEFAULT_HOOK_CHECKS: before_install
        return self.module.removesuffix("_hook")

    @property
    def hook_name(self) -> str:  # before-install
        return self.check_key.replace("_", "-")

    @property
    def output_key(self) -> str:  # BeforeInstallHookArn, the seed's output names
        return "".join(part.capitalize() for part in self.module.split("_")) + "Arn"


def discover_entries() -> list[HookEntry]:
    return [HookEntry(p.name.removesuffix(".py")) for p in sorted(LAMBDA_DIR.glob(f"*{ENTRY_SUFFIX}"))]


def stage_asset(destination: Path) -> list[str]:
    """Copy the entry files and ``ecs_bg.hooks`` into ``destination``; return the files, relative."""
    package = Path(ecs_bg.__file__).parent
    sources = {p.name: p for p in LAMBDA_DIR.glob(f"*{ENTRY_SUFFIX}")}
    sources["ecs_bg/__init__.py"] = package / "__init__.py"
    for path in (package / "hooks").rglob("*.py"):
        relative = path.relative_to(package)
        if "__pycache__" in relative.parts or "tests" in relative.parts:
            continue
        sources[f"ecs_bg/{relative.as_posix()}"] = path
    for name, source in sources.items():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)  # contents only: the asset hash must not depend on mtimes
    return sorted(sources)


class HookFunctions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_name: Callable[[str], str],
        runtime: lambda_.Runtime,
        powertools_layer: lambda_.ILayerVersion,
        environment: Mapping[str, str],
        resources: Mapping[ResourceKind, ResourceScope],
        extra_checks: Mapping[str, Sequence[str]],
        log_retention: logs.RetentionDays,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        hook_details: Mapping[str, Mapping[str, object]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.entries = discover_entries()
        unknown = sorted(set(extra_checks) - {e.check_key for e in self.entries})
        if unknown:
            raise ValueError(f"hookChecks names no hook entry file: {unknown}")
        hook_details = hook_details or {}
        unknown = sorted(set(hook_details) - {e.hook_name for e in self.entries})
        if unknown:
            raise ValueError(f"hookDetails names no hook: {unknown}")
        self._resources = resources
        self.functions: dict[HookEntry, lambda_.Function] = {}
        # The asset is copied into the cloud assembly when the first function binds its code, so
        # the staging directory lives until every function exists.
        with tempfile.TemporaryDirectory(prefix="ecs-bg-hook-asset-") as staging:
            self.asset_files = stage_asset(Path(staging))
            code = lambda_.Code.from_asset(staging)
            for entry in self.entries:
                name = function_name(entry.hook_name)
                log_group = logs.LogGroup(
                    self,
                    f"{entry.module}LogGroup",
                    log_group_name=f"/aws/lambda/{name}",
                    retention=log_retention,
                    removal_policy=RemovalPolicy.DESTROY,
                )
                role = self._role(
                    entry,
                    description=f"ECS lifecycle hook {name}",
                    checks=(
                        *DEFAULT_HOOK_CHECKS.get(entry.check_key, ()),
                        *extra_checks.get(entry.check_key, ()),
                    ),
                    in_vpc=vpc is not None,
                )
                log_group.grant_write(role)
                self.functions[entry] = lambda_.Function(
                    self,
                    entry.module,
                    function_name=name,
                    runtime=runtime,
                    architecture=lambda_.Architecture.ARM_64,
                    handler=f"{entry.module}.handler",
                    code=code,
                    layers=[powertools_layer],
                    timeout=Duration.minutes(5),  # the seed's; longer work returns IN_PROGRESS
                    memory_size=256,
                    role=role,
                    log_group=log_group,
                    environment={
                        **environment,
                        # The path hook settings take intact: ecspresso cannot pass hookDetails.
                        **(
                            {HOOK_DETAILS_ENV: json.dumps(hook_details[entry.hook_name], sort_keys=True)}
                            if entry.hook_name in hook_details
                            else {}
                        ),
                        "POWERTOOLS_SERVICE_NAME": entry.hook_name,
                        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                        "POWERTOOLS_LOG_LEVEL": "INFO",
                    },
                    vpc=vpc,
                    vpc_subnets=vpc_subnets,
                    security_groups=[security_group] if security_group else None,
                )
                Validations.of(self.functions[entry]).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-L1",
                        reason=f"{runtime.name} on purpose: the project's hooks, their Powertools layer and "
                        "their tests target it; moving to a newer runtime is a deliberate, tested upgrade.",
                    )
                )

    def _role(self, entry: HookEntry, *, description: str, checks: tuple[str, ...], in_vpc: bool) -> iam.Role:
        """The seed's permissions plus those of ``checks``, on this stack's resources, and nothing else."""
        role = iam.Role(
            self,
            f"{entry.module}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
        )
        # cdk-nag reports each wildcard resource once per policy; acknowledge each, with its reason.
        scopes = []
        for permission in dict.fromkeys((*SEED_PERMISSIONS, *permissions_for(checks))):
            scope = self._resources[permission.resource]
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
