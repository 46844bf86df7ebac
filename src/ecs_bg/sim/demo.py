"""``ecs-bg demo``: the seed's four hooks decide a deployment, stage by stage, on this machine.

Green is a local HTTP server behind both "listeners"; each hook entry file is invoked as Lambda
invokes it, with the event ECS would send at that stage. A second run makes green answer 500
through the test listener and shows the rollback: the hook fails, ECS re-invokes the
TEST_TRAFFIC_SHIFT hook with the weights reversed, and the hook lets it through.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ecs_bg.hooks.event import Stage
from ecs_bg.sim.events import lifecycle_event
from ecs_bg.sim.invoke import LoadedHook, invoke, load_hook
from ecs_bg.sim.lambda_context import LocalLambdaContext
from ecs_bg.sim.plan import DeploymentSpec, plan_stages

LAMBDA_DIR = Path("infrastructure/lib/constructs/lambda")
# Where the seed (plus POST_TEST_TRAFFIC_SHIFT for the smoke test) attaches each hook.
HOOK_STAGES: dict[str, tuple[Stage, ...]] = {
    "before_install": (Stage.PRE_SCALE_UP,),
    "after_install": (Stage.POST_SCALE_UP,),
    "before_allow_traffic": (Stage.TEST_TRAFFIC_SHIFT, Stage.POST_TEST_TRAFFIC_SHIFT),
    "after_allow_traffic": (Stage.POST_PRODUCTION_TRAFFIC_SHIFT,),
}
# The order ECS walks a BLUE_GREEN deployment in, from the simulator's own plan.
BLUE_GREEN_STAGES = tuple(planned.stage for planned in plan_stages(DeploymentSpec()))
# What ecs-service-def.json would configure on each hook. There is no AWS here, so the checks that
# ask it (task and target health, alarms, notifications) are switched off; HTTP checks run for real.
HOOK_DETAILS: dict[str, dict[str, Any]] = {
    "before_install": {"notify": False},
    "after_install": {"ecsReadiness": False},
    "before_allow_traffic": {
        "targetHealth": False,
        "smokeTest": {"path": "/health", "attempts": 2, "intervalSeconds": 0.2},
    },
    "after_allow_traffic": {
        "alarmGate": False,
        "notify": False,
        "smokeTest": {"path": "/health", "attempts": 1},
    },
}


@dataclass(frozen=True)
class Row:
    stage: str
    hook: str
    decision: str
    duration_ms: float | None
    reason: str


@contextmanager
def local_green(status: int) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering every path with ``status``, standing in for green."""

    class Green(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"status":"ok","colour":"green"}' if status == 200 else b'{"error":"boom"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Green)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_deployment(hooks: dict[str, LoadedHook], green_status: int) -> tuple[str, list[Row]]:
    """Walk the BLUE_GREEN stages, invoking the hooks at each; a FAILED hook starts the rollback."""
    rows: list[Row] = []
    with local_green(green_status) as url:
        os.environ["ECS_BG_TEST_URL"] = os.environ["ECS_BG_PRODUCTION_URL"] = url
        for stage_name in BLUE_GREEN_STAGES:
            names = [name for name, stages in HOOK_STAGES.items() if stage_name in stages]
            if not names:
                rows.append(Row(stage_name, "", "", None, "no hooks here: ECS's own work"))
                continue
            failed = False
            for name in names:
                result = call(hooks[name], lifecycle_event(stage_name, hook_details=HOOK_DETAILS[name]))
                rows.append(
                    Row(stage_name, name, result.response["hookStatus"], result.duration_ms, result.reason)
                )
                failed = failed or result.response["hookStatus"] == "FAILED"
            if failed:
                # ECS rolls back by re-invoking the shift-stage hooks with the weights turned back to blue.
                for rollback_stage in (Stage.TEST_TRAFFIC_SHIFT, Stage.PRODUCTION_TRAFFIC_SHIFT):
                    for name in (n for n, stages in HOOK_STAGES.items() if rollback_stage in stages):
                        event = lifecycle_event(
                            rollback_stage, rollback=True, hook_details=HOOK_DETAILS[name]
                        )
                        result = call(hooks[name], event)
                        status = result.response["hookStatus"]
                        rows.append(
                            Row(
                                f"{rollback_stage} (rollback)",
                                name,
                                status,
                                result.duration_ms,
                                result.reason,
                            )
                        )
                return "ROLLBACK_SUCCESSFUL", rows
    return "SUCCESSFUL", rows


def call(hook: LoadedHook, event: dict[str, Any]) -> Any:
    return invoke(hook, event, LocalLambdaContext(hook.path.stem, timeout_seconds=300))


def load_hooks(lambda_dir: Path = LAMBDA_DIR) -> dict[str, LoadedHook]:
    return {name: load_hook(lambda_dir / f"{name}_hook.py") for name in HOOK_STAGES}
