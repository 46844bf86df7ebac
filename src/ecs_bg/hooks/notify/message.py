"""What a notification says, whatever channel renders it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    """One notification: a title, name-value facts, an optional detail and a console link."""

    title: str
    facts: tuple[tuple[str, str], ...]
    detail: str
    link: str

    def text(self) -> str:
        lines = [self.title, *(f"{name}: {value}" for name, value in self.facts)]
        return "\n".join([*lines, *([self.detail] if self.detail else []), self.link])


class Undelivered(Exception):
    """A channel did not take the message; the text never holds the webhook URL."""
