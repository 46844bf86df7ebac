"""The simulator's numbers, each beside its baseline from the same run.

- wall time of the default simulated BLUE_GREEN deployment (your hooks, 1-minute bake, the default
  240x clock), from its start to its final status, against the ECS time it simulates (goal: <= 2 s
  wall), over several runs; and ``make demo`` from start to exit (goal: <= 3 s), beside its floor:
  ``ecs-bg --help`` (the interpreter and the CLI's imports) and two bare starts of the sample app in
  a row (blue's tasks must serve before green's start; each revision's two start side by side);
- failed production requests under steady load, good deployment and rollback (goal: 0);
- how soon a hook waiting for a condition reports after it turns true, against waiting for ECS's
  callBackDelay to invoke the hook again (goal: <= 1 s).
"""

from __future__ import annotations

import asyncio
import io
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.local import ROOT, bare_app_start
from ecs_bg.hooks import LifecycleHook, Stage, Verdict
from ecs_bg.hooks.result import DEFAULT_CALLBACK_DELAY
from ecs_bg.lifecycle.events import lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from ecs_bg.simulate.config import apply
from ecs_bg.simulate.scenarios import SCENARIOS
from ecs_bg.simulate.simulation import Options, Simulation

CONFIG = Path(__file__).resolve().parents[1] / "ecspresso" / "ecspresso.yml"


def simulate(name: str) -> tuple[float, float, dict[str, int], str]:
    options = Options(config=CONFIG)
    apply(CONFIG.parent / "simulation.yml", options)
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


def whole_command(*args: str) -> float:
    """Seconds for ``ecs-bg ARGS`` in a fresh interpreter (``simulate --quiet``: as ``make demo`` runs it)."""
    began = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).with_name("ecs-bg")), *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - began


def make_demo() -> float:
    """Seconds for ``make demo`` (its environment already synced: Make finds nothing to do)."""
    began = time.perf_counter()
    subprocess.run(["make", "-s", "demo"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main(runs: int = 5) -> None:
    results = [simulate("good") for _ in range(runs)]
    walls = sorted(wall for wall, _, _, _ in results)
    _, simulated, _, status = results[0]
    statuses = {status for _, _, _, status in results}
    print(f"default simulated BLUE_GREEN deployment (your hooks, real apps, local AWS), {runs} runs")
    print(f"  ECS time simulated (baseline)  {simulated:7.1f} s")
    median = statistics.median(walls)
    print(
        f"  wall time, start to status     {median:7.2f} s median, {walls[-1]:.2f} s max  "
        f"x{median / simulated:.4f} of ECS time  (goal <= 2 s)  {', '.join(sorted(statuses))}"
    )
    cli = statistics.median(whole_command("--help") for _ in range(3))
    print(f"  ecs-bg --help (floor)          {cli:7.2f} s  (the interpreter and the CLI's imports)")
    app = statistics.median(bare_app_start() for _ in range(3))
    print(f"  bare sample app start (floor)  {app:7.2f} s  (blue's, then green's)")
    floor = cli + 2 * app
    whole = statistics.median(whole_command("simulate", "--quiet") for _ in range(3))
    print(f"  ecs-bg simulate --quiet        {whole:7.2f} s  x{whole / floor:.1f} of the floor")
    make_demo()  # Make syncs the environment if it must; the runs below start from a synced one
    demo = statistics.median(make_demo() for _ in range(3))
    print(f"  make demo, start to exit       {demo:7.2f} s  x{demo / floor:.1f} of the floor  (goal <= 3 s)")
    print("failed production requests under steady load (goal 0)")
    errors = sum(p["errors"] for _, _, p, _ in results)
    requests = sum(p["requests"] for _, _, p, _ in results)
    print(f"  good deployments               {errors:4d} of {requests}")
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
