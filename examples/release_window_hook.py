"""Runs your own check (release_window_check.py, beside this file) before green starts.

hookDetails: {"releaseWindow": {"parameter": "/ecs-bg/release-window", "dryRun": false}}
"""

import release_window_check  # noqa: F401 - registers the releaseWindow check

from ecs_bg.hooks import HookContext, LifecycleHook, Stage

hook = LifecycleHook("release-window", defaults={"releaseWindow": {}})


@hook.stage(Stage.PRE_SCALE_UP)
def inside_the_release_window(ctx: HookContext) -> None:
    ctx.run_checks("releaseWindow")


handler = hook.handler
