"""The simulator's numbers, each beside its baseline from the same run.

- wall time of the default simulated BLUE_GREEN deployment (your hooks, 1-minute bake) against
  the ECS time it simulates (goal: <= 3 s wall);
- failed production requests under steady load, good deployment and rollback (goal: 0);
- how soon a hook waiting for a condition reports after it turns true, against waiting for ECS's
  callBackDelay to invoke the hook again (goal: <= 1 s).
"""

from __future__ import annotations

import asyncio
import io
import statistics
import threading
import time

from ecs_bg.hooks import LifecycleHook, Stage, Verdict
from ecs_bg.hooks.result import DEFAULT_CALLBACK_DELAY
from ecs_bg.sim.events import lifecycle_event
from ecs_bg.sim.lambda_context import LocalLambdaContext
from ecs_bg.sim.scenarios import SCENARIOS
from ecs_bg.sim.simulation import Options, Simulation


def simulate(name: str) -> tuple[float, float, dict[str, int], str]:
    options = Options()
    SCENARIOS[name].adjust(options)
    report = asyncio.run(Simulation(options).run()).to_json()
    stages = report["stages"]
    simulated = (stages[-1]["end"] or stages[-1]["start"]) - stages[0]["start"]
    production = report["traffic"]["production"]
    return (
        report["wallSeconds"],
        simulated,
        {"requests": production["requests"], "errors": production["errors"]},
        report["status"],
    )


def wait_latency(runs: int = 8, interval: float = 1.0) -> list[float]:
    """Seconds from a condition turning true to the hook's answer, polling inside the invocation
    every ``interval`` (the checks' shortest setting); the condition turns true at varied moments."""
    latencies = []
    for run in range(runs):
        flipped_at: list[float] = []

        def probe(at: list[float] = flipped_at) -> Verdict:
            return Verdict.passed("ready") if at else Verdict.pending("not yet")

        hook = LifecycleHook(f"bench-wait-{run}", log_stream=io.StringIO())
        hook.stage(Stage.POST_SCALE_UP)(
            lambda ctx, probe=probe: ctx.wait_until("ready", probe, interval=interval) and None
        )
        threading.Timer(
            0.3 + run * interval / runs, lambda at=flipped_at: at.append(time.monotonic())
        ).start()
        context = LocalLambdaContext("bench", timeout_seconds=60)
        assert hook.handler(lifecycle_event("POST_SCALE_UP"), context) == {"hookStatus": "SUCCEEDED"}
        latencies.append(time.monotonic() - flipped_at[0])
    return latencies


def main() -> None:
    wall, simulated, production, status = simulate("good")
    print("default simulated BLUE_GREEN deployment (your hooks, real apps, local AWS)")
    print(f"  ECS time simulated (baseline)  {simulated:7.1f} s")
    ratio = wall / simulated
    print(
        f"  wall time                      {wall:7.1f} s  x{ratio:.3f} of ECS time  (goal <= 3 s)  {status}"
    )
    print("failed production requests under steady load (goal 0)")
    print(f"  good deployment                {production['errors']:4d} of {production['requests']}")
    _, _, rollback, status = simulate("test-listener-500")
    print(f"  rollback (test listener 500)   {rollback['errors']:4d} of {rollback['requests']}  {status}")
    latencies = wait_latency()
    median, worst = statistics.median(latencies), max(latencies)
    delay = DEFAULT_CALLBACK_DELAY
    print("a waiting hook reports after its condition turns true (goal <= 1 s)")
    print(f"  waiting for ECS's callBackDelay (baseline)   up to {delay} s, {delay / 2:.0f} s on average")
    print(f"  polling inside the invocation, 1 s interval  median {median:.2f} s, max {worst:.2f} s")


if __name__ == "__main__":
    main()
