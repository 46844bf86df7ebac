"""The stack's settings, read once from CDK context (`cdk.json`, `-c key=value`, or a test's App).

Every option lives here with its default, so app.py stays free of logic and the README's context
table has one source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any, Literal

from aws_cdk.aws_logs import RetentionDays
from constructs import Node

from ecs_bg.deploy.ecspresso_release import ECSPRESSO_RELEASE
from ecs_bg.deploy.environments import DEFAULT_STACK_NAME, default_stack_name

Env = Literal["dev", "stg", "prod"]
Egress = Literal["nat", "endpoints"]
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
    env: Env = "dev"
    stack_name: str = DEFAULT_STACK_NAME
    service_name: str = "ecs-bg-app"
    task_family: str = "ecs-bg-app"
    container_port: int = 8080
    health_check_path: str = "/health"
    task_cpu_architecture: CpuArchitecture = "ARM64"
    vpc_cidr: str = "10.0.0.0/16"
    egress: Egress = "nat"
    nat_gateways: int = 1
    internal_alb: bool = False
    production_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    test_listener_port: int = 10080
    test_cidrs: tuple[str, ...] = ()
    certificate_arn: str | None = None
    # The name the certificate covers; the production smoke test requests https://<it>.
    production_hostname: str | None = None
    hooks_in_vpc: bool = True
    hook_checks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Per hook name (before-install, ...): the hook's settings, given to its function as
    # ECS_BG_HOOK_DETAILS. Unlike hookDetails in ecs-service-def.json, ecspresso never touches them.
    hook_details: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Layer version of AWSLambdaPowertoolsPythonV3; None resolves the layer for the installed
    # aws-lambda-powertools release through Powertools' public SSM parameter at deploy time.
    powertools_layer_version: int | None = None
    powertools_version: str = field(default_factory=lambda: version("aws-lambda-powertools"))
    approval_bucket: str | None = None
    log_retention: str = "ONE_MONTH"  # an aws_logs.RetentionDays name
    alarm_5xx_threshold: int = 5
    alarm_latency_p95_seconds: float = 1.0
    pipeline: PipelineSettings | None = None

    @property
    def production_ports(self) -> list[int]:
        """With a certificate, HTTPS on 443 serves production and 80 redirects to it."""
        return [80, 443] if self.certificate_arn else [80]

    def name(self, *parts: str) -> str:
        """A physical name in the seed's pattern: ``name("before-install")`` -> ecs-bg-before-install-dev."""
        return "-".join(("ecs-bg", *parts, self.env))

    @property
    def cluster_name(self) -> str:
        """One cluster per environment (ecs-bg-dev), so environments can share an account and region."""
        return self.name()

    @classmethod
    def from_context(cls, node: Node) -> StackConfig:
        def get(key: str, default: Any) -> Any:
            value = node.try_get_context(key)
            return default if value is None else value

        defaults = cls()
        env = get("env", defaults.env)
        if env not in ("dev", "stg", "prod"):
            raise ValueError(f"context env must be dev, stg or prod, not {env!r}")
        pipeline = None
        if _as_bool(get("pipeline", False)):
            pipeline = PipelineSettings(
                connection_arn=_required(node, "connectionArn"),
                repository=_required(node, "repository"),
                branch=get("branch", "main"),
                ecspresso_version=get("ecspressoVersion", ECSPRESSO_RELEASE),
            )
        config = cls(
            env=env,
            stack_name=get("stackName", default_stack_name(env)),
            service_name=get("serviceName", defaults.service_name),
            task_family=get("taskFamily", defaults.task_family),
            container_port=int(get("containerPort", defaults.container_port)),
            health_check_path=get("healthCheckPath", defaults.health_check_path),
            task_cpu_architecture=get("taskCpuArchitecture", defaults.task_cpu_architecture).upper(),
            vpc_cidr=get("vpcCidr", defaults.vpc_cidr),
            egress=get("egress", defaults.egress),
            nat_gateways=int(get("natGateways", defaults.nat_gateways)),
            internal_alb=_as_bool(get("internalAlb", defaults.internal_alb)),
            production_cidrs=_as_tuple(get("productionCidrs", defaults.production_cidrs)),
            test_listener_port=int(get("testListenerPort", defaults.test_listener_port)),
            test_cidrs=_as_tuple(get("testCidrs", defaults.test_cidrs)),
            certificate_arn=get("certificateArn", None),
            production_hostname=get("productionHostname", None),
            hooks_in_vpc=_as_bool(get("hooksInVpc", defaults.hooks_in_vpc)),
            hook_checks={k: _as_tuple(v) for k, v in _as_json(get("hookChecks", {})).items()},
            hook_details=_as_json(get("hookDetails", {})),
            powertools_layer_version=_as_optional_int(get("powertoolsLayerVersion", None)),
            approval_bucket=get("approvalBucket", None),
            log_retention=str(get("logRetention", defaults.log_retention)).upper(),
            alarm_5xx_threshold=int(get("alarm5xxThreshold", defaults.alarm_5xx_threshold)),
            alarm_latency_p95_seconds=float(
                get("alarmLatencyP95Seconds", defaults.alarm_latency_p95_seconds)
            ),
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
        for name, details in self.hook_details.items():
            if not isinstance(details, dict):
                raise ValueError(f"hookDetails.{name} must be a JSON object")
        if self.task_cpu_architecture not in ("ARM64", "X86_64"):
            raise ValueError(
                f"taskCpuArchitecture must be ARM64 or X86_64, not {self.task_cpu_architecture!r}"
            )
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


def _required(node: Node, key: str) -> str:
    value = node.try_get_context(key)
    if not value:
        raise ValueError(f"context pipeline=true needs {key}")
    return str(value)


def _as_bool(value: Any) -> bool:
    # `cdk -c key=true` passes strings; cdk.json and tests pass booleans.
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")


def _as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _as_tuple(value: Any) -> tuple[str, ...]:
    value = _as_json(value) if isinstance(value, str) and value.startswith("[") else value
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(value)


def _as_optional_int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)
