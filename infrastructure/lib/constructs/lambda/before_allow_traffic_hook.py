"""BeforeAllowTraffic hook: green's targets are healthy and it passes a smoke test through the test listener.

At TEST_TRAFFIC_SHIFT (the seed's stage) the shift is under way, so the test retries while it
settles; at POST_TEST_TRAFFIC_SHIFT green has all test traffic. Either way a failure rolls back
before production sees green. During a rollback ECS re-invokes TEST_TRAFFIC_SHIFT with the weights
reversed; the runtime answers SUCCEEDED at once.
"""

from ecs_bg.hooks import HookContext, LifecycleHook, Stage

hook = LifecycleHook("before-allow-traffic", defaults={"targetHealth": {}, "smokeTest": {"listener": "test"}})


@hook.stage(Stage.TEST_TRAFFIC_SHIFT, Stage.POST_TEST_TRAFFIC_SHIFT)
def smoke_test_green(ctx: HookContext) -> None:
    ctx.run_checks("targetHealth", "smokeTest")


handler = hook.handler
