"""AfterAllowTraffic hook (POST_PRODUCTION_TRAFFIC_SHIFT): checks production, announces the result.

Production answers through its listener, the gate alarms stay quiet (and any metric gate holds),
then the result goes to the notification channels. Blue keeps running through the bake time after
this stage, so a failure here still rolls back with a weight flip.
"""

from ecs_bg.hooks import HookContext, LifecycleHook, Stage

hook = LifecycleHook(
    "after-allow-traffic", defaults={"smokeTest": {"listener": "production"}, "alarmGate": {}, "notify": {}}
)


@hook.stage(Stage.POST_PRODUCTION_TRAFFIC_SHIFT)
def check_production(ctx: HookContext) -> None:
    ctx.run_checks("smokeTest", "alarmGate", "metricGate", "notify")


handler = hook.handler
