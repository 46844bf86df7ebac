"""What a simulated deployment is configured with, and the stages ECS walks through for it.

``DeploymentSpec`` mirrors the service's ``deploymentConfiguration`` and ``lifecycleHooks``;
``plan_stages`` turns it into the ordered stages (with step numbers for LINEAR and CANARY), the
only place the lifecycle's order is written down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ecs_bg.hooks import ecs
from ecs_bg.hooks.config import configured_size_problem
from ecs_bg.hooks.ecs import (
    SHIFT_STAGES,
    HookAction,
    LifecycleStage,
    Stage,
    Strategy,
    TargetType,
    WorkStage,
    one_of,
)
from ecs_bg.lifecycle.events import ServiceIds, step_count

# How ECS hands an IN_PROGRESS answer's hookDetails to the next invocation: its docs say merged,
# AWS's own sample re-sends its configured keys as if they were replaced (docs/aws-facts.md §2). "replace" is
# the stricter reading: a hook that forgets its configured keys loses them.
HookDetailsReading = Literal["replace", "merge"]
HOOK_DETAILS_READINGS: Final = ("replace", "merge")
RollbackHookFailure = Literal["fail", "ignore"]

# What DescribeServices reports while a service's first deployment runs (one with no revision serving
# before it: CreateService's, or the next one after a first deployment was rolled back), with its
# hooks still to run. botocore's ServicesStable waiter (botocore/data/ecs/2014-11-13/waiters-2.json)
# succeeds on ``length(deployments) == `1` && runningCount == desiredCount``, and with no blue listed
# ACTIVE only the counts can hold it back. UNCONFIRMED which ECS does; no AWS document says:
# - "tasks-running" (the default): the counts are the tasks' own, as the API reference defines
#   Service.runningCount and Deployment.runningCount ("tasks ... in the RUNNING state"), so the
#   waiter returns once green's tasks run, hooks still running. Indirect support, not proof:
#   terraform-provider-aws PR #43434 (github.com/hashicorp/terraform-provider-aws/pull/43434, its
#   blue/green support) made its wait follow the service deployment's status "vs. just task count"
#   to "ensure lifecycle hooks complete during creation"; aws-actions/amazon-ecs-deploy-task-definition
#   issue #838 sees the PRIMARY deployment IN_PROGRESS after the stability wait returned (its
#   strategy unstated).
# - "deployment-complete": the service counts a first deployment's tasks as its own only once that
#   deployment has ended, so until then its RUNNING tasks are listed pending (runningCount 0): in
#   the service's counts, in its PRIMARY deployments[] entry (rolloutState IN_PROGRESS) and in
#   currentServiceRevisions alike, so that runningCount + pendingCount is still every task it has and
#   the service's counts are still the sum of its deployments'. The deployment's own view
#   (DescribeServiceDeployments) and DescribeTasks keep reporting the tasks RUNNING.
# It matters to tools that wait with the waiter after a create: ecspresso's createService waits with
# `WaitFunc(sv, nil, "")`, the ServicesStable waiter whatever --wait-until says (kayac/ecspresso
# create.go; the version read passes VpcLatticeConfigurations, so late 2024 or newer), while its deploy
# of an existing service follows the service deployment by default (wait.go, --wait-until deployed).
FirstDeploymentStable = Literal["tasks-running", "deployment-complete"]
FIRST_DEPLOYMENT_STABLE: Final[tuple[FirstDeploymentStable, ...]] = ("tasks-running", "deployment-complete")

# What DescribeServices lists of a rolled-back service deployment (UNCONFIRMED: no AWS document says
# for native blue/green, where the rollback is the same service deployment ending
# ROLLBACK_SUCCESSFUL): "listed", its revision stays in ``deployments`` as ACTIVE, rolloutState
# FAILED, for ecs.backend's ROLLED_BACK_LISTED_MINUTES on the local clock (as a rolling deployment's circuit
# breaker leaves its failed deployment listed); "gone", only what serves is listed.
RolledBackDeployment = Literal["listed", "gone"]
ROLLED_BACK_DEPLOYMENT: Final[tuple[RolledBackDeployment, ...]] = ("listed", "gone")


@dataclass(frozen=True)
class HookSpec:
    """One entry of the service's ``lifecycleHooks``."""

    hook_id: str  # a stable name of ours (ECS names only PAUSE hooks, "ecs-pause-…", when they wait)
    target_type: TargetType
    stages: tuple[Stage, ...]
    hook_details: Mapping[str, Any] = field(default_factory=dict)
    timeout_minutes: float = ecs.LAMBDA_HOOK_TIMEOUT_MINUTES.default or 0  # timeoutConfiguration
    timeout_action: HookAction = ecs.DEFAULT_TIMEOUT_ACTION  # timeoutConfiguration.action
    target_arn: str | None = None  # hookTargetArn, Lambda hooks only


