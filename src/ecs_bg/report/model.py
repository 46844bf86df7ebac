"""What a deployment report holds, whichever source filled it.

A simulation fills it from its JSON report (``DeploymentReport.from_json``); a real deployment can
fill the same fields from DescribeServiceDeployments (stages), the hooks' ``hook decision`` log lines
(invocations) and the load balancer's metrics (weights, intervals). Times are seconds since the
deployment started; revisions are named by whatever the source uses ("blue"/"green", a revision id).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StageSpan:
    """One lifecycle stage, once per LINEAR/CANARY step; ``bake_start`` marks the step's bake."""

    stage: str
    start: float
    end: float | None
    step: int | None = None
    bake_start: float | None = None


@dataclass(frozen=True)
class HookMark:
    """One invocation of one hook and what it decided (SUCCEEDED, FAILED, IN_PROGRESS, or ECS's
    verdict on a bad answer: ERROR, INVALID, TIMED_OUT). ``reason`` is the hook's own words."""

    hook: str
    stage: str
    step: int | None
    rollback: bool
    status: str | None
    reason: str
    start: float | None
    end: float | None = None
    duration_ms: float | None = None
    output: str = ""  # what the function printed and logged during the invocation, as written
    log_stream: str | None = None  # where it went: the function's log group and stream


@dataclass(frozen=True)
class WeightChange:
    """The listeners' weighted forward from ``at`` on: revision -> weight, per listener."""

    at: float
    production: Mapping[str, float]
    test: Mapping[str, float]


@dataclass(frozen=True)
class Counts:
    requests: int
    errors: int


@dataclass(frozen=True)
class TrafficInterval:
    """Production requests that ended in [start, end); ``total`` also counts requests no revision
    answered (the load balancer's own errors, connection failures)."""

    start: float
    end: float
    total: Counts
    by_revision: Mapping[str, Counts]


@dataclass(frozen=True)
class PauseMark:
    """One PAUSE hook's wait: the id ECS gave it, how it ended (SUCCEEDED when resumed, FAILED,
    TIMED_OUT) and its timeout action."""

    hook_id: str
    stage: str
    step: int | None
    status: str | None
    start: float
    end: float | None
    timeout_action: str | None = None


@dataclass(frozen=True)
class StepBake:
    """A LINEAR or CANARY step's bake (ECS names no stage for it)."""

    step: int | None
    start: float
    end: float | None


@dataclass(frozen=True)
class Replacement:
    """A task the service scheduler replaced: in which revision, when, and why (``cause``)."""

    revision: str
    at: float
    cause: str
    replaced_by: str | None = None


@dataclass(frozen=True)
class AlarmWatch:
    """An alarm the deployment watches; ``evaluated`` False when the source could not judge it."""

    alarm: str
    measures: str
    evaluated: bool = True
    why: str = ""


@dataclass(frozen=True)
class AlarmChange:
    alarm: str
    state: str
    at: float
    reason: str


@dataclass(frozen=True)
class FinalState:
    """What the deployment left at its final status: weights per listener, running tasks per
    revision, and whether green still takes any traffic."""

    production: Mapping[str, float]
    test: Mapping[str, float]
    running_tasks: Mapping[str, int]
    green_serving: bool


@dataclass(frozen=True)
class DeploymentReport:
    status: str
    stages: tuple[StageSpan, ...]
    invocations: tuple[HookMark, ...]
    weights: tuple[WeightChange, ...] = ()
    intervals: tuple[TrafficInterval, ...] = ()
    production: Counts | None = None
    rollback_reason: str | None = None
    notes: tuple[str, ...] = ()  # what the source could not tell, said on the page
    status_reason: str | None = None  # ServiceDeployment.statusReason
    pauses: tuple[PauseMark, ...] = ()
    step_bakes: tuple[StepBake, ...] = ()
    final_state: FinalState | None = None
    replacements: tuple[Replacement, ...] = ()
    alarms: tuple[AlarmWatch, ...] = ()
    alarm_changes: tuple[AlarmChange, ...] = ()
    alarm_problems: tuple[str, ...] = ()
    rollback_problems: tuple[str, ...] = ()  # failures a rollback carried on past

    @classmethod
    def from_json(cls, report: Mapping[str, Any]) -> DeploymentReport:
        """From ``ecs-bg simulate --report``'s JSON; keys older reports lack are left empty."""
        traffic = report.get("traffic", {})
        production = traffic.get("production", {})
        alarms = report.get("alarms") or {}
        final = report.get("finalState") or None
        return cls(
            status=report["status"],
            rollback_reason=report.get("rollbackReason"),
            status_reason=report.get("statusReason"),
            pauses=tuple(
                PauseMark(
                    p["hookId"],
                    p["stage"],
                    p.get("step"),
                    p.get("status"),
                    p["start"],
                    p.get("end"),
                    p.get("timeoutAction"),
                )
                for p in report.get("pauseHooks", [])
            ),
            step_bakes=tuple(
                StepBake(b.get("step"), b["start"], b.get("end")) for b in report.get("stepBakes", [])
            ),
            final_state=FinalState(
                final.get("production", {}),
                final.get("test", {}),
                final.get("runningTasks", {}),
                bool(final.get("greenServing")),
            )
            if final
            else None,
            replacements=tuple(
                Replacement(r["group"], r["at"], _cause(r), r.get("replacedBy"))
                for r in (report.get("tasks") or {}).get("replacements", [])
            ),
            alarms=tuple(
                AlarmWatch(a["alarm"], a.get("measures", ""), a.get("evaluated", True), a.get("why", ""))
                for a in alarms.get("watched", [])
            ),
            alarm_changes=tuple(
                AlarmChange(c["alarm"], c["state"], c["at"], c.get("reason", ""))
                for c in alarms.get("changes", [])
            ),
            alarm_problems=tuple(alarms.get("problems", [])),
            rollback_problems=tuple(report.get("rollbackProblems", [])),
            stages=tuple(
                StageSpan(s["stage"], s["start"], s.get("end"), s.get("step"), s.get("bakeStart"))
                for s in report.get("stages", [])
            ),
            invocations=tuple(
                HookMark(
                    hook=i["hook"],
                    stage=i["stage"],
                    step=i.get("step"),
                    rollback=bool(i.get("rollback")),
                    status=i.get("hookStatus"),
                    reason=i.get("reason") or "",
                    start=i.get("start"),
                    end=i.get("end"),
                    duration_ms=i.get("durationMs"),
                    output=i.get("output") or "",
                    log_stream=" ".join(filter(None, (i.get("logGroup"), i.get("logStream")))) or None,
                )
                for i in report.get("hookInvocations", [])
            ),
            weights=tuple(
                WeightChange(w["at"], w.get("production", {}), w.get("test", {}))
                for w in traffic.get("weights", [])
            ),
            intervals=tuple(
                TrafficInterval(
                    t["start"],
                    t["end"],
                    Counts(t.get("requests", 0), t.get("errors", 0)),
                    {name: Counts(c["requests"], c["errors"]) for name, c in t.get("byRevision", {}).items()},
                )
                for t in production.get("intervals", [])
            ),
            production=Counts(production["requests"], production["errors"])
            if "requests" in production
            else None,
        )


def _cause(replacement: Mapping[str, Any]) -> str:
    """Why the scheduler replaced a task: its own words, else the exit code of a task that stopped."""
    if replacement.get("cause"):
        return str(replacement["cause"])
    code = replacement.get("exitCode")
    return f"exited with code {code}" if code is not None else "stopped"
