"""AfterInstall hook (POST_SCALE_UP): confirms green is ready before any traffic reaches it.

Green is not behind a listener yet, so the smoke test runs only when hookDetails names a ``url``
that reaches green directly.
"""

from ecs_bg.hooks import HookContext, LifecycleHook, Stage

hook = LifecycleHook("after-install")


@hook.stage(Stage.POST_SCALE_UP)
def confirm_green_ready(ctx: HookContext) -> None:
    ctx.run_checks("smokeTest")


handler = hook.handler
