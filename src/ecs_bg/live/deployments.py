"""A service's current deployment as DescribeServiceDeployments shows it, and its PAUSE hooks.

The deployment followed is the newest one still moving (PENDING, IN_PROGRESS, a stop or rollback
under way), else the newest of all: right after ``ecspresso deploy --no-wait`` that is the one just
started, and after it ended, its outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from ecs_bg.hooks.ecs import (
    FINAL_DEPLOYMENT_STATUSES,
    MOVING_DEPLOYMENT_STATUSES,
    DeploymentStatus,
    HookAction,
    LifecycleHookStatus,
)
from ecs_bg.live.aws import AwsFailure, aws_errors

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient


class Refused(Exception):
    """The request makes no sense for the deployment as it is (nothing paused, already ended)."""


@dataclass(frozen=True)
class Revision:
    arn: str
    role: Literal["target", "source"]  # target: the revision being deployed (green)
    task_definition: str | None
    requested: int
    running: int
    pending: int
    production_weight: float | None
    test_weight: float | None

    @property
    def revision_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Hook:
    hook_id: str
    target_type: str  # AWS_LAMBDA or PAUSE
    target_arn: str | None
    status: str
    expires_at: datetime | None
    timeout_action: str | None


@dataclass(frozen=True)
class Deployment:
    arn: str
    cluster: str
    service: str
    region: str
    status: str
    stage: str | None
    status_reason: str | None
    rollback_reason: str | None
    revisions: tuple[Revision, ...]
    hooks: tuple[Hook, ...]
    configured_hook_arns: tuple[str, ...] = ()  # deploymentConfiguration.lifecycleHooks' targets
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def ended(self) -> bool:
        return self.status in FINAL_DEPLOYMENT_STATUSES

    @property
    def awaiting_action(self) -> list[Hook]:
        return [hook for hook in self.hooks if hook.status == LifecycleHookStatus.AWAITING_ACTION]


class NotStartedYet(Refused):
    """No deployment of the service was created at or after the time asked for, yet."""


def find_deployment_arn(
    ecs: ECSClient, cluster: str, service: str, *, created_after: datetime | None = None
) -> str:
    """The deployment being rolled out: the newest that is still moving, else the newest.

    With ``created_after`` only deployments ECS created at or after it count (NotStartedYet when
    there is none): right after UpdateService, the newest deployment may still be the previous one.
    """
    with aws_errors():
        try:
            briefs = ecs.list_service_deployments(cluster=cluster, service=service)["serviceDeployments"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("ServiceNotFoundException", "ClusterNotFoundException"):
                region = ecs.meta.region_name
                raise AwsFailure(f"no service {service} in cluster {cluster} ({region})") from None
            raise
    if not briefs:
        raise AwsFailure(
            f"service {service} in cluster {cluster} has no service deployments "
            "(only services with the ECS deployment controller have them)"
        )
    if created_after is not None:
        briefs = [brief for brief in briefs if _created(brief) >= created_after]
        if not briefs:
            raise NotStartedYet(
                f"no deployment of {service} in {cluster} created since {created_after:%FT%TZ}"
            )
    # ECS does not promise an order; the newest moving deployment is the one being rolled out.
    newest_first = sorted(briefs, key=_created, reverse=True)
    moving = [brief for brief in newest_first if brief.get("status") in MOVING_DEPLOYMENT_STATUSES]
    return (moving or newest_first)[0]["serviceDeploymentArn"]


def describe(ecs: ECSClient, deployment_arn: str) -> Deployment:
    with aws_errors():
        answer = ecs.describe_service_deployments(serviceDeploymentArns=[deployment_arn])
        if not answer.get("serviceDeployments"):
            raise AwsFailure(f"service deployment {deployment_arn} not found")
        found: dict[str, Any] = dict(answer["serviceDeployments"][0])
        summaries = [*found.get("sourceServiceRevisions", [])]
        target = found.get("targetServiceRevision")
        arns = ([target["arn"]] if target else []) + [summary["arn"] for summary in summaries]
        revisions = (
            ecs.describe_service_revisions(serviceRevisionArns=arns)["serviceRevisions"] if arns else []
        )
    task_definitions = {r["serviceRevisionArn"]: r.get("taskDefinition") for r in revisions}

    def revision(summary: dict[str, Any], role: Literal["target", "source"]) -> Revision:
        return Revision(
            arn=summary["arn"],
            role=role,
            task_definition=task_definitions.get(summary["arn"]),
            requested=summary.get("requestedTaskCount", 0),
            running=summary.get("runningTaskCount", 0),
            pending=summary.get("pendingTaskCount", 0),
            production_weight=summary.get("requestedProductionTrafficWeight"),
            test_weight=summary.get("requestedTestTrafficWeight"),
        )

    # service-deployment ARN: arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID
    _, _, _, region, _, resource = deployment_arn.split(":", 5)
    _, cluster, service, _ = resource.split("/")
    return Deployment(
        arn=deployment_arn,
        cluster=cluster,
        service=service,
        region=region,
        status=found["status"],
        stage=found.get("lifecycleStage"),
        status_reason=found.get("statusReason"),
        rollback_reason=(found.get("rollback") or {}).get("reason"),
        revisions=tuple(
            ([revision(dict(target), "target")] if target else [])
            + [revision(dict(summary), "source") for summary in summaries]
        ),
        hooks=tuple(
            Hook(
                hook_id=detail.get("hookId", ""),
                target_type=detail.get("targetType", ""),
                target_arn=detail.get("targetArn"),
                status=detail.get("status", ""),
                expires_at=detail.get("expiresAt"),
                timeout_action=detail.get("timeoutAction"),
            )
            for detail in found.get("lifecycleHookDetails", [])
        ),
        configured_hook_arns=tuple(
            hook["hookTargetArn"]
            for hook in (found.get("deploymentConfiguration") or {}).get("lifecycleHooks", [])
            if hook.get("hookTargetArn")
        ),
        created_at=_aware(found.get("createdAt")),
        started_at=_aware(found.get("startedAt")),
        finished_at=_aware(found.get("finishedAt")),
    )


def paused_hook(deployment: Deployment, hook_id: str | None) -> Hook:
    """The PAUSE hook to act on: the one named, or the only one awaiting action."""
    if deployment.status != DeploymentStatus.IN_PROGRESS:
        raise Refused(f"deployment {deployment.arn} is {deployment.status}; only IN_PROGRESS ones pause")
    waiting = deployment.awaiting_action
    if not waiting:
        raise Refused(f"no PAUSE hook is awaiting action (stage {deployment.stage or 'unknown'})")
    if hook_id is None:
        if len(waiting) > 1:
            ids = ", ".join(hook.hook_id for hook in waiting)
            raise Refused(
                f"{len(waiting)} PAUSE hooks are awaiting action ({ids}): choose one with --hook-id"
            )
        return waiting[0]
    chosen = next((hook for hook in waiting if hook.hook_id == hook_id), None)
    if chosen is None:
        ids = ", ".join(hook.hook_id for hook in waiting)
        raise Refused(f"hook {hook_id} is not awaiting action; these are: {ids}")
    return chosen


def continue_deployment(ecs: ECSClient, deployment: Deployment, hook: Hook, action: HookAction) -> None:
    """ContinueServiceDeployment: CONTINUE lets the deployment go on, ROLLBACK rolls it back."""
    with aws_errors():
        ecs.continue_service_deployment(
            serviceDeploymentArn=deployment.arn, hookId=hook.hook_id, action=action.value
        )


def watch(
    ecs: ECSClient,
    deployment_arn: str,
    *,
    interval: float,
    timeout: float,
    show: Callable[[Deployment], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Deployment | None:
    """Describe the deployment every ``interval`` seconds until it ends; None when ``timeout`` runs out."""
    deadline = clock() + timeout
    while True:
        deployment = describe(ecs, deployment_arn)
        show(deployment)
        remaining = deadline - clock()
        if deployment.ended or remaining <= 0:
            return deployment if deployment.ended else None
        sleep(min(interval, remaining))


def _created(brief: Mapping[str, Any]) -> datetime:
    return _aware(brief.get("createdAt")) or datetime.min.replace(tzinfo=UTC)


def _aware(moment: object) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
