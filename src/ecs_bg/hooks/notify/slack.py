"""A message as a Slack incoming webhook takes it."""

from __future__ import annotations

from typing import Any, Final

from ecs_bg.hooks.notify.message import Message

# Slack's limits: header text 150 characters, section text 3000.
_MAX_HEADER: Final = 150
_MAX_SECTION: Final = 3000


def payload(message: Message) -> dict[str, Any]:
    """``text`` for notifications, ``blocks`` for the channel."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:_MAX_HEADER]}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{_escape(value)}"} for name, value in message.facts
            ],
        },
    ]
    if message.detail:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _escape(message.detail)[:_MAX_SECTION]}}
        )
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


def _escape(text: str) -> str:
    """Slack mrkdwn's control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
