"""migration: run the database migration as a one-off ECS task and wait for it to exit 0.

The task runs green's task definition with the revision's network configuration and capacity,
and the command from hookDetails. It starts at most once per deployment: its ARN rides in the
hook's state across IN_PROGRESS invocations; when that state is lost (an invocation that timed
out), ListTasks finds the task again by its ``startedBy`` tag; and RunTask's ``clientToken`` turns
a retried request into the task already started. Verdicts name the task's CloudWatch Logs stream.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ecs_bg.hooks import aws
from ecs_bg.hooks.aws import call
from ecs_bg.hooks.config import CheckSettings, bounded
from ecs_bg.hooks.deployment import describe_target_revision
from ecs_bg.hooks.ecs import TaskStatus
from ecs_bg.hooks.result import CheckFailed, Verdict

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext
    from ecs_bg.hooks.event import HookEvent

STARTED_BY_PREFIX: Final = "ecs-bg-migrate-"
_STARTED_BY_MAX: Final = 36  # RunTask's limit on startedBy
# The revision fields that say where and on what capacity green's tasks run, as RunTask takes them.
_PLACEMENT: Final = ("networkConfiguration", "capacityProviderStrategy", "launchType", "platformVersion")


@dataclass(frozen=True, kw_only=True)
class Settings(CheckSettings):
    command: tuple[str, ...]
    container_name: str | None = None  # default: the task definition's first essential container
    environment: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = field(default=1800.0, metadata=bounded(1, 86_400))  # a stage lasts ≤ 24 h
    interval_seconds: float = field(default=5.0, metadata=bounded(1, 300))

    def __post_init__(self) -> None:
        if not self.command or not all(self.command):
            raise ValueError(
                'command must list the program and its arguments, e.g. ["python", "manage.py", "migrate"]'
            )
        if self.interval_seconds > self.timeout_seconds:
            raise ValueError("intervalSeconds must not exceed timeoutSeconds")


@dataclass(frozen=True)
class MigrationTask:
    """What the hook keeps of the task between invocations (in ctx.state: small, JSON)."""

    arn: str
    container: str
    log_group: str | None = None
    log_stream: str | None = None

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    def logs(self) -> str:
        if self.log_group is None:
            return f"container {self.container} does not log to CloudWatch Logs (no awslogs driver)"
        stream = f", stream {self.log_stream}" if self.log_stream else ""
        return f"logs: CloudWatch Logs group {self.log_group}{stream}"


def started_by(event: HookEvent) -> str:
    """The tag that finds this deployment's migration task again. ECS deployment ids are 21
    characters, so the id fits whole in RunTask's 36."""
    return (STARTED_BY_PREFIX + event.deployment.deployment_id)[:_STARTED_BY_MAX]


def client_token(event: HookEvent) -> str:
    """RunTask's idempotency token (at most 64 characters): one per deployment."""
    return hashlib.sha256(event.deployment.arn.encode()).hexdigest()


def prepare() -> None:
    aws.prepare("ecs")


def run(ctx: HookContext, settings: Settings) -> Verdict:
    remembered = ctx.state.get("migration")
    task = MigrationTask(**remembered) if remembered else _start_once(ctx, settings)
    ctx.state["migration"] = asdict(task)  # before waiting: an IN_PROGRESS answer carries it
    return ctx.wait_until(
        "migration",
        lambda: _probe(ctx, task),
        interval=settings.interval_seconds,
        timeout=settings.timeout_seconds,
    )


def _start_once(ctx: HookContext, settings: Settings) -> MigrationTask:
    event = ctx.event
    revision = describe_target_revision(event)
    task_definition = call(
        "ecs", event.deployment.region, "DescribeTaskDefinition", taskDefinition=revision["taskDefinition"]
    )["taskDefinition"]
    container = _container(task_definition, settings.container_name)
    arn = _find_started(event)
    if arn is None:
        arn = _run_task(event, settings, revision, container["name"])
        ctx.logger.info("migration task started", extra={"taskArn": arn, "command": list(settings.command)})
    else:
        ctx.logger.info("migration task found, not started again", extra={"taskArn": arn})
    task = MigrationTask(arn, container["name"], *_log_location(container, arn.rsplit("/", 1)[-1]))
    ctx.logger.info(
        "migration task logs",
        extra={"taskArn": arn, "logGroup": task.log_group, "logStream": task.log_stream},
    )
    return task