@dataclass(frozen=True)
class DeploymentSpec:
    ids: ServiceIds = field(default_factory=ServiceIds)
    strategy: Strategy = Strategy.BLUE_GREEN
    bake_time_minutes: float = 0
    step_percent: float = ecs.LINEAR_STEP_PERCENT.default or 0
    step_bake_minutes: float = ecs.LINEAR_STEP_BAKE_MINUTES.default or 0
    canary_percent: float = ecs.CANARY_PERCENT.default or 0
    canary_bake_minutes: float = ecs.CANARY_BAKE_MINUTES.default or 0
    hooks: tuple[HookSpec, ...] = ()
    alarms_rollback: bool = True  # deploymentConfiguration.alarms {enable, rollback}
    first_deployment: bool = False  # CreateService: no blue revision, weights name only green
    active_revisions: int = 1  # more than one ACTIVE revision: RECONCILE_SERVICE runs first
    scale_up_timeout_minutes: float = 30  # how long SCALE_UP waits for green to pass health checks
    default_callback_delay: int = int(ecs.CALLBACK_DELAY_SECONDS.default or 0)  # when IN_PROGRESS names none
    hook_details_reading: HookDetailsReading = "replace"
    # Invocations run on the wall clock while this clock may be sped up: against a hook's timeout each
    # counts for its real duration (the driver reports it), not for the simulated time meanwhile.
    real_time_invocations: bool = False
    # A hook that fails when ECS re-invokes it during a rollback: what ECS then does is UNCONFIRMED
    # (no AWS document or public issue says). "fail" ends the deployment ROLLBACK_FAILED at once;
    # "ignore" carries the rollback on to ROLLBACK_SUCCESSFUL. simulation.yml chooses.
    rollback_hook_failure: RollbackHookFailure = "fail"

    @property
    def shift_percent(self) -> float:
        """The size of one production shift: the step, the canary, or everything at once."""
        return {Strategy.LINEAR: self.step_percent, Strategy.CANARY: self.canary_percent}.get(
            self.strategy, 100.0
        )

    @property
    def step_bake_seconds(self) -> float:
        minutes = {Strategy.LINEAR: self.step_bake_minutes, Strategy.CANARY: self.canary_bake_minutes}.get(
            self.strategy, 0
        )
        return minutes * 60

    def hooks_at(self, stage: Stage) -> list[HookSpec]:
        return [hook for hook in self.hooks if stage in hook.stages]


@dataclass(frozen=True)
class PlannedStage:
    stage: LifecycleStage
    step: int | None = None  # 1.. for the stages LINEAR and CANARY repeat, else None


