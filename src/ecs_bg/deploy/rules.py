"""ECS's own rules for native blue/green deployments, checked on rendered definitions.

The API model (model.py) catches shapes and types; these catch what ECS rejects at deployment time
or, worse, accepts and then does something else (docs/aws-facts.md §2-§5, §8).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ecs_bg.deploy.definitions import Definitions
from ecs_bg.deploy.ecspresso_release import ECSPRESSO_MINIMUM, ECSPRESSO_RELEASE
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.findings import RULES, Finding
from ecs_bg.deploy.functions import LambdaFunction
from ecs_bg.deploy.probe import probe
from ecs_bg.hooks.config import configured_size_problem, json_size, parse_hook_details
from ecs_bg.hooks.ecs import (
    BAKE_TIME_MINUTES,
    CANARY_PERCENT,
    LAMBDA_HOOK_TIMEOUT_MINUTES,
    LINEAR_STEP_PERCENT,
    MAX_HOOKS_PER_TARGET_TYPE,
    SHIFT_STAGES,
    TRAFFIC_SHIFT_STRATEGIES,
    Stage,
    Strategy,
    TargetType,
    function_name,
)

# Stages AWS documents for hooks with ROLLING deployments: PRE_SCALE_UP Lambda hooks (AWS containers
# blog, 2025-09-11) and PAUSE hooks "for rolling, blue/green, linear and canary" (AWS What's New,
# 2026-05-19), whose stage list includes PRE_SCALE_UP. No source says which other stages a rolling
# deployment runs, so ECS021 only warns about them rather than rejecting what ECS may accept.
ROLLING_HOOK_STAGES = frozenset({Stage.PRE_SCALE_UP})
# Lambda's limit on a synchronous invocation's payload: 6 MB ("Invoke", Lambda API reference;
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), which Lambda enforces as
# "Request must be smaller than 6291456 bytes for the InvokeFunction operation". ECS reads each hook's
# answer (hookStatus), which only a synchronous invocation returns, so every Lambda hook's event,
# hookDetails included, must fit.
LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024
# Strategy -> (its configuration member, the member's bake time field).
STRATEGY_CONFIGURATION = {
    Strategy.LINEAR: ("linearConfiguration", "stepBakeTimeInMinutes"),
    Strategy.CANARY: ("canaryConfiguration", "canaryBakeTimeInMinutes"),
}


@dataclass(frozen=True)
class LintOptions:
    # Platforms the image was built for, e.g. {"ARM64", "X86_64"}; empty when unknown.
    image_architectures: frozenset[str] = frozenset()
    # The stack's hook functions by name: a hook targeting one built on ecs_bg has its hookDetails
    # judged by its own code (its custom_keys, the built-in checks and those it registers); any other
    # hook, and an ARN naming none of them, only by what holds for every hook.
    functions: Mapping[str, LambdaFunction] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class _Hook:
    index: int
    path: str
    spec: dict[str, Any]

    @property
    def target_type(self) -> str:
        return str(self.spec.get("targetType", TargetType.AWS_LAMBDA))

    @property
    def stages(self) -> list[str]:
        stages = self.spec.get("lifecycleStages")
        return [str(s) for s in stages] if isinstance(stages, list) else []

    @property
    def details(self) -> dict[str, Any]:
        """hookDetails as an object ({} when they are not one: ECS025 reports that)."""
        try:
            return parse_hook_details(self.spec.get("hookDetails"))
        except ValueError:
            return {}


class _Context:
    def __init__(self, definitions: Definitions, options: LintOptions) -> None:
        self.definitions = definitions
        self.options = options
        self.service = definitions.service
        self.task = definitions.task
        deployment = self.service.get("deploymentConfiguration")
        self.deployment: dict[str, Any] = deployment if isinstance(deployment, dict) else {}
        self.strategy = str(self.deployment.get("strategy", Strategy.ROLLING))
        hooks = self.deployment.get("lifecycleHooks")
        self.hooks = [
            _Hook(i, f"$.deploymentConfiguration.lifecycleHooks[{i}]", h)
            for i, h in enumerate(hooks if isinstance(hooks, list) else [])
            if isinstance(h, dict)
        ]
        load_balancers = self.service.get("loadBalancers")
        self.load_balancers = [lb for lb in load_balancers or [] if isinstance(lb, dict)]

    def service_finding(self, rule: str, path: str, message: str) -> Finding:
        return RULES[rule].finding(self.definitions.service_file, path, message)

    def task_finding(self, rule: str, path: str, message: str) -> Finding:
        return RULES[rule].finding(self.definitions.task_file, path, message)


Check = Callable[[_Context], Iterator[Finding]]


def _deployment_controller(ctx: _Context) -> Iterator[Finding]:
    controller = ctx.service.get("deploymentController") or {}
    kind = controller.get("type", "ECS") if isinstance(controller, dict) else "ECS"
    if kind != "ECS" and (ctx.strategy != Strategy.ROLLING or ctx.hooks):
        yield ctx.service_finding(
            "ECS010",
            "$.deploymentController.type",
            f"deployment controller {kind} ignores strategy {ctx.strategy} and lifecycleHooks",
        )


def _bake_times(ctx: _Context) -> Iterator[Finding]:
    base = "$.deploymentConfiguration"
    if ctx.strategy == Strategy.BLUE_GREEN and "bakeTimeInMinutes" not in ctx.deployment:
        yield ctx.service_finding(
            "ECS011", f"{base}.bakeTimeInMinutes", "strategy BLUE_GREEN needs a bake time"
        )
    bake_times = [(f"{base}.bakeTimeInMinutes", ctx.deployment.get("bakeTimeInMinutes"))]
    for member, field in STRATEGY_CONFIGURATION.values():
        configuration = ctx.deployment.get(member)
        if isinstance(configuration, dict):
            bake_times.append((f"{base}.{member}.{field}", configuration.get(field)))
    for path, minutes in bake_times:
        if isinstance(minutes, int | float) and not BAKE_TIME_MINUTES.admits(minutes):
            limit = f"{BAKE_TIME_MINUTES.minimum}-{BAKE_TIME_MINUTES.maximum}"
            yield ctx.service_finding("ECS012", path, f"bake time {minutes} is outside {limit} minutes")


def _strategy_configuration(ctx: _Context) -> Iterator[Finding]:
    base = "$.deploymentConfiguration"
    linear = ctx.deployment.get("linearConfiguration")
    if isinstance(linear, dict):
        step = linear.get("stepPercent")
        # Multiples of 0.1, compared in tenths so that float noise (0.30000000000000004) passes.
        if isinstance(step, int | float) and not (
            LINEAR_STEP_PERCENT.admits(step) and abs(step * 10 - round(step * 10)) < 1e-9
        ):
            path = f"{base}.linearConfiguration.stepPercent"
            limit = f"{LINEAR_STEP_PERCENT.minimum}-{LINEAR_STEP_PERCENT.maximum}"
            yield ctx.service_finding("ECS013", path, f"stepPercent {step} is not {limit} in steps of 0.1")
    canary = ctx.deployment.get("canaryConfiguration")
    if isinstance(canary, dict):
        percent = canary.get("canaryPercent")
        if isinstance(percent, int | float) and not CANARY_PERCENT.admits(percent):
            path = f"{base}.canaryConfiguration.canaryPercent"
            limit = f"{CANARY_PERCENT.minimum}-{CANARY_PERCENT.maximum}"
            yield ctx.service_finding("ECS014", path, f"canaryPercent {percent} is not within {limit}")
    for strategy, (member, _) in STRATEGY_CONFIGURATION.items():
        if member in ctx.deployment and ctx.strategy != strategy:
            message = f"{member} is only read with strategy {strategy}, not {ctx.strategy}"
            yield ctx.service_finding("ECS015", f"{base}.{member}", message)


def _hook_stages(ctx: _Context) -> Iterator[Finding]:
    for hook in ctx.hooks:
        if ctx.strategy == Strategy.ROLLING:
            for i, stage in enumerate(hook.stages):
                if stage not in ROLLING_HOOK_STAGES:
                    message = (
                        f"UNCONFIRMED that a ROLLING deployment runs {stage}; AWS documents PRE_SCALE_UP"
                    )
                    yield ctx.service_finding("ECS021", f"{hook.path}.lifecycleStages[{i}]", message)
        if hook.target_type != TargetType.PAUSE:
            continue
        for i, stage in enumerate(hook.stages):
            if stage in SHIFT_STAGES:
                message = f"PAUSE hooks are not allowed at {stage}"
                yield ctx.service_finding("ECS020", f"{hook.path}.lifecycleStages[{i}]", message)


def _hook_counts(ctx: _Context) -> Iterator[Finding]:
    for target_type in TargetType:
        hooks = [hook for hook in ctx.hooks if hook.target_type == target_type]
        if len(hooks) > MAX_HOOKS_PER_TARGET_TYPE:
            message = f"{len(hooks)} {target_type} hooks; ECS allows {MAX_HOOKS_PER_TARGET_TYPE}"
            yield ctx.service_finding("ECS022", hooks[MAX_HOOKS_PER_TARGET_TYPE].path, message)


def _hook_targets(ctx: _Context) -> Iterator[Finding]:
    for hook in ctx.hooks:
        if hook.target_type == TargetType.PAUSE:
            extra = [k for k in ("hookTargetArn", "roleArn", "hookDetails") if k in hook.spec]
            for key in extra:
                yield ctx.service_finding("ECS024", f"{hook.path}.{key}", f"a PAUSE hook takes no {key}")
            continue
        for key in ("hookTargetArn", "roleArn"):
            if not hook.spec.get(key):
                yield ctx.service_finding("ECS024", f"{hook.path}.{key}", f"an AWS_LAMBDA hook needs {key}")
        timeout = hook.spec.get("timeoutConfiguration")
        minutes = timeout.get("timeoutInMinutes") if isinstance(timeout, dict) else None
        if isinstance(minutes, int) and minutes > LAMBDA_HOOK_TIMEOUT_MINUTES.maximum:
            path = f"{hook.path}.timeoutConfiguration.timeoutInMinutes"
            message = f"{minutes} minutes; Lambda hooks allow at most {LAMBDA_HOOK_TIMEOUT_MINUTES.maximum}"
            yield ctx.service_finding("ECS023", path, message)


def _hook_details(ctx: _Context) -> Iterator[Finding]:
    # hookDetails are "custom parameters that Amazon ECS passes to your Lambda function" (API reference,
    # DeploymentLifecycleHook): any keys, the hook's author's. Only a hook built on ecs_bg says which it
    # takes, by the very parser and validator it runs when it starts, so lint and runtime never disagree.
    for hook in ctx.hooks:
        if hook.target_type != TargetType.AWS_LAMBDA:
            continue
        path = f"{hook.path}.hookDetails"
        try:
            details = parse_hook_details(hook.spec.get("hookDetails"))
        except ValueError as error:
            yield ctx.service_finding("ECS025", path, str(error))
            continue
        function = ctx.options.functions.get(function_name(str(hook.spec.get("hookTargetArn", ""))))
        probed = None
        if function is not None and details:  # nothing configured: nothing to judge
            try:
                probed = probe(function, [details])
            except DefinitionError as error:
                yield ctx.service_finding("ECS025", path, f"cannot judge them: {error}")
                continue
        if probed is not None and probed.ecs_bg:
            if problem := configured_size_problem(details):
                yield ctx.service_finding("ECS025", path, f"hookDetails is {problem}")
            for where, reason in probed.problems[0]:
                yield ctx.service_finding("ECS025", f"{path}.{where}", reason)
        elif (size := json_size(details)) > LAMBDA_SYNC_PAYLOAD_BYTES:
            # Any hook, ours or not, or an ARN of no known function: what holds for every Lambda hook.
            message = (
                f"hookDetails is {size} bytes as JSON; ECS invokes the hook with them, and Lambda takes at "
                f"most {LAMBDA_SYNC_PAYLOAD_BYTES} bytes in a synchronous invocation"
            )
            yield ctx.service_finding("ECS025", path, message)


def _hook_details_through_ecspresso(ctx: _Context) -> Iterator[Finding]:
    # ecspresso decodes the definition with Go's encoding/json into the AWS SDK for Go's types, where
    # hookDetails is a document.Interface: encoding/json cannot decode an object (or a string) into it
    # (src/ecs_bg/deploy/ecspresso_release.py has the evidence).
    for hook in ctx.hooks:
        if "hookDetails" in hook.spec and hook.target_type == TargetType.AWS_LAMBDA:
            message = (
                "ecspresso decodes the service definition into the AWS SDK for Go, whose hookDetails is "
                "a document type it cannot load; put these settings in the stack's hookDetails context"
            )
            yield ctx.service_finding("ECS041", f"{hook.path}.hookDetails", message)


def _smoke_tests(ctx: _Context) -> Iterator[Finding]:
    has_test_rule = any(
        isinstance(lb.get("advancedConfiguration"), dict)
        and lb["advancedConfiguration"].get("testListenerRule")
        for lb in ctx.load_balancers
    )
    for hook in ctx.hooks:
        smoke = hook.details.get("smokeTest")
        if not isinstance(smoke, dict) or smoke.get("listener", "test") != "test":
            continue
        path = f"{hook.path}.hookDetails.smokeTest"
        if not has_test_rule:
            message = "the smoke test targets the test listener, but no load balancer has a testListenerRule"
            yield ctx.service_finding("ECS026", path, message)
        if Stage.TEST_TRAFFIC_SHIFT in hook.stages and Stage.POST_TEST_TRAFFIC_SHIFT not in hook.stages:
            message = "at TEST_TRAFFIC_SHIFT the test listener is still shifting to green"
            yield ctx.service_finding("ECS027", path, message)


def _load_balancers(ctx: _Context) -> Iterator[Finding]:
    containers = {
        c.get("name"): {p.get("containerPort") for p in c.get("portMappings") or [] if isinstance(p, dict)}
        for c in ctx.task.get("containerDefinitions") or []
        if isinstance(c, dict)
    }
    for i, lb in enumerate(ctx.load_balancers):
        path = f"$.loadBalancers[{i}]"
        name, port = lb.get("containerName"), lb.get("containerPort")
        if name not in containers:
            message = f'container "{name}" is not in the task definition ({", ".join(map(str, containers))})'
            yield ctx.service_finding("ECS031", f"{path}.containerName", message)
        elif port not in containers[name]:
            message = f'container "{name}" maps no containerPort {port}'
            yield ctx.service_finding("ECS031", f"{path}.containerPort", message)
        if ctx.strategy not in TRAFFIC_SHIFT_STRATEGIES:
            continue
        advanced = lb.get("advancedConfiguration")
        if not isinstance(advanced, dict):
            message = f"strategy {ctx.strategy} needs an advancedConfiguration to shift traffic"
            yield ctx.service_finding("ECS030", f"{path}.advancedConfiguration", message)
            continue
        for key in ("alternateTargetGroupArn", "productionListenerRule", "roleArn"):
            if not advanced.get(key):
                yield ctx.service_finding(
                    "ECS030", f"{path}.advancedConfiguration.{key}", f"{key} is missing"
                )
        if advanced.get("alternateTargetGroupArn") and advanced["alternateTargetGroupArn"] == lb.get(
            "targetGroupArn"
        ):
            message = "the alternate target group is the primary one; blue and green need a group each"
            yield ctx.service_finding(
                "ECS030", f"{path}.advancedConfiguration.alternateTargetGroupArn", message
            )


def _alarms(ctx: _Context) -> Iterator[Finding]:
    alarms = ctx.deployment.get("alarms")
    if (
        isinstance(alarms, dict)
        and alarms.get("alarmNames")
        and not (alarms.get("enable") and alarms.get("rollback"))
    ):
        message = "alarms are listed but enable or rollback is false, so an alarm never rolls back"
        yield ctx.service_finding("ECS032", "$.deploymentConfiguration.alarms", message)


_VERSION = re.compile(r"(>=|<=|!=|~>|>|<|=)?\s*v?(\d+)\.(\d+)(?:\.(\d+))?")


def _ecspresso_version(ctx: _Context) -> Iterator[Finding]:
    config = ctx.definitions.config
    if not ctx.hooks:
        return
    constraint = config.required_version or ""
    # A lower bound of at least ECSPRESSO_RELEASE anywhere in the constraint guarantees an ecspresso
    # whose SDK carries targetType and timeoutConfiguration (ecspresso_release.py has the evidence).
    bounds = [
        (int(m[1]), int(m[2]), int(m[3] or 0))
        for m in _VERSION.findall(constraint)
        if m[0] in (">=", ">", "~>", "=")
    ]
    if not any(bound >= ECSPRESSO_MINIMUM for bound in bounds):
        found = f'required_version is "{constraint}"' if constraint else "no required_version"
        message = (
            f"{found}; ecspresso before {ECSPRESSO_RELEASE} drops targetType and timeoutConfiguration "
            "with only a warning"
        )
        yield RULES["ECS040"].finding(str(config.path), "$.required_version", message)


def _cpu_architecture(ctx: _Context) -> Iterator[Finding]:
    platform = ctx.task.get("runtimePlatform")
    architecture = platform.get("cpuArchitecture") if isinstance(platform, dict) else None
    if architecture is None:
        if "FARGATE" in (ctx.task.get("requiresCompatibilities") or []):
            message = "no cpuArchitecture: Fargate runs X86_64"
            yield ctx.task_finding("ECS051", "$.runtimePlatform.cpuArchitecture", message)
        architecture = "X86_64"
    if ctx.options.image_architectures and architecture not in ctx.options.image_architectures:
        built = ", ".join(sorted(ctx.options.image_architectures))
        message = f"the task runs {architecture} but the image is built for {built}"
        yield ctx.task_finding("ECS050", "$.runtimePlatform.cpuArchitecture", message)


CHECKS: tuple[Check, ...] = (
    _deployment_controller,
    _bake_times,
    _strategy_configuration,
    _hook_stages,
    _hook_counts,
    _hook_targets,
    _hook_details,
    _hook_details_through_ecspresso,
    _smoke_tests,
    _load_balancers,
    _alarms,
    _ecspresso_version,
    _cpu_architecture,
)


def rule_findings(definitions: Definitions, options: LintOptions) -> list[Finding]:
    ctx = _Context(definitions, options)
    return [finding for check in CHECKS for finding in check(ctx)]
