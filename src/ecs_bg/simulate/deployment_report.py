"""``ecs-bg simulate``'s report of one deployment the local ECS ran, from what it recorded
(``localecs.models.Deployment``: the engine's records, each invocation's run, the weights over time,
the alarms, the scheduler's replacements, the final state).

The local ECS knows target groups by ARN and Lambda hooks by their functions' names; the report
says ``blue`` (the revision serving before) and ``green`` (the new one), and names hooks as the
simulation's scenarios and your files do (``Names``).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecs_bg.hooks.ecs import DeploymentStatus
from ecs_bg.local.cloudwatch import alarms
from ecs_bg.local.ecs.models import Deployment
from ecs_bg.local.elbv2.traffic_stats import LoadBalancerStats
from ecs_bg.simulate import outcome
from ecs_bg.simulate.outcome import Report

if TYPE_CHECKING:  # the load generator (aiohttp) loads only when a simulation runs
    from ecs_bg.simulate.loadgen import LoadReport

BLUE, GREEN = "blue", "green"  # the report's names of the revision serving before and the new one
# Simulated seconds per bucket of the report's production requests over time. Shorter than
# CloudWatch's minute because a simulated minute carries only a few requests at the default speed.
TRAFFIC_INTERVAL = 30.0


@dataclass(frozen=True)
class Names:
    groups: dict[str, str] = field(default_factory=dict)  # target group ARN -> blue or green
    hooks: dict[str, str] = field(default_factory=dict)  # the local ECS's hook id -> the report's

    def group(self, arn: str) -> str:
        return self.groups.get(arn, arn)

    def hook(self, hook_id: str) -> str:
        return self.hooks.get(hook_id, hook_id)

    def reason(self, reason: str | None) -> str | None:
        """A reason as the report names hooks (``hook <name> at <stage>``)."""
        for hook_id, name in self.hooks.items():
            reason = reason.replace(f"hook {hook_id} at ", f"hook {name} at ") if reason else reason
        return reason

    def weights(self, weights: dict[str, float]) -> dict[str, float]:
        return {self.group(arn): weight for arn, weight in weights.items()}


class ProductionIntervals:
    """Production requests per TRAFFIC_INTERVAL, per group (None: no answer): [requests, errors]."""

    def __init__(self) -> None:
        self._buckets: dict[int, dict[str | None, list[int]]] = {}

    def count(self, moment: float, group: str | None, failed: bool) -> None:
        counts = self._buckets.setdefault(int(moment // TRAFFIC_INTERVAL), {}).setdefault(group, [0, 0])
        counts[0] += 1
        counts[1] += failed

    def intervals(self) -> list[dict[str, Any]]:
        return [
            {
                "start": index * TRAFFIC_INTERVAL,
                "end": (index + 1) * TRAFFIC_INTERVAL,
                "requests": sum(counts[0] for counts in groups.values()),
                "errors": sum(counts[1] for counts in groups.values()),
                "byRevision": {
                    group: {"requests": counts[0], "errors": counts[1]}
                    for group, counts in groups.items()
                    if group is not None
                },
            }
            for index, groups in sorted(self._buckets.items())
        ]


def deployment_report(
    deployment: Deployment,
    status: DeploymentStatus,
    names: Names,
    stats: LoadBalancerStats,
    load: LoadReport | None,
    intervals: list[dict[str, Any]],
    speed: float,
) -> Report:
    engine = deployment.engine
    assert engine is not None  # the deployment started
    if load is not None:
        load = dataclasses.replace(
            load,
            by_group=type(load.by_group)({names.group(g): n for g, n in load.by_group.items()}),
            failures=[
                dataclasses.replace(failure, group=names.group(failure.group) if failure.group else None)
                for failure in load.failures
            ],
        )
    stats = dataclasses.replace(stats, groups={names.group(g): s for g, s in stats.groups.items()})
    weights = [
        {
            "at": change["at"],
            "production": names.weights(change["production"]),
            "test": names.weights(change["test"]),
        }
        for change in deployment.weight_changes
    ]
    return Report(
        status=status,
        stages=[outcome.stage_json(record) for record in engine.stages],
        hook_invocations=[invocation_json(deployment, record, names) for record in engine.invocations],
        traffic=outcome.traffic(stats, load, weights, intervals),
        wall_seconds=(deployment.finished_at or time.time()) - (deployment.started_at or time.time()),
        rollback_reason=names.reason(engine.rollback_reason),
        alarms=(deployment.alarm_board or alarms.AlarmBoard()).to_json(),
        tasks={"replacements": _replacements(deployment, names, speed)},
        step_bakes=outcome.step_bakes(engine.stages),
        pause_hooks=outcome.pause_hooks(engine.pauses),
        final_state=_final_state(deployment, names),
        rollback_problems=list(engine.rollback_problems),
        status_reason=names.reason(engine.status_reason),
    )


def _final_state(deployment: Deployment, names: Names) -> dict[str, Any]:
    """What the deployment left at its final status: the listeners' weights and each revision's
    running tasks (the simulation stops every process afterwards, whatever ECS would keep)."""
    final = deployment.final_state
    if not final:
        return {}
    revisions = {deployment.target.arn: GREEN, **{source.arn: BLUE for source in deployment.sources}}
    production, test = names.weights(final["production"]), names.weights(final["test"])
    return {
        "production": production,
        "test": test,
        "runningTasks": {revisions[arn]: count for arn, count in final["runningTasks"].items()},
        "greenServing": production.get(GREEN, 0) > 0 or test.get(GREEN, 0) > 0,
    }


def _replacements(deployment: Deployment, names: Names, speed: float) -> list[dict[str, Any]]:
    """The tasks the service scheduler replaced while the deployment ran, at simulated seconds."""
    began = deployment.began or time.monotonic()
    return [
        {
            "group": names.group(replaced["targetGroup"] or ""),
            "at": round((replaced["monotonic"] - began) * speed, 3),
            "exitCode": replaced["exitCode"],
            "cause": replaced["cause"],
            "replacedBy": replaced["replacedBy"],
        }
        for replaced in deployment.service.replacements
        if replaced["monotonic"] >= began
    ]


def hook_reason(deployment: Deployment | None, record: Any) -> str:
    """ECS's reason for a bad answer, else the hook's own from its ``hook decision`` log line."""
    if record.reason:
        return str(record.reason)
    done = deployment.invocations.get(record.invocation_id) if deployment is not None else None
    decisions = [line for line in (done.logs if done else []) if line.get("message") == "hook decision"]
    return str(decisions[-1].get("reason") or "") if decisions else ""


def invocation_json(deployment: Deployment, record: Any, names: Names) -> dict[str, Any]:
    done = deployment.invocations.get(record.invocation_id)
    return {
        "hook": names.hook(record.hook_id),
        "stage": str(record.stage),
        "step": record.step,
        "rollback": record.rollback,
        "hookStatus": record.hook_status,
        "callBackDelay": record.callback_delay,
        "durationMs": done.duration_ms if done else None,
        "cold": done.cold if done else None,
        "reason": hook_reason(deployment, record),
        # The function's own output (print, logging, stderr) and where Lambda would keep it.
        "requestId": done.request_id if done else None,
        "logGroup": done.log_group if done else None,
        "logStream": done.log_stream if done else None,
        "output": done.output if done else "",
        "start": round(record.started, 3),
        "end": round(record.ended, 3) if record.ended is not None else None,
    }
