"""AfterAllowTraffic hook (POST_PRODUCTION_TRAFFIC_SHIFT): checks production, announces the result.

Blue keeps running through the bake time after this stage, so a failure here still rolls back
with a weight flip.
"""

from ecs_bg.hooks import HookContext, LifecycleHook, Stage

hook = LifecycleHook("after-allow-traffic", defaults={"smokeTest": {"listener": "production"}})


@hook.stage(Stage.POST_PRODUCTION_TRAFFIC_SHIFT)
def check_production(ctx: HookContext) -> None:
    ctx.run_checks("smokeTest")
    ctx.logger.info("production is serving green", extra={"green": ctx.event.green_revision_arn})


handler = hook.handler
