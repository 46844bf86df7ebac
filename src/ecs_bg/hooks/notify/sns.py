"""Publishing a message to an SNS topic."""

from __future__ import annotations

import re
from typing import Final

from ecs_bg.hooks.aws import call
from ecs_bg.hooks.notify.message import Message

TOPIC_ARN: Final = re.compile(r"^arn:aws[a-z-]*:sns:(?P<region>[a-z0-9-]+):\d+:[A-Za-z0-9_.-]+$")
# SNS subjects: ASCII, no line breaks, at most 100 characters.
_MAX_SUBJECT: Final = 100


def publish(topic_arn: str, message: Message) -> None:
    """Publish in the topic's own region; ``AwsCallFailed`` when SNS refuses."""
    match = TOPIC_ARN.match(topic_arn)
    region = match["region"] if match else ""
    subject = message.title.encode("ascii", "replace").decode()[:_MAX_SUBJECT]
    call("sns", region, "Publish", TopicArn=topic_arn, Subject=subject, Message=message.text())
