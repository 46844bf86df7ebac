"""The ``notify`` check: its settings, the message a stage stands for, and sending it everywhere."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ecs_bg.hooks.aws import AwsCallFailed
from ecs_bg.hooks.config import CheckSettings, bounded
from ecs_bg.hooks.deployment import describe_deployment
from ecs_bg.hooks.event import Stage
from ecs_bg.hooks.log import redact
from ecs_bg.hooks.notify import slack, sns, teams, webhook
from ecs_bg.hooks.notify.message import Message, Undelivered
from ecs_bg.hooks.notify.muting import transport_logs_muted
from ecs_bg.hooks.result import Verdict

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext

SLACK_ENV: Final = "ECS_BG_SLACK_WEBHOOK_SECRET_ARN"
TEAMS_ENV: Final = "ECS_BG_TEAMS_WEBHOOK_SECRET_ARN"
SNS_ENV: Final = "ECS_BG_SNS_TOPIC_ARN"

STAGE_OUTCOMES: Final = {
    Stage.PRE_SCALE_UP: "deployment starting",
    Stage.POST_PRODUCTION_TRAFFIC_SHIFT: "production traffic on green",
}


def _from_env(name: str) -> Any:
    """Field default read from the function's environment (set by the stack); null switches it off."""
    return field(default_factory=lambda: os.environ.get(name) or None)


@dataclass(frozen=True, kw_only=True)
class Settings(CheckSettings):
    slack: str | None = _from_env(SLACK_ENV)  # secret ARN/name, or SSM parameter name ("/…") or ARN
    teams: str | None = _from_env(TEAMS_ENV)
    sns_topic_arn: str | None = _from_env(SNS_ENV)
    required: bool = False
    timeout_seconds: float = field(default=5.0, metadata=bounded(0.1, 60))

    def __post_init__(self) -> None:
        for setting, reference in (("slack", self.slack), ("teams", self.teams)):
            # Never echo the value: it may be the very secret that must not reach the logs.
            if reference is not None and "://" in reference:
                raise ValueError(
                    f"{setting} must name the Secrets Manager secret or SSM parameter that holds the "
                    "webhook URL, not the URL itself (webhook URLs are secrets)"
                )
        if self.sns_topic_arn is not None and not sns.TOPIC_ARN.match(self.sns_topic_arn):
            raise ValueError(f"snsTopicArn must be an SNS topic ARN, got {self.sns_topic_arn!r}")


def run(ctx: HookContext, settings: Settings) -> Verdict:
    stage = ctx.event.stage
    return send(ctx, settings, outcome=STAGE_OUTCOMES.get(stage, f"{stage.value} passed"))


def send(ctx: HookContext, settings: Settings, outcome: str, detail: str = "") -> Verdict:
    """Send one message to every configured channel; FAILED only if one failed and ``required``."""
    channels = _channels(ctx, settings)
    if not channels:
        return Verdict.passed("no notification channels configured")

    message = _message(ctx, outcome, detail)
    failures: dict[str, str] = {}
    with transport_logs_muted():
        for name, deliver in channels.items():
            try:
                deliver(message)
                continue
            except (AwsCallFailed, Undelivered) as error:
                failures[name] = redact(str(error))
            except Exception as error:  # noqa: BLE001 - a notifier fails the deployment only when required
                failures[name] = f"unexpected {type(error).__name__}"  # its text might hold the URL
            ctx.logger.warning("notification failed", extra={"channel": name, "why": failures[name]})
    sent = [name for name in channels if name not in failures]
    summary = f"{outcome!r} sent to {', '.join(sent) or 'no channel'}"
    if failures:
        summary += "; failed: " + "; ".join(f"{name} ({why})" for name, why in failures.items())
    data = {"sent": sent, "failed": sorted(failures)}
    if failures and settings.required:
        return Verdict.failed(summary, **data)
    return Verdict.passed(summary, **data)


def _channels(ctx: HookContext, settings: Settings) -> dict[str, Callable[[Message], None]]:
    """Each configured channel's name and how to deliver a message to it."""
    region = ctx.event.deployment.region
    channels: dict[str, Callable[[Message], None]] = {}
    for name, reference, render in (
        ("slack", settings.slack, slack.payload),
        ("teams", settings.teams, teams.payload),
    ):
        if reference:
            channels[name] = functools.partial(_post, reference, region, render, settings.timeout_seconds)
    if settings.sns_topic_arn:
        channels["sns"] = functools.partial(sns.publish, settings.sns_topic_arn)
    return channels


def _post(
    reference: str,
    region: str,
    render: Callable[[Message], dict[str, Any]],
    timeout_seconds: float,
    message: Message,
) -> None:
    webhook.post(reference, region, render(message), timeout_seconds)


def _message(ctx: HookContext, outcome: str, detail: str) -> Message:
    event = ctx.event
    region = event.deployment.region
    return Message(
        title=f"{event.service}: {outcome}",
        facts=(
            ("Service", event.service),
            ("Cluster", event.cluster),
            ("Stage", event.stage.value),
            ("Outcome", outcome),
            ("Green revision", event.green_revision_arn.rsplit("/", 1)[-1]),
            ("Blue revision", _blue_revision(ctx)),
        ),
        detail=detail,
        link=(
            f"https://{region}.console.aws.amazon.com/ecs/v2/clusters/{event.cluster}"
            f"/services/{event.service}/deployments?region={region}"
        ),
    )


def _blue_revision(ctx: HookContext) -> str:
    """The revision green replaces. The event names it only at the shift stages (in the weights);
    elsewhere the deployment's source revisions do, and they are empty on a first deployment."""
    arn = ctx.event.blue_revision_arn
    if arn is None:
        try:
            sources = describe_deployment(ctx.event).get("sourceServiceRevisions") or []
        except (AwsCallFailed, LookupError) as error:  # a message without it beats no message
            ctx.logger.warning("blue revision unknown", extra={"why": redact(str(error))})
            return "unknown"
        if not sources:
            return "first deployment"
        arn = str(sources[0]["arn"])
    return arn.rsplit("/", 1)[-1]
