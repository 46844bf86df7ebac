"""Running the checks a hook's hookDetails enable: one verdict log line each, ``dryRun`` honoured.

A check's verdict is what it returns, or a ``CheckFailed``, ``AwsCallFailed`` or ``NotFound`` it
raises; ``dryRun`` turns a failing verdict into a warning. Any other exception is a bug in the
check, not a verdict: it escapes to the handler, which logs it as a bug and answers FAILED, with or
without ``dryRun``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecs_bg.hooks.checks import check_module, is_enabled, known_checks, parse_settings
from ecs_bg.hooks.errors import AwsCallFailed, CheckFailed, NotFound
from ecs_bg.hooks.log import redact
from ecs_bg.hooks.result import Verdict, VerdictStatus

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext

# What a check raises to give its verdict; anything else it raises is a bug.
VERDICT_ERRORS = (CheckFailed, AwsCallFailed, NotFound)


def run_checks(ctx: HookContext, *names: str) -> list[Verdict]:
    """Run the named checks that hookDetails enables, in order; CheckFailed on the first failure.

    A check with ``dryRun`` logs what it would have decided and never fails.
    """
    known = known_checks()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; known: {sorted(known)}")
    planned = [
        (name, parse_settings(name, ctx.details[name])) for name in names if is_enabled(ctx.details.get(name))
    ]
    verdicts = []
    for name, settings in planned:
        try:
            verdict: Verdict = check_module(name).run(ctx, settings)
        except VERDICT_ERRORS as failure:
            verdict = Verdict.failed(failure.reason)
        ctx.logger.info(
            "check verdict",
            extra={
                "check": name,
                "verdict": verdict.status.value,
                "why": redact(verdict.reason),
                "dryRun": settings.dry_run,
                **verdict.data,
            },
        )
        if verdict.status is not VerdictStatus.PASSED:
            reason = (
                verdict.reason
                if verdict.status is VerdictStatus.FAILED
                else f"inconclusive: {verdict.reason}"
            )
            if not settings.dry_run:
                raise CheckFailed(name, reason)
            ctx.logger.warning("dryRun: the check would have failed the deployment", extra={"check": name})
        ctx.passed.append(f"{name}: {verdict.reason}")
        verdicts.append(verdict)
    return verdicts