def validate(spec: DeploymentSpec) -> None:
    """Refuse what the ECS API refuses; ``ValueError`` names the hook and field at fault."""
    names = [hook.hook_id for hook in spec.hooks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"hook ids must be unique; repeated: {', '.join(duplicates)}")
    for hook in spec.hooks:
        where = f"hook {hook.hook_id!r}"
        if not hook.stages:
            raise ValueError(f"{where}: lifecycleStages is empty")
        if hook.target_type == TargetType.PAUSE:
            # ECS rolls back by re-invoking the shift stages' hooks: nobody could approve a rollback.
            banned = sorted(str(stage) for stage in hook.stages if stage in SHIFT_STAGES)
            if banned:
                raise ValueError(f"{where}: a PAUSE hook is not allowed at {', '.join(banned)}")
            timeout = ecs.PAUSE_HOOK_TIMEOUT_MINUTES
        elif hook.target_type == TargetType.AWS_LAMBDA:
            if problem := configured_size_problem(hook.hook_details):
                raise ValueError(f"{where}: hookDetails is {problem}")
            timeout = ecs.LAMBDA_HOOK_TIMEOUT_MINUTES
        else:
            raise ValueError(f"{where}: targetType must be {one_of(TargetType)}, got {hook.target_type!r}")
        if not timeout.admits(hook.timeout_minutes):
            raise ValueError(f"{where}: {timeout.describe()}, got {hook.timeout_minutes:g}")
        if hook.timeout_action not in tuple(HookAction):
            raise ValueError(
                f"{where}: timeout action must be {one_of(HookAction)}, got {hook.timeout_action!r}"
            )
    if spec.strategy not in ecs.TRAFFIC_SHIFT_STRATEGIES:
        raise ValueError(f"strategy must be {one_of(ecs.TRAFFIC_SHIFT_STRATEGIES)}, got {spec.strategy!r}")
    limits = [(ecs.BAKE_TIME_MINUTES, spec.bake_time_minutes)]
    if spec.strategy == Strategy.LINEAR:
        limits += [
            (ecs.LINEAR_STEP_PERCENT, spec.step_percent),
            (ecs.LINEAR_STEP_BAKE_MINUTES, spec.step_bake_minutes),
        ]
    elif spec.strategy == Strategy.CANARY:
        limits += [
            (ecs.CANARY_PERCENT, spec.canary_percent),
            (ecs.CANARY_BAKE_MINUTES, spec.canary_bake_minutes),
        ]
    for limit, value in limits:
        if not limit.admits(value):
            raise ValueError(f"{limit.describe()}, got {value:g}")
    if spec.scale_up_timeout_minutes <= 0:
        raise ValueError(f"scale_up_timeout_minutes must be positive, got {spec.scale_up_timeout_minutes}")
    if spec.hook_details_reading not in HOOK_DETAILS_READINGS:
        raise ValueError(
            f"hook_details_reading must be {' or '.join(HOOK_DETAILS_READINGS)}, "
            f"got {spec.hook_details_reading!r}"
        )
    if spec.default_callback_delay < 0:
        raise ValueError(f"default_callback_delay must be >= 0, got {spec.default_callback_delay}")


def plan_stages(spec: DeploymentSpec) -> list[PlannedStage]:
    """The stages in ECS's order; only the two production-shift stages repeat, once per step."""
    stages = [PlannedStage(Stage.RECONCILE_SERVICE)] if spec.active_revisions > 1 else []
    stages += [
        PlannedStage(name)
        for name in (
            Stage.PRE_SCALE_UP,
            WorkStage.SCALE_UP,
            Stage.POST_SCALE_UP,
            Stage.TEST_TRAFFIC_SHIFT,
            Stage.POST_TEST_TRAFFIC_SHIFT,
        )
    ]
    if spec.strategy == Strategy.BLUE_GREEN:
        stages += [
            PlannedStage(Stage.PRE_PRODUCTION_TRAFFIC_SHIFT),
            PlannedStage(Stage.PRODUCTION_TRAFFIC_SHIFT),
        ]
    else:
        for step in range(1, step_count(spec.strategy, spec.shift_percent) + 1):
            stages += [
                PlannedStage(Stage.PRE_PRODUCTION_TRAFFIC_SHIFT, step),
                PlannedStage(Stage.PRODUCTION_TRAFFIC_SHIFT, step),
            ]
    stages += [
        PlannedStage(name)
        for name in (Stage.POST_PRODUCTION_TRAFFIC_SHIFT, WorkStage.BAKE_TIME, WorkStage.CLEAN_UP)
    ]
    return stages
