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
class DeploymentReport:
    status: str
    stages: tuple[StageSpan, ...]
    invocations: tuple[HookMark, ...]
    weights: tuple[WeightChange, ...] = ()
    intervals: tuple[TrafficInterval, ...] = ()
    production: Counts | None = None
    rollback_reason: str | None = None
    notes: tuple[str, ...] = ()  # what the source could not tell, said on the page

    @classmethod
    def from_json(cls, report: Mapping[str, Any]) -> DeploymentReport:
        """From ``ecs-bg simulate --report``'s JSON; keys older reports lack are left empty."""
        traffic = report.get("traffic", {})
        production = traffic.get("production", {})
        return cls(
            status=report["status"],
            rollback_reason=report.get("rollbackReason"),
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
