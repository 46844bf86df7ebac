"""Why a hook decided what it did: its ``hook decision`` log lines, read back from CloudWatch Logs.

Every invocation of a hook built on ``ecs_bg.hooks`` logs one JSON line (Powertools Logger) with
``"message": "hook decision"``, ``hookStatus``, ``reason``, ``durationMs`` and the invocation's keys
``executionId``, ``stage``, ``cluster``, ``service``. Lambda writes a function's output to the log
group ``/aws/lambda/<function name>`` (the default; "Sending Lambda function logs to CloudWatch Logs",
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html).

The lines of one deployment are the ones of its cluster and service inside its time window: the log
line names no deployment (the event's ``resourceArn`` is not among the logged keys), and one service
runs one deployment at a time. Reading them needs ``logs:FilterLogEvents`` on those log groups; when
it is missing, or the log group does not exist, the caller gets a one-line note instead of lines.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from ecs_bg.hooks.ecs import LifecycleHookStatus, TargetType, function_name
from ecs_bg.live.aws import error_code, is_access_denied

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

    from ecs_bg.live.deployments import Deployment, Hook

DECISION_MESSAGE: Final = "hook decision"  # what ecs_bg.hooks.runtime logs once per invocation
# CloudWatch Logs' filter-pattern syntax for JSON log events ("Using filter patterns to match terms in
# JSON log events", https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
# The same conditions are checked again here: an emulator may ignore the pattern.
PATTERN: Final = '{{ $.message = "{message}" && $.cluster = "{cluster}" && $.service = "{service}" }}'
MAX_PAGES: Final = 10  # a deployment's decisions fit in a page or two; never page through days of logs
# A hook that is still working (IN_PROGRESS, or settled before its last line reached CloudWatch Logs)
# is looked up again at most this often during a watch.
REFRESH_SECONDS: Final = 60.0


@dataclass(frozen=True)
class Decision:
    """One ``hook decision`` log line."""

    function: str  # the Lambda function's name
    at: datetime  # when CloudWatch Logs received the line (the invocation's end)
    stage: str
    status: str  # the hookStatus the hook answered
    reason: str
    execution_id: str | None
    duration_ms: float | None


@dataclass(frozen=True)
class Decisions:
    """The lines found, oldest first, and a note for each log group that could not be read."""

    lines: tuple[Decision, ...] = ()
    notes: Mapping[str, str] = field(default_factory=dict)  # function -> why it could not be read


def log_group(function: str) -> str:
    return f"/aws/lambda/{function}"


def read(
    logs: CloudWatchLogsClient,
    functions: Iterable[str],
    *,
    cluster: str,
    service: str,
    start: datetime,
    end: datetime | None = None,
) -> Decisions:
    """The ``hook decision`` lines of ``functions`` for ``cluster``/``service`` in [start, end]."""
    lines: list[Decision] = []
    notes: dict[str, str] = {}
    for function in sorted(set(functions)):
        try:
            lines += _read_one(logs, function, cluster, service, start, end)
        except ClientError as error:
            notes[function] = _note(function, error)
        except BotoCoreError as error:  # unreachable endpoint, no credentials: the same degradation
            notes[function] = f"hook reasons of {function} unavailable: {error}"
    return Decisions(tuple(sorted(lines, key=lambda line: line.at)), notes)


def _read_one(
    logs: CloudWatchLogsClient,
    function: str,
    cluster: str,
    service: str,
    start: datetime,
    end: datetime | None,
) -> list[Decision]:
    request: dict[str, Any] = {
        "logGroupName": log_group(function),
        "filterPattern": PATTERN.format(message=DECISION_MESSAGE, cluster=cluster, service=service),
        "startTime": _millis(start),
    }
    if end is not None:
        request["endTime"] = _millis(end)
    found: list[Decision] = []
    for _ in range(MAX_PAGES):
        page = logs.filter_log_events(**request)
        for event in page.get("events", []):
            decision = _decision(function, event, cluster, service)
            if decision is not None:
                found.append(decision)
        if not page.get("nextToken"):
            break
        request["nextToken"] = page["nextToken"]
    return found


def _decision(function: str, event: Mapping[str, Any], cluster: str, service: str) -> Decision | None:
    try:
        line = json.loads(event.get("message", ""))
    except ValueError:
        return None
    if not (
        isinstance(line, dict)
        and line.get("message") == DECISION_MESSAGE
        and line.get("cluster") == cluster
        and line.get("service") == service
    ):
        return None
    duration = line.get("durationMs")
    return Decision(
        function=function,
        at=datetime.fromtimestamp(event.get("timestamp", 0) / 1000, UTC),
        stage=str(line.get("stage", "")),
        status=str(line.get("hookStatus", "")),
        reason=str(line.get("reason", "")),
        execution_id=line.get("executionId"),
        duration_ms=float(duration) if isinstance(duration, int | float) else None,
    )


def _note(function: str, error: ClientError) -> str:
    group = log_group(function)
    if is_access_denied(error):
        return (
            f"hook reasons of {function} unavailable: access denied calling logs:FilterLogEvents on {group} "
            "(grant it to see why the hook decided; ECS's reason is shown)"
        )
    if error_code(error) == "ResourceNotFoundException":
        return f"hook reasons of {function} unavailable: no log group {group} (has the function run yet?)"
    return f"hook reasons of {function} unavailable: {error_code(error)} from logs:FilterLogEvents on {group}"


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def latest_for(hook: Hook, lines: Iterable[Decision]) -> Decision | None:
    """The hook's last decision, preferring one that agrees with ECS's status for it: the same
    function re-invoked during a rollback answers SUCCEEDED after the FAILED that caused it."""
    if hook.target_arn is None:
        return None
    own = [line for line in lines if line.function == function_name(hook.target_arn)]
    agreeing = [line for line in own if line.status == hook.status]
    chosen = agreeing or own
    return chosen[-1] if chosen else None


@dataclass(frozen=True)
class Why:
    """The hooks' own reasons next to ECS's: hookId -> its latest decision, and what could not be read."""

    reasons: Mapping[str, Decision] = field(default_factory=dict)
    notes: Sequence[str] = ()


@dataclass
class _Looked:
    status: str
    at: float
    decision: Decision | None


@dataclass
class HookReasons:
    """Each Lambda hook's latest decision during a watch, looked up only when worth it: when ECS's
    status for the hook changed, or, while the hook is still working or its line has not arrived
    yet, at most every ``refresh`` seconds. A log group that cannot be read is not asked again."""

    logs: CloudWatchLogsClient
    refresh: float = REFRESH_SECONDS
    clock: Callable[[], float] = time.monotonic
    _looked: dict[str, _Looked] = field(default_factory=dict)
    _notes: dict[str, str] = field(default_factory=dict)  # function -> why it cannot be read

    def __call__(self, deployment: Deployment) -> Why:
        """Each Lambda hook's latest decision, and notes on what could not be read."""
        due = [hook for hook in _lambda_hooks(deployment) if self._due(hook)]
        functions = {function_name(hook.target_arn or "") for hook in due} - set(self._notes)
        if functions and deployment.created_at is not None:
            found = read(
                self.logs,
                functions,
                cluster=deployment.cluster,
                service=deployment.service,
                start=deployment.created_at,
                end=deployment.finished_at,
            )
            self._notes.update(found.notes)
            for hook in due:
                self._looked[hook.hook_id] = _Looked(hook.status, self.clock(), latest_for(hook, found.lines))
        looked = self._looked.items()
        reasons = {hook_id: seen.decision for hook_id, seen in looked if seen.decision is not None}
        return Why(reasons, tuple(self._notes.values()))

    def _due(self, hook: Hook) -> bool:
        looked = self._looked.get(hook.hook_id)
        if looked is None or looked.status != hook.status:
            return True
        settled = looked.decision is not None and looked.decision.status == hook.status
        working = hook.status == LifecycleHookStatus.IN_PROGRESS
        return (working or not settled) and self.clock() - looked.at >= self.refresh


def _lambda_hooks(deployment: Deployment) -> list[Hook]:
    return [
        hook
        for hook in deployment.hooks
        if hook.target_arn and hook.target_type in (TargetType.AWS_LAMBDA, "")  # absent means AWS_LAMBDA
    ]
