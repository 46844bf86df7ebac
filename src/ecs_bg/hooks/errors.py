"""The hook library's errors: one base class, one subclass per kind of problem.

``HookError`` is what the library raises on purpose; anything else escaping a check or a stage
function is a bug, logged as one, and answers FAILED whatever ``dryRun`` says. The check runner
reads ``CheckFailed``, ``AwsCallFailed`` and ``NotFound`` as verdicts (``dryRun`` applies).
"""

from __future__ import annotations


class HookError(Exception):
    """Base class of every error the hook library raises on purpose."""


class ConfigError(HookError, ValueError):
    """A setting is wrong; ``path`` is where it sits in hookDetails (e.g. smokeTest.timeoutSeconds)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"hookDetails.{path}: {reason}")
        self.path = path
        self.reason = reason


class EventError(HookError, ValueError):
    """The event is not one ECS would send; ``field`` names the offending part."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class CheckFailed(HookError):
    """A check decided the deployment must not go on; the hook answers FAILED with this reason."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason


class AwsCallFailed(HookError):
    """An AWS API call failed; ``reason`` says what and why, ``code`` is AWS's error code."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class NotFound(HookError, LookupError):
    """An AWS resource or a piece of its data the hook looked up is not there.

    A ``LookupError`` for callers that catch those; the check runner reads only this one as a
    verdict, never a ``KeyError`` or ``IndexError``, which are bugs.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
