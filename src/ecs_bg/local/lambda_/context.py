"""The context object Lambda hands a handler, for running hooks on this machine."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LocalLambdaContext:
    """What a handler sees of Lambda: names, memory, request id, and a deadline that runs out."""

    function_name: str
    timeout_seconds: float = 300.0
    memory_limit_in_mb: int = 256
    region: str = "us-west-2"
    account: str = "123456789012"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_stream_name: str = ""
    monotonic: Callable[[], float] = time.monotonic
    # When the invocation times out, in Unix milliseconds, as Lambda's runtime API hands it over
    # (Lambda-Runtime-Deadline-Ms, "Using the Lambda runtime API for custom runtimes", Lambda developer
    # guide): it counts from the call, so a worker that takes the request late has that much less.
    # None: ``timeout_seconds`` from now.
    deadline_ms: int | None = None
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.monotonic()
        if self.deadline_ms is not None:  # the deadline, in this clock
            self.started += self.deadline_ms / 1000 - time.time() - self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout_seconds - self.monotonic()) * 1000))
