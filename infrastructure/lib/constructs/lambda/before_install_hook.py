"""BeforeInstall hook (PRE_SCALE_UP): announces the deployment before ECS starts green's tasks.

With ``approval`` in hookDetails it first waits for a person to approve the revision (the first
deployment of a service goes through without one).
"""

from ecs_bg.hooks import HookContext, LifecycleHook, Stage

hook = LifecycleHook("before-install", defaults={"notify": {}})


@hook.stage(Stage.PRE_SCALE_UP)
def announce(ctx: HookContext) -> None:
    event = ctx.event
    ctx.logger.info(
        "deployment starting",
        extra={
            "green": event.green_revision_arn,
            "blue": event.blue_revision_arn,
            "deployment": event.deployment.arn,
        },
    )
    ctx.run_checks("approval", "notify")


handler = hook.handler
