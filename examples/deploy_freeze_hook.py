"""No deployment during a freeze: an SSM parameter says whether one is on.

The function's role needs ssm:GetParameter on the parameter.

hookDetails: {"freeze": {"parameter": "/ecs-bg/deploy-freeze"}}
"""

from dataclasses import dataclass

from ecs_bg.hooks import CheckFailed, CheckSettings, HookContext, LifecycleHook, Stage
from ecs_bg.hooks.aws import AwsCallFailed, call


@dataclass(frozen=True, kw_only=True)
class Freeze(CheckSettings):
    parameter: str = "/ecs-bg/deploy-freeze"


hook = LifecycleHook("deploy-freeze", custom_keys=["freeze"])


@hook.stage(Stage.PRE_SCALE_UP)
def not_during_a_freeze(ctx: HookContext) -> None:
    settings = ctx.settings(Freeze, "freeze")
    try:
        answer = call("ssm", ctx.event.deployment.region, "GetParameter", Name=settings.parameter)
    except AwsCallFailed as error:
        if error.code != "ParameterNotFound":
            raise CheckFailed("freeze", error.reason) from None
        return  # no parameter: no freeze
    reason = answer["Parameter"]["Value"].strip()
    if reason:
        raise CheckFailed("freeze", f"deployments are frozen: {reason}")


handler = hook.handler
