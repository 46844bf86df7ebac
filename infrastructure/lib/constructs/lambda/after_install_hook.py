"""AfterInstall hook (POST_SCALE_UP): confirms green is ready before any traffic reaches it.

Green's tasks must be running and healthy in the number ECS asked for; then the database
migration runs, when configured, as a one-off task of green's task definition. Green is not
behind a listener yet, so a smoke test here needs a ``url`` that reaches green directly.
"""

from ecs_bg.hooks import HookContext, LifecycleHook, Stage

hook = LifecycleHook("after-install", defaults={"ecsReadiness": {}})


@hook.stage(Stage.POST_SCALE_UP)
def confirm_green_ready(ctx: HookContext) -> None:
    ctx.run_checks("ecsReadiness", "migration", "targetHealth", "smokeTest")


handler = hook.handler
