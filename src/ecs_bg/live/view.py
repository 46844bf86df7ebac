"""How a deployment reads on a terminal (rich) and in a CI log (plain lines)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ecs_bg.hooks.ecs import DEFAULT_TIMEOUT_ACTION, DeploymentStatus, LifecycleHookStatus
from ecs_bg.live.deployments import Deployment, Hook, Revision

STATUS_STYLE: dict[str, str] = {
    DeploymentStatus.SUCCESSFUL: "bold green",
    DeploymentStatus.IN_PROGRESS: "bold cyan",
    DeploymentStatus.ROLLBACK_SUCCESSFUL: "bold yellow",
    DeploymentStatus.ROLLBACK_FAILED: "bold red",
    DeploymentStatus.STOPPED: "bold red",
}
HOOK_STYLE: dict[str, str] = {
    LifecycleHookStatus.SUCCEEDED: "green",
    LifecycleHookStatus.FAILED: "red",
    LifecycleHookStatus.TIMED_OUT: "red",
    LifecycleHookStatus.AWAITING_ACTION: "bold magenta",
}


def _weight(value: float | None) -> str:
    return "-" if value is None else f"{value:g}%"


def _time(value: datetime | None) -> str:
    # botocore gives local time; logs from several machines compare best in UTC.
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else "-"


def _revision_line(revision: Revision) -> str:
    colour = "green (target)" if revision.role == "target" else "blue (source)"
    return (
        f"{colour} revision {revision.revision_id} {revision.task_definition or '?'}: "
        f"{revision.running}/{revision.requested} tasks running, {revision.pending} pending; "
        f"production {_weight(revision.production_weight)}, test {_weight(revision.test_weight)}"
    )


def _hook_line(hook: Hook) -> str:
    target = f" {hook.target_arn}" if hook.target_arn else ""
    return (
        f"hook {hook.hook_id} ({hook.target_type}{target}): {hook.status}, "
        f"expires {_time(hook.expires_at)}, then {hook.timeout_action or '-'}"
    )


def headline(deployment: Deployment) -> str:
    stage = f" at {deployment.stage}" if deployment.stage else ""
    return f"{deployment.service} ({deployment.cluster}): {deployment.status}{stage}"


def plain_lines(deployment: Deployment) -> list[str]:
    lines = [headline(deployment), f"  deployment {deployment.arn}"]
    lines += [f"  {_revision_line(revision)}" for revision in deployment.revisions]
    lines += [f"  {_hook_line(hook)}" for hook in deployment.hooks]
    reason = deployment.rollback_reason or deployment.status_reason
    if reason:
        lines.append(f"  reason: {reason}")
    return lines


def pause_instructions(deployment: Deployment, hook: Hook) -> list[str]:
    """The exact commands that act on a PAUSE hook, for the person reading the log."""
    where = f"--cluster {deployment.cluster} --service {deployment.service} --region {deployment.region}"
    aws = (
        f"aws ecs continue-service-deployment --region {deployment.region} "
        f"--service-deployment-arn {deployment.arn} --hook-id {hook.hook_id} --action"
    )
    return [
        f"PAUSE hook {hook.hook_id} is AWAITING_ACTION at {deployment.stage}: the deployment waits for you "
        f"until {_time(hook.expires_at)}, then {hook.timeout_action or DEFAULT_TIMEOUT_ACTION}s.",
        f"  approve: ecs-bg approve {where} --hook-id {hook.hook_id}",
        f"  reject:  ecs-bg reject {where} --hook-id {hook.hook_id}",
        f"  or:      {aws} CONTINUE   (ROLLBACK to reject)",
    ]


def rich_view(deployment: Deployment) -> RenderableType:
    style = STATUS_STYLE.get(deployment.status, "bold")
    title = Text.assemble(
        f"{deployment.service} ({deployment.cluster}): ",
        (deployment.status, style),
        f" at {deployment.stage}" if deployment.stage else "",
    )
    revisions = Table(title=title, title_justify="left", caption=deployment.arn, caption_justify="left")
    for column in ("revision", "task definition", "running/requested", "pending", "production", "test"):
        revisions.add_column(column)
    for revision in deployment.revisions:
        colour = "green" if revision.role == "target" else "blue"
        revisions.add_row(
            f"[{colour}]{revision.revision_id} ({revision.role})[/{colour}]",
            revision.task_definition or "?",
            f"{revision.running}/{revision.requested}",
            str(revision.pending),
            _weight(revision.production_weight),
            _weight(revision.test_weight),
        )
    parts: list[RenderableType] = [revisions]
    if deployment.hooks:
        hooks = Table(title="lifecycle hooks", title_justify="left")
        for column in ("hook", "type", "status", "expires at", "timeout action"):
            hooks.add_column(column)
        for hook in deployment.hooks:
            hook_style = HOOK_STYLE.get(hook.status, "yellow")
            hooks.add_row(
                hook.hook_id + (f"\n{hook.target_arn}" if hook.target_arn else ""),
                hook.target_type,
                f"[{hook_style}]{hook.status}[/{hook_style}]",
                _time(hook.expires_at),
                hook.timeout_action or "-",
            )
        parts.append(hooks)
    reason = deployment.rollback_reason or deployment.status_reason
    if reason:
        parts.append(Text(f"reason: {reason}", style="yellow"))
    for hook in deployment.awaiting_action:
        parts.append(
            Panel(
                "\n".join(pause_instructions(deployment, hook)), title="ACTION NEEDED", border_style="magenta"
            )
        )
    return Group(*parts)
