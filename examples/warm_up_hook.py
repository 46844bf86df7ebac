"""Wait until green is warm before any traffic reaches it: ``ctx.wait_until``.

The probe runs every ``intervalSeconds`` inside the invocation; when the function's time runs
short the hook answers IN_PROGRESS and ECS calls it again, and the wait resumes where it was.

hookDetails: {"warmUp": {"path": "/ready", "intervalSeconds": 5, "timeoutSeconds": 600}}
"""

import os
import urllib.error
import urllib.request
from dataclasses import dataclass

from ecs_bg.hooks import CheckSettings, HookContext, LifecycleHook, Stage, Verdict


@dataclass(frozen=True, kw_only=True)
class WarmUp(CheckSettings):
    path: str = "/ready"
    interval_seconds: float = 5.0
    timeout_seconds: float = 600.0


hook = LifecycleHook("warm-up", custom_keys=["warmUp"])


@hook.stage(Stage.TEST_TRAFFIC_SHIFT)
def wait_until_green_is_warm(ctx: HookContext) -> None:
    settings = ctx.settings(WarmUp, "warmUp")
    url = os.environ["ECS_BG_TEST_URL"] + settings.path

    def is_warm() -> Verdict:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310
                return Verdict.passed("green is warm")
        except urllib.error.HTTPError as error:
            return Verdict.pending(f"green answers {error.code}")
        except OSError as error:
            return Verdict.pending(f"green unreachable: {type(error).__name__}")

    ctx.wait_until("warmUp", is_warm, interval=settings.interval_seconds, timeout=settings.timeout_seconds)


handler = hook.handler