def _container(task_definition: dict[str, Any], name: str | None) -> dict[str, Any]:
    containers: list[dict[str, Any]] = task_definition.get("containerDefinitions", [])
    if name is None:
        # ECS treats a container without "essential" as essential.
        found = next((c for c in containers if c.get("essential", True)), None)
    else:
        found = next((c for c in containers if c.get("name") == name), None)
    if found is None:
        family = f"{task_definition.get('family')}:{task_definition.get('revision')}"
        names = ", ".join(c.get("name", "?") for c in containers) or "none"
        wanted = f"container {name!r}" if name else "an essential container"
        raise CheckFailed("migration", f"task definition {family} has no {wanted} (containers: {names})")
    return found


def _log_location(container: dict[str, Any], task_id: str) -> tuple[str | None, str | None]:
    """The CloudWatch Logs group and stream of ``container`` in task ``task_id`` (None: unknown)."""
    configuration = container.get("logConfiguration") or {}
    if configuration.get("logDriver") != "awslogs":
        return None, None
    options = configuration.get("options") or {}
    prefix = options.get("awslogs-stream-prefix")
    # awslogs names the stream prefix/container/task-id; without a prefix only the group is known.
    return options.get("awslogs-group"), f"{prefix}/{container['name']}/{task_id}" if prefix else None


def _find_started(event: HookEvent) -> str | None:
    """This deployment's migration task, if an earlier invocation started it (running or not)."""
    for status in (TaskStatus.RUNNING, TaskStatus.STOPPED):  # ListTasks shows RUNNING only unless asked
        arns: list[str] = call(
            "ecs",
            event.deployment.region,
            "ListTasks",
            cluster=event.cluster,
            startedBy=started_by(event),
            desiredStatus=status,
        )["taskArns"]
        if arns:
            return arns[0]
    return None


def _run_task(event: HookEvent, settings: Settings, revision: dict[str, Any], container: str) -> str:
    override: dict[str, Any] = {"name": container, "command": list(settings.command)}
    if settings.environment:
        override["environment"] = [{"name": k, "value": v} for k, v in settings.environment.items()]
    placement = {key: revision[key] for key in _PLACEMENT if revision.get(key)}
    if placement.get("capacityProviderStrategy"):
        placement.pop("launchType", None)  # RunTask takes one or the other
    response = call(
        "ecs",
        event.deployment.region,
        "RunTask",
        cluster=event.cluster,
        taskDefinition=revision["taskDefinition"],
        count=1,
        startedBy=started_by(event),
        clientToken=client_token(event),
        overrides={"containerOverrides": [override]},
        **placement,
    )
    if not response.get("tasks"):
        failure = (response.get("failures") or [{}])[0]
        detail = f" ({failure['detail']})" if failure.get("detail") else ""
        raise CheckFailed("migration", f"RunTask started no task: {failure.get('reason', '?')}{detail}")
    return str(response["tasks"][0]["taskArn"])


def _probe(ctx: HookContext, task: MigrationTask) -> Verdict:
    event = ctx.event
    response = call("ecs", event.deployment.region, "DescribeTasks", cluster=event.cluster, tasks=[task.arn])
    if not response.get("tasks"):
        failure = (response.get("failures") or [{}])[0]
        return Verdict.failed(f"task {task.id} not found: {failure.get('reason', '?')}")
    described = response["tasks"][0]
    status = described.get("lastStatus", "?")
    if status != TaskStatus.STOPPED:
        return Verdict.pending(f"task {task.id} is {status}; {task.logs()}", taskArn=task.arn)
    container: dict[str, Any] = next(
        (c for c in described.get("containers", []) if c.get("name") == task.container), {}
    )
    exit_code = container.get("exitCode")
    data = {
        "taskArn": task.arn,
        "exitCode": exit_code,
        "logGroup": task.log_group,
        "logStream": task.log_stream,
    }
    if exit_code == 0:
        return Verdict.passed(f"task {task.id} exited 0; {task.logs()}", **data)
    if exit_code is not None:
        return Verdict.failed(f"task {task.id} failed with exit code {exit_code}; {task.logs()}", **data)
    # Stopped before the command ran: image pull, secrets, capacity. ECS says why in these fields.
    why = "; ".join(
        filter(None, (described.get("stopCode"), described.get("stoppedReason"), container.get("reason")))
    )
    return Verdict.failed(
        f"task {task.id} stopped without an exit code: {why or 'no reason given'}; {task.logs()}", **data
    )
