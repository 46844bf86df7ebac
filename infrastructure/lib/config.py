"""The stack's settings, read once from CDK context (`cdk.json`, `-c key=value`, or a test's App).

The context keys, their types and defaults are ``ecs_bg.deploy.stack_context.StackContext`` (the
context table in docs/deploying.md), read by the project's one settings parser; what needs CDK to check (a
RetentionDays name) and the combinations the stack refuses are checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ecs_bg.deploy.environments import default_stack_name, resource_name
from ecs_bg.deploy.functions import LambdaFunction
from ecs_bg.deploy.stack_context import Egress, Env, parse_context, stack_hook_functions

if TYPE_CHECKING:  # importing the CDK starts its jsii kernel (a node process): only where it is needed
    from constructs import Node

APP_DIR = Path(__file__).resolve().parents[1]  # infrastructure/, where cdk.json is

CpuArchitecture = Literal["ARM64", "X86_64"]

# The hook whose entry file smoke-tests the production listener by default (after_allow_traffic_hook.py).
PRODUCTION_SMOKE_TEST_HOOK = "after-allow-traffic"


@dataclass(frozen=True)
class PipelineSettings:
    connection_arn: str
    repository: str  # owner/name
    branch: str
    ecspresso_version: str


@dataclass(frozen=True)
class StackConfig:
    """The stack's settings; the context keys, their types and defaults are ``StackContext``'s."""

    env: Env
    stack_name: str
    service_name: str
    task_family: str
    container_port: int
    health_check_path: str
    task_cpu_architecture: CpuArchitecture
    vpc_cidr: str
    egress: Egress
    nat_gateways: int
    internal_alb: bool
    production_cidrs: tuple[str, ...]
    test_listener_port: int
    test_cidrs: tuple[str, ...]
    # The name the certificate covers; the production smoke test requests https://<it>.
    production_hostname: str | None
    certificate_arn: str | None
    hooks_in_vpc: bool
    hook_checks: dict[str, tuple[str, ...]]
    # Per hook name (before-install, ...): the hook's settings, given to its function as
    # ECS_BG_HOOK_DETAILS. Unlike hookDetails in ecs-service-def.json, ecspresso never touches them.
    hook_details: dict[str, dict[str, Any]]
    # The hook functions (one per entry file in the hookCode folder, and per hookFunctions entry),
    # from the model ecs-bg invoke and the simulator share. Their hookDetails are judged by a validation
    # of the stack (HookFunctions), so `cdk synth` reports them as it reports any other finding.
    hook_functions: tuple[LambdaFunction, ...]
    # Layer version of AWSLambdaPowertoolsPythonV3; None resolves the layer for the installed
    # aws-lambda-powertools release through Powertools' public SSM parameter at deploy time.
    powertools_layer_version: int | None
    approval_bucket: str | None
    log_retention: str  # an aws_logs.RetentionDays name
    alarm_5xx_threshold: int
    alarm_latency_p95_seconds: float
    pipeline: PipelineSettings | None = None
    powertools_version: str = field(default_factory=lambda: version("aws-lambda-powertools"))

    @property
    def production_ports(self) -> list[int]:
        """With a certificate, HTTPS on 443 serves production and 80 redirects to it."""
        return [80, 443] if self.certificate_arn else [80]

    def name(self, *parts: str) -> str:
        """A physical name in the seed's pattern: ``name("before-install")`` -> ecs-bg-before-install-dev."""
        return resource_name(self.env, *parts)

    @property
    def cluster_name(self) -> str:
        """One cluster per environment (ecs-bg-dev), so environments can share an account and region."""
        return self.name()

    @classmethod
    def from_context(cls, node: Node) -> StackConfig:
        """From cdk.json and ``-c``; a wrong value fails synthesis naming its key."""
        context = parse_context(node.get_all_context())
        pipeline = None
        if context.pipeline:
            pipeline = PipelineSettings(
                connection_arn=_required("connectionArn", context.connection_arn),
                repository=_required("repository", context.repository),
                branch=context.branch,
                ecspresso_version=context.ecspresso_version,
            )
        config = cls(
            env=context.env,
            stack_name=context.stack_name or default_stack_name(context.env),
            service_name=context.service_name,
            task_family=context.task_family,
            container_port=context.container_port,
            health_check_path=context.health_check_path,
            task_cpu_architecture=context.task_cpu_architecture.upper(),  # type: ignore[arg-type]
            vpc_cidr=context.vpc_cidr,
            egress=context.egress,
            nat_gateways=context.nat_gateways,
            internal_alb=context.internal_alb,
            production_cidrs=context.production_cidrs,
            test_listener_port=context.test_listener_port,
            test_cidrs=context.test_cidrs,
            certificate_arn=context.certificate_arn,
            production_hostname=context.production_hostname,
            hooks_in_vpc=context.hooks_in_vpc,
            hook_checks=context.hook_checks,
            hook_details=context.hook_details,
            hook_functions=tuple(stack_hook_functions(context, APP_DIR)),
            powertools_layer_version=context.powertools_layer_version,
            approval_bucket=context.approval_bucket,
            log_retention=context.log_retention.upper(),
            alarm_5xx_threshold=context.alarm_5xx_threshold,
            alarm_latency_p95_seconds=context.alarm_latency_p95_seconds,
            pipeline=pipeline,
        )
        config.validate()
        return config

    def validate(self) -> None:
        if self.certificate_arn and not self.production_hostname and not self._production_smoke_test_url():
            # https://<ALB DNS name> cannot match the certificate, so every production smoke test
            # would fail TLS verification (which the hooks never turn off).
            raise ValueError(
                "certificateArn needs productionHostname (the name the certificate covers) for the "
                f"production smoke test, or hookDetails.{PRODUCTION_SMOKE_TEST_HOOK}.smokeTest.url"
            )
        from aws_cdk.aws_logs import RetentionDays

        if self.log_retention not in RetentionDays.__members__:
            raise ValueError(
                f"logRetention must be an aws_logs.RetentionDays name, not {self.log_retention!r}"
            )
        if self.egress not in ("nat", "endpoints"):
            raise ValueError(f"egress must be nat or endpoints, not {self.egress!r}")
        if self.egress == "nat" and self.nat_gateways < 1:
            raise ValueError("egress=nat needs natGateways >= 1")
        if self.hooks_in_vpc and self.egress == "endpoints" and not self.internal_alb:
            # Without a NAT gateway nothing in the private subnets can reach a public address,
            # so the smoke tests could never reach an internet-facing ALB's listeners.
            raise ValueError("hooksInVpc with egress=endpoints needs internalAlb=true")

    def _production_smoke_test_url(self) -> str | None:
        smoke = self.hook_details.get(PRODUCTION_SMOKE_TEST_HOOK, {}).get("smokeTest")
        return smoke.get("url") if isinstance(smoke, dict) else None


def _required(key: str, value: str | None) -> str:
    if not value:
        raise ValueError(f"context pipeline=true needs {key}")
    return value
