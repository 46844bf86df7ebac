"""A message as a Microsoft Teams workflow ("When a Teams webhook request is received") takes it."""

from __future__ import annotations

from typing import Any

from ecs_bg.hooks.notify.message import Message


def payload(message: Message) -> dict[str, Any]:
    """An Adaptive Card in a message attachment."""
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
