"""An API error as AWS returns it: a code, a message and an HTTP status (400 unless the service says
otherwise). Each local service names its own (``ecs.errors``); the endpoint answers any of them in
the protocol the request came in."""

from __future__ import annotations


class AwsError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
