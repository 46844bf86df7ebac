"""ECS's own vocabulary and limits for service deployments, defined once.

Stages, statuses, strategies, hook target types and the numbers ECS holds them to, as the ECS API
reference (botocore's ``ecs`` service model) and the developer guide name them. Standard library
only: the hooks import this inside Lambda, and lint, the simulator, the live view and the CLI read
the same definitions.

Sources: botocore's ECS model (``DeploymentLifecycleHookStage``, ``ServiceDeploymentStatus``,
``ServiceDeploymentLifecycleStage``, ``DeploymentStrategy``, ``DeploymentLifecycleHookTargetType``,
``DeploymentLifecycleHookTimeoutAction``, ``ServiceDeploymentRollbackMonitorsStatus``); the ECS
developer guide, "Lifecycle hooks for Amazon ECS service deployments", "Amazon ECS blue/green
deployments", "Amazon ECS linear deployments", "Amazon ECS canary deployments", "Pause hooks"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Stage(StrEnum):
    """The lifecycle stages at which ECS invokes hooks."""

    RECONCILE_SERVICE = "RECONCILE_SERVICE"
    PRE_SCALE_UP = "PRE_SCALE_UP"
    POST_SCALE_UP = "POST_SCALE_UP"
    TEST_TRAFFIC_SHIFT = "TEST_TRAFFIC_SHIFT"
    POST_TEST_TRAFFIC_SHIFT = "POST_TEST_TRAFFIC_SHIFT"
    PRE_PRODUCTION_TRAFFIC_SHIFT = "PRE_PRODUCTION_TRAFFIC_SHIFT"
    PRODUCTION_TRAFFIC_SHIFT = "PRODUCTION_TRAFFIC_SHIFT"
    POST_PRODUCTION_TRAFFIC_SHIFT = "POST_PRODUCTION_TRAFFIC_SHIFT"


class WorkStage(StrEnum):
    """The stages in which ECS does the work itself and invokes no hook."""

    SCALE_UP = "SCALE_UP"  # green's tasks start and must pass their health checks
    BAKE_TIME = "BAKE_TIME"  # both revisions run after the production shift; rollback is a flip
    CLEAN_UP = "CLEAN_UP"  # the old revision scales to zero


# Any stage DescribeServiceDeployments can report as ``lifecycleStage``.
LifecycleStage = Stage | WorkStage

# ECS re-invokes the hooks of these stages with reversed weights when it rolls back, so a PAUSE
# hook cannot sit there (nobody could approve a rollback).
SHIFT_STAGES: Final = frozenset({Stage.TEST_TRAFFIC_SHIFT, Stage.PRODUCTION_TRAFFIC_SHIFT})
PAUSE_STAGES: Final = frozenset(Stage) - SHIFT_STAGES
# LINEAR and CANARY repeat these two, once per step.
STEP_STAGES: Final = frozenset({Stage.PRE_PRODUCTION_TRAFFIC_SHIFT, Stage.PRODUCTION_TRAFFIC_SHIFT})


class DeploymentStatus(StrEnum):
    """ServiceDeploymentStatus."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESSFUL = "SUCCESSFUL"
    STOP_REQUESTED = "STOP_REQUESTED"
    STOPPED = "STOPPED"
    ROLLBACK_REQUESTED = "ROLLBACK_REQUESTED"
    ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
    ROLLBACK_SUCCESSFUL = "ROLLBACK_SUCCESSFUL"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"


FINAL_DEPLOYMENT_STATUSES: Final = frozenset(
    {
        DeploymentStatus.SUCCESSFUL,
        DeploymentStatus.STOPPED,
        DeploymentStatus.ROLLBACK_SUCCESSFUL,
        DeploymentStatus.ROLLBACK_FAILED,
    }
)
MOVING_DEPLOYMENT_STATUSES: Final = frozenset(DeploymentStatus) - FINAL_DEPLOYMENT_STATUSES


class HookStatus(StrEnum):
    """What a Lambda hook answers ECS (``hookStatus``)."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    IN_PROGRESS = "IN_PROGRESS"


class LifecycleHookStatus(StrEnum):
    """A hook's status as DescribeServiceDeployments reports it in ``lifecycleHookDetails``."""

    AWAITING_ACTION = "AWAITING_ACTION"  # a PAUSE hook waiting for ContinueServiceDeployment
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"


