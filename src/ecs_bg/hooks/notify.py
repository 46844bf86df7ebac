"""notify: tell people about the deployment on Slack, Microsoft Teams and an SNS topic.

Webhook URLs are bearer secrets. hookDetails names the Secrets Manager secret or SSM parameter
holding each one (never the URL itself); the URL is read when a message goes out, never logged and
never put in a reason. A channel that fails logs a warning and lets the deployment go on, unless
``required`` says a missing notification must stop it.

``send`` is public so a stage function can announce any outcome (a failure it caught, say);
the ``notify`` check sends the outcome its stage stands for.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from ecs_bg.hooks.aws import AwsCallFailed, call
from ecs_bg.hooks.config import CheckSettings, bounded
from ecs_bg.hooks.deployment import describe_deployment
from ecs_bg.hooks.event import Stage
from ecs_bg.hooks.log import redact
from ecs_bg.hooks.result import Verdict

if TYPE_CHECKING:
    from ecs_bg.hooks.runtime import HookContext

SLACK_ENV: Final = "ECS_BG_SLACK_WEBHOOK_SECRET_ARN"
TEAMS_ENV: Final = "ECS_BG_TEAMS_WEBHOOK_SECRET_ARN"
SNS_ENV: Final = "ECS_BG_SNS_TOPIC_ARN"

STAGE_OUTCOMES: Final = {
    Stage.PRE_SCALE_UP: "deployment starting",
    Stage.POST_PRODUCTION_TRAFFIC_SHIFT: "production traffic on green",
}

_SSM_ARN: Final = re.compile(r"^arn:aws[a-z-]*:ssm:(?P<region>[a-z0-9-]+):\d+:parameter/.+$")
_SECRET_ARN: Final = re.compile(r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):\d+:secret:.+$")
_TOPIC_ARN: Final = re.compile(r"^arn:aws[a-z-]*:sns:(?P<region>[a-z0-9-]+):\d+:[A-Za-z0-9_.-]+$")
# Webhooks are https; plain http only to this machine (the simulator, tests).
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})
# A repeated message beats a lost one: retry what the endpoints answer when they are busy or down.
_RETRY_STATUSES: Final = (429, 500, 502, 503, 504)
_MAX_SNS_SUBJECT: Final = 100


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
        if self.sns_topic_arn is not None and not _TOPIC_ARN.match(self.sns_topic_arn):
            raise ValueError(f"snsTopicArn must be an SNS topic ARN, got {self.sns_topic_arn!r}")


@dataclass(frozen=True)
class Message:
    """One notification, whatever the channel renders it as."""

    title: str
    facts: tuple[tuple[str, str], ...]
    detail: str
    link: str

    def text(self) -> str:
        lines = [self.title, *(f"{name}: {value}" for name, value in self.facts)]
        return "\n".join([*lines, *([self.detail] if self.detail else []), self.link])


def run(ctx: HookContext, settings: Settings) -> Verdict:
    stage = ctx.event.stage
    return send(ctx, settings, outcome=STAGE_OUTCOMES.get(stage, f"{stage.value} passed"))


def send(ctx: HookContext, settings: Settings, outcome: str, detail: str = "") -> Verdict:
    """Send one message to every configured channel; FAILED only if one failed and ``required``."""
    channels: dict[str, Callable[[Message], None]] = {}
    for name, reference, render in (
        ("slack", settings.slack, _slack_payload),
        ("teams", settings.teams, _teams_payload),
    ):
        if reference:
            channels[name] = functools.partial(_post, ctx, settings, reference, render)
    if settings.sns_topic_arn:
        channels["sns"] = functools.partial(_publish, settings.sns_topic_arn)
    if not channels:
        return Verdict.passed("no notification channels configured")

    message = _message(ctx, outcome, detail)
    failures: dict[str, str] = {}
    with _transport_logs_muted():
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


class Undelivered(Exception):
    """A channel did not take the message; the text never holds the webhook URL."""


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


def _slack_payload(message: Message) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` for notifications, ``blocks`` for the channel."""

    def escape(text: str) -> str:  # Slack mrkdwn control characters
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{escape(value)}"} for name, value in message.facts
            ],
        },
    ]
    if message.detail:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": escape(message.detail)[:3000]}})
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open in the ECS console"},
                    "url": message.link,
                }
            ],
        }
    )
    return {"text": message.title, "blocks": blocks}


