"""approval: wait until someone approves green, by writing to an SSM parameter or an S3 object.

A manual gate that, unlike a PAUSE hook, works at any stage, has its own deadline and needs no
ContinueServiceDeployment call: write ``approved`` (or ``rejected``) to the parameter or object
named after the revision, e.g. ``aws ssm put-parameter --name /ecs-bg/prod/approvals/web/93134…
--value approved --type String``. The first deployment of a service passes at once: there is no
running revision to protect yet.
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from ecs_bg.hooks.aws import AwsCallFailed, call
from ecs_bg.hooks.config import CheckSettings, bounded
from ecs_bg.hooks.deployment import is_first_deployment
from ecs_bg.hooks.result import Verdict

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext
    from ecs_bg.hooks.event import HookEvent

ENV_VAR: Final = "ECS_BG_ENV"
DEFAULT_PARAMETER_NAME: Final = "/ecs-bg/{env}/approvals/{service}/{revision}"
PLACEHOLDERS: Final = ("env", "cluster", "service", "revision", "deploymentId")
# How SSM and S3 say "nothing there yet" (S3 answers 403 instead without s3:ListBucket).
_ABSENT: Final = frozenset({"ParameterNotFound", "NoSuchKey", "404", "NotFound"})
_MAX_VALUE_BYTES: Final = 1024  # a decision is one word; never read a large object whole


@dataclass(frozen=True, kw_only=True)
class Settings(CheckSettings):
    parameter_name: str | None = None  # default DEFAULT_PARAMETER_NAME, when s3Uri is not set either
    s3_uri: str | None = None
    timeout_seconds: float = field(default=3600.0, metadata=bounded(1, 86_400))  # a stage lasts ≤ 24 h
    interval_seconds: float = field(default=10.0, metadata=bounded(1, 3600))

    def __post_init__(self) -> None:
        if self.parameter_name is not None and self.s3_uri is not None:
            raise ValueError("set parameterName or s3Uri, not both")
        if self.s3_uri is not None:
            bucket, _, key = self.s3_uri.removeprefix("s3://").partition("/")
            if not self.s3_uri.startswith("s3://") or not bucket or not key:
                raise ValueError(f"s3Uri must name a bucket and a key (s3://BUCKET/KEY), got {self.s3_uri!r}")
        for setting, template in (("parameterName", self.parameter_name), ("s3Uri", self.s3_uri)):
            if template is not None:
                _check_placeholders(setting, template)

    def source(self, event: HookEvent) -> tuple[str, Callable[[], str | None]]:
        """Where the decision is written, for people, and a function reading it (None: nothing yet)."""
        values = {
            "env": os.environ.get(ENV_VAR) or "dev",
            "cluster": event.cluster,
            "service": event.service,
            "revision": event.green_revision_arn.rsplit("/", 1)[-1],
            "deploymentId": event.deployment.deployment_id,
        }
        region = event.deployment.region
        if self.s3_uri is not None:
            bucket, _, key = self.s3_uri.format_map(values).removeprefix("s3://").partition("/")
            # Not as an s3:// URI: the logs cut every URI down to its host.
            return f"S3 object {key} in bucket {bucket}", lambda: _read_object(region, bucket, key)
        name = (self.parameter_name or DEFAULT_PARAMETER_NAME).format_map(values)
        return f"SSM parameter {name}", lambda: _read_parameter(region, name)


def run(ctx: HookContext, settings: Settings) -> Verdict:
    if is_first_deployment(ctx.event):
        return Verdict.passed("first deployment of the service: no running revision to protect")
    where, read = settings.source(ctx.event)
    warned: set[str] = set()

    def probe() -> Verdict:
        value = read()
        if value is None:
            return Verdict.pending(f"no decision yet: write 'approved' or 'rejected' to {where}")
        decision = value.strip().casefold()
        if decision == "approved":
            return Verdict.passed(f"approved in {where}")
        if decision == "rejected":
            return Verdict.failed(f"rejected in {where}")
        shown = value.strip()[:40]
        if shown not in warned:  # once per value, not once per poll
            warned.add(shown)
            ctx.logger.warning("approval value not understood", extra={"where": where, "value": shown})
        return Verdict.pending(f"{where} holds {shown!r}, neither 'approved' nor 'rejected'")

    return ctx.wait_until(
        "approval", probe, interval=settings.interval_seconds, timeout=settings.timeout_seconds
    )


def _check_placeholders(setting: str, template: str) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as error:  # an unmatched brace
        raise ValueError(f"{setting}: {error}") from None
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise ValueError(f"{setting}: unknown placeholder {{{unknown[0]}}}; known: {known}")


def _read_parameter(region: str, name: str) -> str | None:
    try:
        return str(call("ssm", region, "GetParameter", Name=name)["Parameter"]["Value"])
    except AwsCallFailed as error:
        if error.code in _ABSENT:
            return None
        raise


def _read_object(region: str, bucket: str, key: str) -> str | None:
    try:
        body = call("s3", region, "GetObject", Bucket=bucket, Key=key)["Body"]
    except AwsCallFailed as error:
        if error.code in _ABSENT:
            return None
        raise
    try:
        return bytes(body.read(_MAX_VALUE_BYTES)).decode(errors="replace")
    finally:
        body.close()
