"""BeforeInstall hook (PRE_SCALE_UP): announces the deployment before ECS starts green's tasks."""

from ecs_bg.hooks import HookContext, LifecycleHook, Stage

hook = LifecycleHook("before-install")


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


handler = hook.handler
