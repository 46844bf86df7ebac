"""From the repository's ecspresso files to a simulated deployment: outputs, hooks, the spec.

The ecspresso files are rendered exactly as for a real deployment, with ``cfn_output`` answered
from simulation values: each of the stack's hook functions (``ecs_bg.deploy.functions``) has its
output (``BeforeInstallHookArn``) holding its ARN, and a hook's ARN leads to the function of that
name: the stack's, or one simulation.yml's ``functions:`` adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ecs_bg.deploy.definitions import Definitions, load_definitions
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import LambdaFunction, arn_function_name
from ecs_bg.deploy.lint import lint
from ecs_bg.deploy.stack_context import StackContext, parse_context, read_cdk_json
from ecs_bg.hooks.config import configured_size_problem, parse_hook_details
from ecs_bg.hooks.ecs import (
    DEFAULT_TIMEOUT_ACTION,
    LAMBDA_HOOK_TIMEOUT_MINUTES,
    Stage,
    Strategy,
    TargetType,
)
from ecs_bg.lifecycle.events import ServiceIds
from ecs_bg.lifecycle.plan import DeploymentSpec, HookSpec

ACCOUNT = "123456789012"


@dataclass(frozen=True)
class TargetGroupSettings:
    """What the stack sets on both target groups (infrastructure/lib/constructs/load_balancer.py), in
    ALB's own seconds; a test compares them with the synthesized template."""

    health_check_path: str = "/health"
    healthy_http_codes: str = "200"
    interval: float = 15
    timeout: float = 5  # ALB's default for HTTP health checks; the stack keeps it
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    deregistration_delay: float = 30


TARGET_GROUPS = TargetGroupSettings()
METRICS_PERIOD = 60  # seconds: the load balancer's CloudWatch metrics and the gate alarms over them


class SimulationOutputs:
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


@dataclass(frozen=True)
class Simulated:
    definitions: Definitions
    spec: DeploymentSpec
    # hook_id -> its function, for the Lambda hooks; one function may serve several hook entries
    functions: dict[str, LambdaFunction]
    outputs: SimulationOutputs
    container: str  # the container the load balancer routes to (loadBalancers[0].containerName)


def load(
    config: Path,
    functions: Mapping[str, LambdaFunction],
    environ: dict[str, str],
    *,
    first_deployment: bool = False,
) -> Simulated:
    """``functions`` by name: the stack's, with simulation.yml's overrides and additions."""
    region = environ.get("AWS_REGION", "ap-northeast-1")
    outputs = SimulationOutputs(region, functions=functions.values())
    definitions = load_definitions(config, environ, lambda _region: outputs)
    refuse_lint_errors(definitions)
    service = definitions.service
    deployment = service.get("deploymentConfiguration", {})
    ids = ServiceIds(
        region=definitions.config.region or region,
        account=ACCOUNT,
        cluster=definitions.config.cluster,
        service=definitions.config.service,
    )
    hooks, targets = [], {}
    for index, hook in enumerate(deployment.get("lifecycleHooks", [])):
        stages = tuple(Stage(stage) for stage in hook.get("lifecycleStages", []))
        timeout = hook.get("timeoutConfiguration", {})
        target_type = hook.get("targetType", TargetType.AWS_LAMBDA)
        hook_id = f"pause-{index}"
        if target_type == TargetType.AWS_LAMBDA:
            arn = str(hook.get("hookTargetArn", ""))
            function = functions.get(arn_function_name(arn))
            if function is None:
                where = f"{definitions.service_file}: lifecycleHooks[{index}].hookTargetArn"
                raise DefinitionError(
                    f"{where} {arn!r} is none of the stack's hook functions nor a function in "
                    f"simulation.yml's functions: ({', '.join(sorted(functions)) or 'none'})"
                )
            # ECS accepts one function at several hook entries; each entry is its own hook.
            hook_id = function.hook_id if function.hook_id not in targets else f"{function.hook_id}-{index}"
            targets[hook_id] = function
        details = _hook_details(
            hook.get("hookDetails"), f"{definitions.service_file}: lifecycleHooks[{index}]"
        )
        hooks.append(
            HookSpec(
                hook_id=hook_id,
                target_type=target_type,
                stages=stages,
                hook_details=details,
                timeout_minutes=float(timeout.get("timeoutInMinutes", LAMBDA_HOOK_TIMEOUT_MINUTES.default)),
                timeout_action=timeout.get("action", DEFAULT_TIMEOUT_ACTION),
                target_arn=hook.get("hookTargetArn"),
            )
        )
    linear = deployment.get("linearConfiguration", {})
    canary = deployment.get("canaryConfiguration", {})
    alarms = deployment.get("alarms", {})
    spec = DeploymentSpec(
        ids=ids,
        strategy=deployment.get("strategy", Strategy.BLUE_GREEN),
        bake_time_minutes=float(deployment.get("bakeTimeInMinutes", 0)),
        step_percent=float(linear.get("stepPercent", 10.0)),
        step_bake_minutes=float(linear.get("stepBakeTimeInMinutes", 6.0)),
        canary_percent=float(canary.get("canaryPercent", 5.0)),
        canary_bake_minutes=float(canary.get("canaryBakeTimeInMinutes", 10.0)),
        hooks=tuple(hooks),
        alarms_rollback=bool(alarms.get("enable") and alarms.get("rollback")),
        first_deployment=first_deployment,
    )
    balancers = service.get("loadBalancers") or [{}]
    container = str(balancers[0].get("containerName", ""))
    return Simulated(definitions, spec, targets, outputs, container)