def _teams_payload(message: Message) -> dict[str, Any]:
    """What a Teams workflow ("When a Teams webhook request is received") posts: an Adaptive Card."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in message.facts]},
    ]
    if message.detail:
        body.append({"type": "TextBlock", "text": message.detail, "wrap": True})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Open in the ECS console", "url": message.link}],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def _publish(topic_arn: str, message: Message) -> None:
    region = _region(_TOPIC_ARN, topic_arn, "")
    # SNS subjects: ASCII, no line breaks, at most 100 characters.
    subject = message.title.encode("ascii", "replace").decode()[:_MAX_SNS_SUBJECT]
    call("sns", region, "Publish", TopicArn=topic_arn, Subject=subject, Message=message.text())


def _post(
    ctx: HookContext,
    settings: Settings,
    reference: str,
    render: Callable[[Message], dict[str, Any]],
    message: Message,
) -> None:
    import urllib3  # here, not at module level: only hooks that post pay for it

    url = _webhook_url(reference, ctx.event.deployment.region)
    retries = urllib3.Retry(
        total=2,
        backoff_factor=0.2,
        status_forcelist=_RETRY_STATUSES,
        allowed_methods=None,  # POST included
        raise_on_status=False,
        respect_retry_after_header=False,  # a long Retry-After would outlast the function
    )
    pool = urllib3.PoolManager(retries=retries, timeout=urllib3.Timeout(total=settings.timeout_seconds))
    try:
        response = pool.request(
            "POST",
            url,
            body=json.dumps(render(message)).encode(),
            headers={"Content-Type": "application/json"},
        )
    except urllib3.exceptions.HTTPError as error:
        # The exception's text holds the URL; its type is enough to act on.
        cause = getattr(error, "reason", None) or error
        raise Undelivered(f"webhook unreachable: {type(cause).__name__}") from None
    finally:
        pool.clear()
    if not 200 <= response.status < 300:
        answer = " ".join(response.data.decode(errors="replace").split())[:120]
        raise Undelivered(f"webhook answered HTTP {response.status}" + (f": {answer}" if answer else ""))


def _webhook_url(reference: str, default_region: str) -> str:
    """The URL held by a Secrets Manager secret or SSM parameter: raw, or JSON {"url": ...}."""
    if reference.startswith("/") or _SSM_ARN.match(reference):
        source = f"SSM parameter {reference}"
        region = _region(_SSM_ARN, reference, default_region)
        value = call("ssm", region, "GetParameter", Name=reference, WithDecryption=True)["Parameter"]["Value"]
    else:
        source = f"secret {reference}"
        region = _region(_SECRET_ARN, reference, default_region)
        value = call("secretsmanager", region, "GetSecretValue", SecretId=reference).get("SecretString") or ""
    url = str(value).strip()
    if url.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            url = str(json.loads(url).get("url", "")).strip()
    parts = urlsplit(url)
    if not parts.hostname or not (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    ):
        raise Undelivered(
            f'{source} does not hold an https webhook URL (the URL, or JSON {{"url": "https://…"}})'
        )
    return url


def _region(pattern: re.Pattern[str], arn: str, default: str) -> str:
    match = pattern.match(arn)
    return match["region"] if match else default


@contextlib.contextmanager
def _transport_logs_muted() -> Iterator[None]:
    """botocore logs response bodies (a secret's value) and urllib3 request paths (a webhook's
    secret part) at DEBUG, and urllib3 warns with the path on retries: keep both out of the logs
    while a webhook URL is in play, whatever level the function logs at."""
    loggers = [logging.getLogger(name) for name in ("botocore", "urllib3")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
