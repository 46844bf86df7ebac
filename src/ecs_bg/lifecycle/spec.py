"""A service's ``deploymentConfiguration`` (as CreateService/UpdateService sent it) as the engine's
``DeploymentSpec``. A Lambda hook's id is its function's name, which the world invokes; the same
function named by a second hook (another stage) gets ``<name>#<index>``, since the engine keys hooks
by id."""

from __future__ import annotations

from typing import Any

from ecs_bg.hooks import ecs
from ecs_bg.hooks.config import parse_hook_details
from ecs_bg.hooks.ecs import Stage, Strategy, TargetType, function_name
from ecs_bg.lifecycle.events import ServiceIds
from ecs_bg.lifecycle.plan import DeploymentSpec, HookSpec, validate

HOOK_SUFFIX = "#"


def function_of(hook_id: str) -> str:
    """The function a Lambda hook's id invokes."""
    return hook_id.split(HOOK_SUFFIX, 1)[0]


def deployment_spec(
    configuration: dict[str, Any],
    ids: ServiceIds | None = None,
    *,
    first_deployment: bool,
    scale_up_timeout_minutes: float = 30,
) -> DeploymentSpec:
    """The spec; ``ValueError`` names what ECS would refuse."""
    hooks: list[HookSpec] = []
    for index, hook in enumerate(configuration.get("lifecycleHooks", [])):
        target_type = hook.get("targetType", TargetType.AWS_LAMBDA)
        timeout = hook.get("timeoutConfiguration", {})
        try:
            stages = tuple(Stage(stage) for stage in hook.get("lifecycleStages", []))
        except ValueError as error:
            raise ValueError(f"lifecycleHooks[{index}].lifecycleStages: {error}") from None
        target = hook.get("hookTargetArn")
        if target_type == TargetType.AWS_LAMBDA and not target:
            raise ValueError(f"lifecycleHooks[{index}].hookTargetArn is required for AWS_LAMBDA")
        hook_id = function_name(target) if target_type == TargetType.AWS_LAMBDA else f"pause-{index}"
        if any(known.hook_id == hook_id for known in hooks):
            hook_id = f"{hook_id}{HOOK_SUFFIX}{index}"
        hooks.append(
            HookSpec(
                hook_id=hook_id,
                target_type=target_type,
                stages=stages,
                hook_details=_hook_details(hook.get("hookDetails"), index),
                timeout_minutes=float(
                    timeout.get("timeoutInMinutes", ecs.LAMBDA_HOOK_TIMEOUT_MINUTES.default or 0)
                ),
                timeout_action=timeout.get("action", ecs.DEFAULT_TIMEOUT_ACTION),
                target_arn=target,
            )
        )
    linear = configuration.get("linearConfiguration", {})
    canary = configuration.get("canaryConfiguration", {})
    alarms = configuration.get("alarms", {})
    spec = DeploymentSpec(
        ids=ids or ServiceIds(),
        strategy=configuration.get("strategy", Strategy.BLUE_GREEN),
        bake_time_minutes=float(configuration.get("bakeTimeInMinutes", 0)),
        step_percent=float(linear.get("stepPercent", ecs.LINEAR_STEP_PERCENT.default or 0)),
        step_bake_minutes=float(
            linear.get("stepBakeTimeInMinutes", ecs.LINEAR_STEP_BAKE_MINUTES.default or 0)
        ),
        canary_percent=float(canary.get("canaryPercent", ecs.CANARY_PERCENT.default or 0)),
        canary_bake_minutes=float(
            canary.get("canaryBakeTimeInMinutes", ecs.CANARY_BAKE_MINUTES.default or 0)
        ),
        hooks=tuple(hooks),
        alarms_rollback=bool(alarms.get("enable") and alarms.get("rollback")),
        first_deployment=first_deployment,
        scale_up_timeout_minutes=scale_up_timeout_minutes,
    )
    validate(spec)
    return spec


def _hook_details(value: object, index: int) -> dict[str, Any]:
    """A hook's configured hookDetails: an object, or a JSON string holding one (CloudFormation's
    HookDetails is a string; Terraform users write jsonencode(...)), as the hooks themselves read them."""
    try:
        return parse_hook_details(value)
    except ValueError as error:
        raise ValueError(f"lifecycleHooks[{index}].hookDetails: {error}") from None