class Strategy(StrEnum):
    """deploymentConfiguration.strategy."""

    ROLLING = "ROLLING"
    BLUE_GREEN = "BLUE_GREEN"
    LINEAR = "LINEAR"
    CANARY = "CANARY"


# The strategies that shift traffic between two revisions through the load balancer.
TRAFFIC_SHIFT_STRATEGIES: Final = frozenset({Strategy.BLUE_GREEN, Strategy.LINEAR, Strategy.CANARY})


class TargetType(StrEnum):
    """lifecycleHooks[].targetType (absent means AWS_LAMBDA)."""

    AWS_LAMBDA = "AWS_LAMBDA"
    PAUSE = "PAUSE"


class HookAction(StrEnum):
    """timeoutConfiguration.action, and ContinueServiceDeployment's ``action`` (default CONTINUE)."""

    ROLLBACK = "ROLLBACK"
    CONTINUE = "CONTINUE"


class StopType(StrEnum):
    """StopServiceDeployment's ``stopType``."""

    ABORT = "ABORT"
    ROLLBACK = "ROLLBACK"


class RolloutState(StrEnum):
    """DescribeServices' ``deployments[].rolloutState``."""

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    IN_PROGRESS = "IN_PROGRESS"


class TaskStatus(StrEnum):
    """A task's desired status, the filter ListTasks takes (its lastStatus passes through more)."""

    RUNNING = "RUNNING"
    PENDING = "PENDING"
    STOPPED = "STOPPED"


@dataclass(frozen=True)
class Limit:
    """A number ECS accepts from ``minimum`` to ``maximum``, and uses ``default`` when none is given."""

    name: str  # where it is set, as the ECS API spells it
    minimum: float
    maximum: float
    default: float | None = None

    def admits(self, value: float) -> bool:
        return self.minimum <= value <= self.maximum

    def describe(self) -> str:
        return f"{self.name} must be {self.minimum}-{self.maximum}"


# The Lambda-hook page says 1-1440 for Lambda hooks; the API (and PAUSE hooks) allow up to 14 days.
LAMBDA_HOOK_TIMEOUT_MINUTES: Final = Limit("timeoutConfiguration.timeoutInMinutes", 1, 1440, 1440)
PAUSE_HOOK_TIMEOUT_MINUTES: Final = Limit("timeoutConfiguration.timeoutInMinutes", 1, 20160, 1440)
DEFAULT_TIMEOUT_ACTION: Final = HookAction.ROLLBACK
BAKE_TIME_MINUTES: Final = Limit("deploymentConfiguration.bakeTimeInMinutes", 0, 1440)
LINEAR_STEP_PERCENT: Final = Limit("linearConfiguration.stepPercent", 3.0, 100.0, 10.0)
LINEAR_STEP_BAKE_MINUTES: Final = Limit("linearConfiguration.stepBakeTimeInMinutes", 0, 1440, 6)
CANARY_PERCENT: Final = Limit("canaryConfiguration.canaryPercent", 0.1, 100.0, 5.0)
CANARY_BAKE_MINUTES: Final = Limit("canaryConfiguration.canaryBakeTimeInMinutes", 0, 1440, 10)
# callBackDelay: ECS documents no bounds; a stage may last at most a day, so longer is a mistake.
CALLBACK_DELAY_SECONDS: Final = Limit("callBackDelay", 1, 24 * 60 * 60, 30)
MAX_HOOKS_PER_TARGET_TYPE: Final = 10  # at most 10 Lambda and 10 PAUSE hooks per service
STAGE_LIMIT_SECONDS: Final = 24 * 60 * 60  # no stage may last longer
LAMBDA_MAX_SECONDS: Final = 15 * 60  # one invocation's longest run: Lambda's own maximum


def one_of(members: Iterable[StrEnum]) -> str:
    """``A, B or C`` in the enum's own order, for messages that say what ECS accepts."""

    def position(member: StrEnum) -> int:
        return list(type(member).__members__.values()).index(member)

    names = [member.value for member in sorted(members, key=position)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def function_name(target: str) -> str:
    """The Lambda function a Lambda hook's ``hookTargetArn`` names, in any form Lambda's Invoke takes
    for FunctionName: ``my-function``, ``my-function:v1``, ``123456789012:function:my-function`` or
    ``arn:aws:lambda:us-west-2:123456789012:function:my-function[:qualifier]`` (Lambda API reference,
    Invoke: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_RequestSyntax)."""
    _, marker, rest = target.partition(":function:")
    return (rest if marker else target).split(":", 1)[0]
