"""ECS's blue/green lifecycle as a pure state machine on an injectable clock.

The engine decides; a driver acts. Every call returns the actions now due (invoke a hook, start
green, move traffic, scale down, finish) and the driver feeds back what happened: hook answers,
green's health, alarms, PAUSE approvals, StopServiceDeployment. Timers (callBackDelay, bake times,
hook timeouts, the SCALE_UP health wait, the 24-hour stage limit) fire in ``advance`` once the
clock has reached them, so a whole deployment runs on simulated time without sleeping.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import count
from typing import Any, Final, Literal

from ecs_bg.hooks.contract import HOOK_STATUSES, judge
from ecs_bg.hooks.ecs import (
    FINAL_DEPLOYMENT_STATUSES,
    STAGE_LIMIT_SECONDS,
    DeploymentStatus,
    HookAction,
    HookStatus,
    LifecycleHookStatus,
    Stage,
    TargetType,
    WorkStage,
)
from ecs_bg.lifecycle.events import lifecycle_event
from ecs_bg.lifecycle.plan import (
    DeploymentSpec,
    HookSpec,
    plan_stages,
    validate,
)

__all__ = [
    "FINAL_STATUSES",
    "STATUSES",
    "Action",
    "Clock",
    "Engine",
    "Finished",
    "InvocationRecord",
    "InvokeHook",
    "ScaleDownBlue",
    "ScaleDownGreen",
    "ScaleUpGreen",
    "SetTraffic",
    "StageRecord",
]

Clock = Callable[[], float]  # seconds, simulated time

STATUSES: Final = frozenset(DeploymentStatus)
FINAL_STATUSES: Final = FINAL_DEPLOYMENT_STATUSES
BAKE_RECHECK_SECONDS: Final = 5.0  # simulated seconds between asking whether a held bake may end


@dataclass(frozen=True)
class InvokeHook:
    invocation_id: str
    hook_id: str  # HookSpec.hook_id
    stage: Stage
    step: int | None
    event: dict[str, Any]  # exactly what ECS sends the function


@dataclass(frozen=True)
class ScaleUpGreen:
    """Start green's tasks; answer with ``Engine.green_health``."""


@dataclass(frozen=True)
class SetTraffic:
    production: dict[str, float]  # weight by revision ARN
    test: dict[str, float]


@dataclass(frozen=True)
class ScaleDownBlue:
    """CLEAN_UP after a successful deployment; answer with ``Engine.scaled_down``."""


@dataclass(frozen=True)
class ScaleDownGreen:
    """The end of a rollback; answer with ``Engine.scaled_down``."""


@dataclass(frozen=True)
class Finished:
    status: DeploymentStatus


Action = InvokeHook | ScaleUpGreen | SetTraffic | ScaleDownBlue | ScaleDownGreen | Finished


@dataclass
class StageRecord:
    stage: str
    start: float
    end: float | None = None
    step: int | None = None  # set only for the stages LINEAR and CANARY repeat
    bake_start: float | None = None  # a LINEAR/CANARY step bake, inside PRODUCTION_TRAFFIC_SHIFT


@dataclass
class InvocationRecord:
    invocation_id: str
    hook_id: str
    stage: Stage
    step: int | None
    rollback: bool
    started: float
    ended: float | None = None
    hook_status: str | None = None  # SUCCEEDED/FAILED/IN_PROGRESS, or ERROR, INVALID, TIMED_OUT
    callback_delay: int | None = None
    reason: str = ""