def revision_task(config: Path, environ: dict[str, str], outputs: SimulationOutputs) -> dict[str, Any]:
    """One revision's task definition: the same files rendered with that revision's variables (and
    the stack's outputs, hook ARNs included: the service definition is rendered too)."""
    return load_definitions(config, environ, lambda _region: outputs).task


def refuse_lint_errors(definitions: Definitions) -> None:
    """What ``ecs-bg lint`` refuses, ECS's API refuses: the simulation does not start on it."""
    errors = [finding for finding in lint(definitions) if finding.severity == "error"]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more; run ecs-bg lint)" if len(errors) > 1 else ""
        message = " ".join(first.message.split())
        raise DefinitionError(f"{first.file}: {first.path}: {message} ({first.rule}){more}")


def stack_context(cdk_json: Path | None) -> StackContext:
    """The CDK app's settings (alarm thresholds, hookDetails), or their defaults without a cdk.json."""
    return read_cdk_json(cdk_json) if cdk_json is not None else parse_context({})


def _hook_details(value: object, where: str) -> dict[str, Any]:
    """A hook's configured hookDetails, refused here (naming the file) as lint refuses them."""
    try:
        details = parse_hook_details(value)
    except ValueError as error:
        raise DefinitionError(f"{where}.hookDetails: {error}") from None
    if problem := configured_size_problem(details):
        raise DefinitionError(f"{where}.hookDetails is {problem}")
    return details


def put_gate_alarm(cloudwatch: Any, name: str, percent: float = 10, state: str = "OK") -> None:
    """The simulation's stand-in for a gate alarm: 5xx (the targets' and the load balancer's own) as a
    share of the requests in one minute. The stack's alarm counts 5xx a minute, a number meant for a
    real minute of traffic; a simulated minute carries only the requests of 60/speed real seconds, so
    their share is judged."""

    def metric(name: str) -> dict[str, Any]:
        stat = {
            "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": name},
            "Period": METRICS_PERIOD,
            "Stat": "Sum",
        }
        return {"MetricStat": stat, "ReturnData": False}

    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Metrics=[
            {"Id": "errors", **metric("HTTPCode_Target_5XX_Count")},
            # As the stack's alarm does: the load balancer's own 502/503/504 count too.
            {"Id": "elb", **metric("HTTPCode_ELB_5XX_Count")},
            {"Id": "requests", **metric("RequestCount")},
            {
                "Id": "share",
                "Expression": "100 * (FILL(errors, 0) + FILL(elb, 0)) / requests",
                "ReturnData": True,
            },
        ],
        EvaluationPeriods=1,
        Threshold=percent,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="set by the simulation")
