"""How a deployment reads on a terminal (rich) and in a CI log (plain lines)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ecs_bg.hooks.ecs import DEFAULT_TIMEOUT_ACTION, DeploymentStatus, HookAction, LifecycleHookStatus
from ecs_bg.live.commands import Where
from ecs_bg.live.decisions import Decision, Why
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


def _decision_text(decision: Decision) -> str:
    return (
        f"{decision.reason} (answered {decision.status} at {decision.stage}, "
        f"{decision.at.astimezone(UTC):%H:%M:%SZ})"
    )


def plain_lines(deployment: Deployment, why: Why | None = None) -> list[str]:
    why = why or Why()
    lines = [headline(deployment), f"  deployment {deployment.arn}"]
    lines += [f"  {_revision_line(revision)}" for revision in deployment.revisions]
    for hook in deployment.hooks:
        lines.append(f"  {_hook_line(hook)}")
        decision = why.reasons.get(hook.hook_id)
        if decision is not None:
            lines.append(f"    why: {_decision_text(decision)}")
    reason = deployment.rollback_reason or deployment.status_reason
    if reason:
        lines.append(f"  reason: {reason}")
    lines += [f"  note: {note}" for note in why.notes]
    return lines


def pause_message(deployment: Deployment, hook: Hook) -> str:
    return (
        f"PAUSE hook {hook.hook_id} is AWAITING_ACTION at {deployment.stage}: the deployment waits for you "
        f"until {_time(hook.expires_at)}, then {hook.timeout_action or DEFAULT_TIMEOUT_ACTION}s."
    )


def pause_commands(deployment: Deployment, hook: Hook, where: Where) -> list[str]:
    """The exact commands that act on a PAUSE hook, each on one line, to paste as printed."""
    aws = [
        "ecs", "continue-service-deployment", "--service-deployment-arn", deployment.arn,
        "--hook-id", hook.hook_id, "--action",
    ]  # fmt: skip
    return [
        f"  approve: {where.ecs_bg('approve', '--hook-id', hook.hook_id)}",
        f"  reject:  {where.ecs_bg('reject', '--hook-id', hook.hook_id)}",
        f"  or:      {where.aws(*aws, HookAction.CONTINUE)}",
        f"           {where.aws(*aws, HookAction.ROLLBACK)}",
    ]


def pause_instructions(deployment: Deployment, hook: Hook, where: Where) -> list[str]:
    """What a CI log shows for a PAUSE hook: the message, then the commands."""
    return [pause_message(deployment, hook), *pause_commands(deployment, hook, where)]


def rich_view(deployment: Deployment, why: Why | None = None) -> RenderableType:
    """The tables; a PAUSE hook's commands are not in them (a table crops or wraps a long line):
    print ``pause_commands`` beside the view with ``soft_wrap``."""
    why = why or Why()
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
        for column in ("hook", "type", "status", "hook's reason", "expires at", "timeout action"):
            hooks.add_column(column)
        for hook in deployment.hooks:
            hook_style = HOOK_STYLE.get(hook.status, "yellow")
            decision = why.reasons.get(hook.hook_id)
            hooks.add_row(
                hook.hook_id + (f"\n{hook.target_arn}" if hook.target_arn else ""),
                hook.target_type,
                Text(hook.status, style=hook_style),
                Text(_decision_text(decision)) if decision else "-",
                _time(hook.expires_at),
                hook.timeout_action or "-",
            )
        parts.append(hooks)
    reason = deployment.rollback_reason or deployment.status_reason
    if reason:
        parts.append(Text(f"reason: {reason}", style="yellow"))
    parts += [Text(f"note: {note}", style="dim") for note in why.notes]
    for hook in deployment.awaiting_action:
        commands = "Approve or reject: the commands are printed with this view."
        message = f"{pause_message(deployment, hook)}\n{commands}"
        parts.append(Panel(Text(message), title="ACTION NEEDED", border_style="magenta"))
    return Group(*parts)