@dataclass
class _HookRun:
    """One hook at one stage (and step): its invocations until it settles, or its PAUSE."""

    hook: HookSpec
    hook_id: str  # as ECS shows it: the PAUSE gets "ecs-pause-<n>"
    stage: Stage
    step: int | None
    rollback: bool
    expires_at: float
    details: dict[str, Any]
    status: str = LifecycleHookStatus.IN_PROGRESS  # lifecycleHookDetails status
    passed: bool = False  # SUCCEEDED, or TIMED_OUT with CONTINUE
    invocation: str | None = None  # the invocation awaiting an answer
    overdue: bool = False  # the timeout came while an invocation ran in real time; judged on its answer
    started: float = 0.0  # when the run began (a PAUSE: when it started waiting)
    ended: float | None = None  # when it settled, timed out or the deployment left it

    def where(self) -> str:
        step = f" step {self.step}" if self.step is not None else ""
        return f"hook {self.hook.hook_id} at {self.stage}{step}{' (rollback)' if self.rollback else ''}"


class Engine:
    """One service deployment: ``start``, then feed back results and ``advance`` the clock."""

    def __init__(self, spec: DeploymentSpec, clock: Clock) -> None:
        validate(spec)
        self.spec = spec
        self._clock = clock
        self._plan = plan_stages(spec)
        self.status = DeploymentStatus.PENDING
        self.stage: str | None = None
        self.rollback_reason: str | None = None
        self.status_reason: str | None = None  # ServiceDeployment.statusReason
        self.stages: list[StageRecord] = []
        self.invocations: list[InvocationRecord] = []
        self.pauses: list[_HookRun] = []  # every PAUSE wait, for the report
        self.rollback_problems: list[str] = []  # hook failures a rollback carried on past
        # The driver's say on whether a bake may end now (its alarms have judged what they need).
        self.bake_may_end: Callable[[], bool] = lambda: True

        self._now = clock()
        self._out: list[Action] = []
        self._index = -1
        self._waiting: Literal["hooks", "health", "bake", "scale-down"] | None = None
        self._runs: list[_HookRun] = []
        self._inflight: dict[str, _HookRun] = {}
        self._records: dict[str, InvocationRecord] = {}
        self._timers: dict[str, tuple[float, int, Callable[[], None]]] = {}
        self._sequence = count()
        self._pauses = count(1)
        self._reached: set[Stage] = set()
        self._rollback_queue: list[Stage] = []
        self._rollback_stage: Stage | None = None
        self._in_alarm = False
        self._alarm_which: str | None = None
        self._production = self._weights(Stage.PRODUCTION_TRAFFIC_SHIFT, rollback=True)
        self._test = self._weights(Stage.TEST_TRAFFIC_SHIFT, rollback=True)

    # The driver's calls ---------------------------------------------------------------------

    def start(self) -> list[Action]:
        if self.status != DeploymentStatus.PENDING:
            raise ValueError(f"the deployment has already started (status {self.status})")
        self._now = self._clock()
        self.status = DeploymentStatus.IN_PROGRESS
        self._enter(0)
        return self._flush()

    def advance(self) -> list[Action]:
        """Fire every timer the clock has reached, in time order."""
        return self._flush()

    def hook_result(
        self,
        invocation_id: str,
        response: object,
        *,
        error: str | None = None,
        real_seconds: float | None = None,
    ) -> list[Action]:
        """What one invocation answered; ``error`` when it raised, crashed or timed out in Lambda.

        ``real_seconds``: how long the invocation ran on the wall clock. A Lambda runs in real time,
        also when the engine's clock is sped up, so against the hook's timeout it counts for what it
        really took, never for the simulated time that passed meanwhile (spec.real_time_invocations).
        """
        self._run_due_timers()
        record = self._records.get(invocation_id)
        if record is None:
            raise ValueError(f"no invocation {invocation_id!r} was requested")
        run = self._inflight.get(invocation_id)
        if run is not None and real_seconds is not None and self.spec.real_time_invocations:
            run.expires_at += max(0.0, (self._now - record.started) - real_seconds)
            if run.expires_at <= self._now:  # it really outlasted the time left: ECS timed it out
                self._timed_out(run, force=True)
                return self._flush()
            if run.overdue or f"timeout:{run.hook_id}" in self._timers:
                run.overdue = False
                self._set_timer(f"timeout:{run.hook_id}", run.expires_at, partial(self._timed_out, run))
        run = self._inflight.pop(invocation_id, None)
        answer = judge(response, error, self.spec.default_callback_delay)
        if run is None:  # abandoned by a rollback, a stop, a timeout or the end: ECS no longer listens
            if record.ended is None:
                record.ended, record.hook_status = self._now, answer.status
                record.reason = record.reason or "arrived after the deployment moved on; ignored"
            return self._flush()
        run.invocation = None
        record.ended, record.hook_status = self._now, answer.status
        record.callback_delay, record.reason = answer.callback_delay, answer.problem or ""
        if self.status == DeploymentStatus.STOP_REQUESTED:  # the answer is recorded; nothing follows it
            status = answer.status if answer.status in HOOK_STATUSES else LifecycleHookStatus.FAILED
            self._settle_run(run, status, passed=False)
        elif answer.status == HookStatus.SUCCEEDED:
            self._settle_run(run, LifecycleHookStatus.SUCCEEDED, passed=True)
        elif answer.status == HookStatus.IN_PROGRESS:
            assert answer.callback_delay is not None
            # ECS's docs ("Lifecycle hooks for Amazon ECS service deployments") say the returned
            # hookDetails are merged (depth UNCONFIRMED: shallow here); AWS's own sample re-sends
            # its configured keys (aws-samples/sample-amazon-ecs-blue-green-deployment-patterns
            # PR #10, commit 33363a6), as if ECS replaced them. The spec says which reading to play.
            if self.spec.hook_details_reading == "replace":
                run.details = dict(answer.hook_details)
            else:
                run.details = {**run.details, **answer.hook_details}
            self._set_timer(
                f"callback:{run.hook_id}", self._now + answer.callback_delay, partial(self._invoke, run)
            )
        else:
            self._settle_run(run, LifecycleHookStatus.FAILED, passed=False)
            self._fail(f"{run.where()} {answer.problem}")
        return self._flush()

    def green_health(self, healthy: bool) -> list[Action]:
        """Green's tasks passed (or not yet) their health checks; only SCALE_UP waits on it."""
        self._run_due_timers()
        if healthy and self.status == DeploymentStatus.IN_PROGRESS and self._waiting == "health":
            self._waiting = None
        return self._flush()

    def green_failed(self, reason: str) -> list[Action]:
        """Green cannot pass SCALE_UP (a task exited, or answers its health checks wrongly), or has no
        task left to serve when CLEAN_UP would scale blue down."""
        self._run_due_timers()
        if self.status == DeploymentStatus.IN_PROGRESS and self._waiting in ("health", "scale-down"):
            self._fail(reason)
        return self._flush()

    def scaled_down(self) -> list[Action]:
        """The revision ECS was scaling down has no task left: the deployment ends (it stays
        IN_PROGRESS, or ROLLBACK_IN_PROGRESS, until then)."""
        self._run_due_timers()
        if self._waiting == "scale-down":
            self._finish(
                DeploymentStatus.SUCCESSFUL
                if self.status == DeploymentStatus.IN_PROGRESS
                else DeploymentStatus.ROLLBACK_SUCCESSFUL
            )
        return self._flush()

    def alarm(self, in_alarm: bool, which: str | None = None) -> list[Action]:
        """A deployment alarm changed state; in ALARM during a bake it rolls back (if configured).
        ``which``: the alarm in ALARM and why, for the rollback reason."""
        self._run_due_timers()
        self._in_alarm = in_alarm
        self._alarm_which = which if in_alarm else None
        self._check_alarm()
        return self._flush()

    def continue_pause(self, hook_id: str, action: HookAction) -> list[Action]:
        """ContinueServiceDeployment for a PAUSE hook that is AWAITING_ACTION."""
        self._run_due_timers()
        if action not in tuple(HookAction):
            raise ValueError(f"action must be CONTINUE or ROLLBACK, got {action!r}")
        waiting = [run for run in self._runs if run.status == LifecycleHookStatus.AWAITING_ACTION]
        run = next((run for run in waiting if run.hook_id == hook_id), None)
        if run is None or self.status != DeploymentStatus.IN_PROGRESS:
            awaiting = (
                ", ".join(run.hook_id for run in waiting)
                if self.status == DeploymentStatus.IN_PROGRESS
                else ""
            )
            raise ValueError(
                f"hook {hook_id!r} is not AWAITING_ACTION; the deployment is {self.status} "
                f"and the hooks awaiting action are: {awaiting or 'none'}"
            )
        if action == HookAction.CONTINUE:
            self._settle_run(run, LifecycleHookStatus.SUCCEEDED, passed=True)
        else:
            self._settle_run(run, LifecycleHookStatus.FAILED, passed=False)
            self._fail(f"{run.where()} ({hook_id}) was continued with ROLLBACK")
        return self._flush()

    def stop(self, rollback: bool) -> list[Action]:
        """StopServiceDeployment, with stopType ROLLBACK or not."""
        self._run_due_timers()
        if self.status != DeploymentStatus.IN_PROGRESS:
            raise ValueError(f"only an IN_PROGRESS deployment can be stopped; this one is {self.status}")
        if rollback:
            self.status = DeploymentStatus.ROLLBACK_REQUESTED
            self._roll_back("StopServiceDeployment")
        else:
            # Answers already asked for are awaited (STOP_REQUESTED); no hook is invoked again.
            self.status = DeploymentStatus.STOP_REQUESTED
            self.status_reason = "StopServiceDeployment"
            self._timers = {
                key: timer
                for key, timer in self._timers.items()
                if key.startswith("timeout:")
                and any(run.hook_id == key[8:] for run in self._inflight.values())
            }
        return self._flush()

    def next_timer(self) -> float | None:
        return min((due for due, _, _ in self._timers.values()), default=None)

    # What the driver serves and reports ----------------------------------------------------

    def traffic(self) -> tuple[dict[str, float], dict[str, float]]:
        """The production and test weights last set, by revision ARN."""
        return dict(self._production), dict(self._test)

    def lifecycle_hook_details(self) -> list[dict[str, Any]]:
        """DescribeServiceDeployments' ``lifecycleHookDetails`` for the hooks of the current stage.

        Which hooks ECS lists is not documented; the current stage's (or rollback's) is what an
        operator needs to find the PAUSE to continue. ``expiresAt`` is epoch seconds, the JSON
        protocol's timestamp form.
        """
        details = []
        for run in self._runs:
            detail: dict[str, Any] = {"hookId": run.hook_id, "targetType": run.hook.target_type}
            if run.hook.target_arn is not None:
                detail["targetArn"] = run.hook.target_arn
            detail |= {
                "status": run.status,
                "expiresAt": run.expires_at,
                "timeoutAction": run.hook.timeout_action,
            }
            details.append(detail)
        return details

    # The lifecycle ----------------------------------------------------------------------------

    def _flush(self) -> list[Action]:
        self._settle()
        self._run_due_timers()  # what the feedback made due at once (callBackDelay 0) happens now
        actions, self._out = self._out, []
        return actions

    def _settle(self) -> None:
        """Move on through every stage (or rollback step) that has nothing left to wait for."""
        while True:
            if (
                self.status == DeploymentStatus.IN_PROGRESS
                and self._waiting == "hooks"
                and all(r.passed for r in self._runs)
            ):
                self._hooks_passed()
            elif self.status == DeploymentStatus.IN_PROGRESS and self._waiting is None:
                self._end_stage()
                self._enter(self._index + 1)
            elif (
                self.status == DeploymentStatus.ROLLBACK_IN_PROGRESS
                and self._waiting != "scale-down"
                and (self._rollback_stage is None or all(r.passed for r in self._runs))
            ):
                self._next_rollback_stage()
            elif self.status == DeploymentStatus.STOP_REQUESTED and not self._inflight:
                self._finish(DeploymentStatus.STOPPED)
            else:
                return

    def _enter(self, index: int) -> None:
        self._index = index
        planned = self._plan[index]
        self.stage = str(planned.stage)  # a plain string, as DescribeServiceDeployments shows it
        self.stages.append(StageRecord(self.stage, self._now, step=planned.step))
        self._runs = []  # lifecycleHookDetails show the current stage's hooks only
        if planned.stage == WorkStage.SCALE_UP:
            self._waiting = "health"
            self._out.append(ScaleUpGreen())
            minutes = self.spec.scale_up_timeout_minutes
            self._set_timer(
                "scale-up",
                self._now + minutes * 60,
                lambda: self._fail(
                    f"green did not pass its health checks within {minutes:g} minutes of SCALE_UP"
                ),
            )
            self._set_stage_limit()
        elif planned.stage == WorkStage.BAKE_TIME:
            self._bake(self.spec.bake_time_minutes * 60)
        elif planned.stage == WorkStage.CLEAN_UP:
            if self.spec.first_deployment:  # a first deployment has no blue to scale down
                self._finish(DeploymentStatus.SUCCESSFUL)
            else:
                self._waiting = "scale-down"
                self._out.append(ScaleDownBlue())
        else:
            self._enter_hook_stage(Stage(planned.stage), planned.step)

    def _enter_hook_stage(self, stage: Stage, step: int | None) -> None:
        self._reached.add(stage)
        # ECS moves the weights first, then asks the shift stage's hooks (they run while it happens).
        if stage is Stage.TEST_TRAFFIC_SHIFT:
            self._set_traffic(self._production, self._weights(stage))
        elif stage is Stage.PRODUCTION_TRAFFIC_SHIFT:
            self._set_traffic(self._weights(stage, step=step or 1), self._test)
        self._waiting = "hooks"
        self._start_runs(stage, step, rollback=False)
        self._set_stage_limit()

    def _hooks_passed(self) -> None:
        planned = self._plan[self._index]
        last_step = self._plan[self._index + 1].stage != Stage.PRE_PRODUCTION_TRAFFIC_SHIFT
        if planned.stage == Stage.PRODUCTION_TRAFFIC_SHIFT and planned.step is not None and not last_step:
            # The step bake belongs to the step's PRODUCTION_TRAFFIC_SHIFT: ECS names no stage for it.
            self.stages[-1].bake_start = self._now
            self._bake(self.spec.step_bake_seconds)
        else:
            self._waiting = None

    def _bake(self, seconds: float) -> None:
        self._timers.clear()  # the stage's hook timers are over; the 24-hour limit is the bake's own
        if seconds <= 0:
            self._waiting = None
            self._check_alarm(baking=True)
            return
        self._waiting = "bake"
        self._set_timer("bake", self._now + seconds, self._bake_over)
        self._check_alarm()

    def _bake_over(self) -> None:
        if not self.bake_may_end():
            # The alarms have not yet judged the real traffic since the shift: at a sped-up clock a
            # bake would otherwise end before a single datapoint, whatever green does.
            self._set_timer("bake", self._now + BAKE_RECHECK_SECONDS, self._bake_over)
            return
        self._waiting = None

    def _check_alarm(self, *, baking: bool = False) -> None:
        if not (self._in_alarm and self.spec.alarms_rollback and self.status == DeploymentStatus.IN_PROGRESS):
            return
        if baking or self._waiting == "bake":
            what = "the step bake" if self.stage == Stage.PRODUCTION_TRAFFIC_SHIFT else WorkStage.BAKE_TIME
            which = f" ({self._alarm_which})" if self._alarm_which else ""
            self._roll_back(f"a deployment alarm is in ALARM during {what}{which}")

    def _end_stage(self) -> None:
        self.stages[-1].end = self._now
        self._timers.clear()

    def _set_stage_limit(self) -> None:
        # Set after the hooks' own timeouts so that, at exactly 24 h, a timeout's action wins.
        stage = self.stage
        self._set_timer(
            "stage-limit",
            self._now + STAGE_LIMIT_SECONDS,
            lambda: self._fail(f"{stage} lasted over 24 hours, the longest ECS lets a stage run"),
        )

    # Hooks ----------------------------------------------------------------------------------------

    def _start_runs(self, stage: Stage, step: int | None, *, rollback: bool) -> None:
        """Every hook configured at ``stage`` starts together; ECS runs them in parallel."""
        self._runs = []
        for hook in self.spec.hooks_at(stage):
            pause = hook.target_type == TargetType.PAUSE
            run = _HookRun(
                hook=hook,
                hook_id=f"ecs-pause-{next(self._pauses)}" if pause else hook.hook_id,
                stage=stage,
                step=step,
                rollback=rollback,
                # The timeout counts from the hook's first invocation (or its pause) at this stage.
                expires_at=self._now + hook.timeout_minutes * 60,
                details=dict(hook.hook_details),
                status=LifecycleHookStatus.AWAITING_ACTION if pause else LifecycleHookStatus.IN_PROGRESS,
                started=self._now,
            )
            if pause:
                self.pauses.append(run)
            self._runs.append(run)
            self._set_timer(f"timeout:{run.hook_id}", run.expires_at, partial(self._timed_out, run))
            if not pause:
                self._invoke(run)

    def _invoke(self, run: _HookRun) -> None:
        invocation_id = f"{run.hook.hook_id}#{next(self._sequence)}"
        event = lifecycle_event(
            run.stage,
            ids=self.spec.ids,
            strategy=self.spec.strategy,
            step=run.step or 1,
            percent=self.spec.shift_percent,
            rollback=run.rollback,
            first_deployment=self.spec.first_deployment,
            hook_details=dict(run.details),
            execution_id=str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"{self.spec.ids.deployment_arn}#{invocation_id}")
            ),
        )
        record = InvocationRecord(
            invocation_id, run.hook.hook_id, run.stage, run.step, run.rollback, self._now
        )
        self.invocations.append(record)
        self._records[invocation_id] = record
        self._inflight[invocation_id] = run
        run.invocation = invocation_id
        self._out.append(InvokeHook(invocation_id, run.hook.hook_id, run.stage, run.step, event))

    def _settle_run(self, run: _HookRun, status: str, *, passed: bool) -> None:
        run.status, run.passed, run.ended = status, passed, self._now
        self._timers.pop(f"timeout:{run.hook_id}", None)

    def _timed_out(self, run: _HookRun, *, force: bool = False) -> None:
        if run.invocation is not None and self.spec.real_time_invocations and not force:
            run.overdue = True  # the running invocation's real duration decides (hook_result)
            return
        run.status, run.ended = LifecycleHookStatus.TIMED_OUT, self._now
        self._timers.pop(f"callback:{run.hook_id}", None)
        if run.invocation is not None:
            record = self._records[run.invocation]
            record.ended, record.hook_status = self._now, LifecycleHookStatus.TIMED_OUT
            record.reason = f"timeoutInMinutes {run.hook.timeout_minutes:g} expired"
            del self._inflight[run.invocation]
            run.invocation = None
        if self.status == DeploymentStatus.STOP_REQUESTED:
            return
        if run.hook.timeout_action == HookAction.CONTINUE:
            run.passed = True
        else:
            self._fail(
                f"{run.where()} timed out after {run.hook.timeout_minutes:g} minutes (action ROLLBACK)"
            )

    def _fail(self, reason: str) -> None:
        if self.status == DeploymentStatus.IN_PROGRESS:
            self._roll_back(reason)
        elif self.status == DeploymentStatus.ROLLBACK_IN_PROGRESS:
            if self.spec.rollback_hook_failure == "ignore":
                # The other reading (UNCONFIRMED which ECS follows): the rollback carries on past it.
                self.rollback_problems.append(reason)
                for run in self._runs:
                    if run.status in (LifecycleHookStatus.FAILED, LifecycleHookStatus.TIMED_OUT):
                        run.passed = True
                return
            self.status_reason = f"rollback failed: {reason}"
            # Traffic is already back on blue; green is left running for whoever investigates.
            self._finish(DeploymentStatus.ROLLBACK_FAILED)

    # Rollback, stop, the end -------------------------------------------------------------------

    def _roll_back(self, reason: str) -> None:
        self.status = DeploymentStatus.ROLLBACK_IN_PROGRESS
        self.rollback_reason = self.status_reason = reason
        self._abandon(f"abandoned: rolling back ({reason})")
        self.stages[-1].end = self._now
        self._waiting = None
        if self.spec.first_deployment:
            # No earlier revision to return traffic to: green is scaled down and that is the rollback.
            self._rollback_queue = []
            return
        self._set_traffic(
            self._weights(Stage.PRODUCTION_TRAFFIC_SHIFT, rollback=True),
            self._weights(Stage.TEST_TRAFFIC_SHIFT, rollback=True),
        )
        # UNCONFIRMED order and reach: production first (the reverse of the forward order), and only
        # the shift stages the deployment had started, since only those moved weights to green.
        self._rollback_queue = [
            stage
            for stage in (Stage.PRODUCTION_TRAFFIC_SHIFT, Stage.TEST_TRAFFIC_SHIFT)
            if stage in self._reached
        ]

    def _next_rollback_stage(self) -> None:
        if not self._rollback_queue:
            self._timers.clear()
            self._waiting = "scale-down"
            self._out.append(ScaleDownGreen())
            return
        self._rollback_stage = self._rollback_queue.pop(0)
        self._start_runs(self._rollback_stage, None, rollback=True)

    def _abandon(self, why: str) -> None:
        """Stop listening to the current invocations and timers; late answers will be ignored."""
        for run in self._runs:
            if run.ended is None:
                run.ended = self._now
        for invocation_id in self._inflight:
            self._records[invocation_id].reason = why
        for run in self._inflight.values():
            run.invocation = None
        self._inflight.clear()
        self._timers.clear()

    def _finish(self, status: DeploymentStatus) -> None:
        self.status = status
        if self.stages and self.stages[-1].end is None:
            self.stages[-1].end = self._now
        self._waiting = None
        self._abandon(f"abandoned: the deployment ended {status}")
        self._out.append(Finished(status))

    # Small helpers ------------------------------------------------------------------------------------

    def _weights(self, stage: Stage, *, step: int = 1, rollback: bool = False) -> dict[str, float]:
        """The weights ECS names in the event at ``stage``: the event is the single source of them."""
        event = lifecycle_event(
            stage,
            ids=self.spec.ids,
            strategy=self.spec.strategy,
            step=step,
            percent=self.spec.shift_percent,
            rollback=rollback,
            first_deployment=self.spec.first_deployment,
            execution_id="weights",
        )
        details = event["executionDetails"]
        weights: dict[str, float] = (
            details["testTrafficWeights"]
            if stage is Stage.TEST_TRAFFIC_SHIFT
            else details["productionTrafficWeights"]
        )
        return weights

    def _set_traffic(self, production: dict[str, float], test: dict[str, float]) -> None:
        self._production, self._test = dict(production), dict(test)
        self._out.append(SetTraffic(dict(production), dict(test)))

    def _set_timer(self, key: str, due: float, fire: Callable[[], None]) -> None:
        self._timers[key] = (due, next(self._sequence), fire)

    def _run_due_timers(self) -> None:
        now = self._clock()
        if now < self._now:
            raise ValueError(f"the clock went backwards: {now} after {self._now}")
        while self._timers:
            key, (due, _, fire) = min(self._timers.items(), key=lambda item: item[1][:2])
            if due > now:
                break
            del self._timers[key]
            self._now = due  # act at the instant ECS would have, however late the driver looks
            fire()
            self._settle()
        self._now = now
