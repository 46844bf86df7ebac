"""A check of your own, registered from your own file: deployments only while the release window
(an SSM parameter) says "open".

Registering it makes ``releaseWindow`` a hookDetails key like the built-in checks': its settings are
validated when the hook runs and by ``ecs-bg lint``, ``dryRun`` and the "check verdict" log line
work as theirs do, and the CDK app grants its permissions to the role of every hook whose code
registers it.

hookDetails: {"releaseWindow": {"parameter": "/ecs-bg/release-window"}}
"""

from dataclasses import dataclass

from ecs_bg.hooks import CheckFailed, CheckSettings, HookContext, Permission, Verdict, register_check
from ecs_bg.hooks.aws import call

PARAMETERS = "arn:aws:ssm:*:*:parameter/ecs-bg/release-window*"


@dataclass(frozen=True, kw_only=True)
class ReleaseWindow(CheckSettings):
    parameter: str = "/ecs-bg/release-window"


@register_check(
    "releaseWindow",
    ReleaseWindow,
    permissions=(
        Permission(
            ("ssm:GetParameter",),
            PARAMETERS,
            wildcard_reason="The release-window parameters, in whichever region and account the hook runs.",
        ),
    ),
)
def release_window_is_open(ctx: HookContext, settings: ReleaseWindow) -> Verdict:
    answer = call("ssm", ctx.event.deployment.region, "GetParameter", Name=settings.parameter)
    state = answer["Parameter"]["Value"].strip()
    if state != "open":
        raise CheckFailed("releaseWindow", f"the release window is {state!r}, not 'open'")
    return Verdict.passed("the release window is open")
