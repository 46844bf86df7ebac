"""Green must report the revision you expect: a stage function with its own settings.

hookDetails: {"expectedRevision": {"revision": "r2", "path": "/version"}}
"""

import json
import os
import urllib.request
from dataclasses import dataclass

from ecs_bg.hooks import CheckFailed, CheckSettings, HookContext, LifecycleHook, Stage


@dataclass(frozen=True, kw_only=True)
class ExpectedRevision(CheckSettings):
    revision: str  # required: a hookDetails without it fails, naming the field
    path: str = "/version"
    timeout_seconds: float = 5.0


hook = LifecycleHook("expected-revision", custom_keys=["expectedRevision"])


@hook.stage(Stage.POST_TEST_TRAFFIC_SHIFT)
def green_reports_the_expected_revision(ctx: HookContext) -> None:
    settings = ctx.settings(ExpectedRevision, "expectedRevision")
    url = os.environ["ECS_BG_TEST_URL"] + settings.path  # only green answers on the test listener
    with urllib.request.urlopen(url, timeout=settings.timeout_seconds) as response:  # noqa: S310
        revision = json.load(response).get("revision")
    ctx.logger.info("green's revision", extra={"revision": revision})
    if revision != settings.revision:
        raise CheckFailed("expectedRevision", f"green reports {revision!r}, expected {settings.revision!r}")


handler = hook.handler
