"""The simulation's report: what happened, in the JSON ``ecs-bg simulate --report`` writes.

Times are simulated seconds since the deployment started; each part is shaped here from the engine's
records, so the report tells everything without the reader subtracting anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    status: str
    stages: list[dict[str, Any]]
    hook_invocations: list[dict[str, Any]]
    traffic: dict[str, Any]
    wall_seconds: float
    rollback_reason: str | None = None
    alarms: dict[str, Any] = field(default_factory=dict)  # watched alarms, state changes, publish problems
    tasks: dict[str, Any] = field(default_factory=dict)  # replacements by the service scheduler, what is left
    step_bakes: list[dict[str, Any]] = field(default_factory=list)  # LINEAR/CANARY bakes, each its own entry
    pause_hooks: list[dict[str, Any]] = field(default_factory=list)  # PAUSE waits: hookId, status, times
    final_state: dict[str, Any] = field(default_factory=dict)  # weights and tasks at the final status
    rollback_problems: list[str] = field(default_factory=list)  # failures a rollback carried on past
    status_reason: str | None = None  # ServiceDeployment.statusReason: why a rollback failed, say

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "rollbackReason": self.rollback_reason,
            "statusReason": self.status_reason,
            "wallSeconds": round(self.wall_seconds, 3),
            "stages": self.stages,
            "hookInvocations": self.hook_invocations,
            "traffic": self.traffic,
            "alarms": self.alarms,
            "tasks": self.tasks,
            "stepBakes": self.step_bakes,
            "pauseHooks": self.pause_hooks,
            "finalState": self.final_state,
            "rollbackProblems": self.rollback_problems,
        }


def _rounded(moment: float | None) -> float | None:
    return round(moment, 3) if moment is not None else None


def step_bakes(stages: Iterable[Any]) -> list[dict[str, Any]]:
    """A LINEAR or CANARY step's bake as its own entry (ECS names no stage for it)."""
    return [
        {"step": r.step, "start": round(r.bake_start, 3), "end": _rounded(r.end)}
        for r in stages
        if r.bake_start is not None
    ]


def pause_hooks(pauses: Iterable[Any]) -> list[dict[str, Any]]:
    """Every PAUSE wait: the id ECS gave it, how it ended and when."""
    return [
        {
            "hookId": run.hook_id,
            "stage": str(run.stage),
            "step": run.step,
            "status": run.status,
            "start": round(run.started, 3),
            "end": _rounded(run.ended),
            "timeoutAction": run.hook.timeout_action,
        }
        for run in pauses
    ]


def stage_json(record: Any) -> dict[str, Any]:
    entry = {"stage": str(record.stage), "start": round(record.start, 3), "end": None}
    if record.end is not None:
        entry["end"] = round(record.end, 3)
    if record.step is not None:
        entry["step"] = record.step
    if record.bake_start is not None:
        entry["bakeStart"] = round(record.bake_start, 3)
    return entry


def traffic(
    stats: Any, load: Any, weights: list[dict[str, Any]], intervals: list[dict[str, Any]]
) -> dict[str, Any]:
    """Production as the load generator saw it (every request it sent), test as the load balancer
    counted it (the hooks' requests); per revision from the load balancer's target groups. Over time:
    each change of the listeners' weights, and production requests per interval."""

    def listener(name: str) -> dict[str, Any]:
        totals = stats.listeners.get(name)
        return {
            "requests": totals.requests if totals else 0,
            "errors": (totals.target_5xx + totals.elb_5xx) if totals else 0,
        }

    production: dict[str, Any] = {"loadBalancer": listener("production")}
    if load is not None:
        production |= {
            "requests": load.requests,
            "errors": load.errors,
            "byRevision": dict(load.by_group),
            "failures": [dataclasses.asdict(failure) for failure in load.failures[:20]],
            "intervals": intervals,
        }
    return {
        "production": production,
        "test": listener("test"),
        "byRevision": {
            g: {"requests": s.requests, "errors": s.target_5xx + s.elb_5xx} for g, s in stats.groups.items()
        },
        "weights": weights,
    }
