"""Turn stage functions into a Lambda handler that always answers ECS within the contract.

The handler validates the event, dispatches on ``lifecycleStage``, turns every exception into
FAILED (ECS would roll back on an exception anyway, but with no reason in the logs), keeps
rollbacks fast, answers IN_PROGRESS with the wait's state beside the hook's whole hookDetails when
a stage function is still waiting (see waiting.py), and logs one "hook decision" line per
invocation.
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import IO, Any, Final, Protocol

from ecs_bg.hooks.checks import is_enabled, known_checks, parse_settings, prepare, validate_hook_details
from ecs_bg.hooks.config import (
    MAX_HOOK_DETAILS_BYTES,
    STATE_BUDGET_BYTES,
    STATE_KEY,
    json_size,
    layered_details,
    merge,
)
from ecs_bg.hooks.context import HookContext
from ecs_bg.hooks.errors import CheckFailed, ConfigError, EventError
from ecs_bg.hooks.event import Stage, parse_event
from ecs_bg.hooks.log import INVOCATION_KEYS, error_fields, error_summary, hook_logger, redact
from ecs_bg.hooks.result import HookResult, HookStatus
from ecs_bg.hooks.waiting import Clock, StillWaiting, SystemClock

LAMBDA_MAX_SECONDS: Final = 900.0  # assumed deadline when the caller gives no Lambda context
# AWS_LAMBDA_INITIALIZATION_TYPE values for an init that Lambda runs before, not on, an invocation
# (Lambda developer guide, "Defined runtime environment variables",
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
INIT_AHEAD: Final = frozenset({"provisioned-concurrency", "snap-start"})


class LambdaContext(Protocol):
    """The part of the Lambda context object the handler uses."""

    function_name: str
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int: ...


StageFunction = Callable[[HookContext], HookResult | None]


class LifecycleHook:
    """One hook function: stage functions registered per stage, exposed as ``handler``.

    ``defaults`` is the entry file's hookDetails (see config.layered_details); ``custom_keys``
    names hookDetails keys the stage functions read themselves, beside the checks'. At
    TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT during a rollback the hook answers SUCCEEDED
    at once (nothing to check while ECS restores the previous revision) unless ``run_on_rollback``
    or hookDetails ``runOnRollback: true`` asks for the stage function to run.
    """

    def __init__(
        self,
        name: str,
        *,
        defaults: Mapping[str, Any] | None = None,
        run_on_rollback: bool = False,
        custom_keys: Iterable[str] = (),
        clock: Clock | None = None,
        log_stream: IO[str] | None = None,
    ) -> None:
        self.name = name
        self.custom_keys = frozenset(custom_keys)
        self.defaults = dict(defaults or {})
        self.run_on_rollback = run_on_rollback
        self.clock: Clock = clock or SystemClock()
        self.logger = hook_logger(name, log_stream)
        self._stages: dict[Stage, StageFunction] = {}
        if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in INIT_AHEAD:
            self._prepare_checks()

    def _prepare_checks(self) -> None:
        """This init runs ahead of the first invocation (provisioned concurrency, SnapStart): do here
        what the enabled checks' first run would do first, so that invocation is quick. On demand,
        init and invocation are one wait for ECS, and a hook that never calls AWS never loads boto3."""
        try:
            details = layered_details(self.defaults, {})
            for check in sorted(known_checks() & details.keys()):
                if is_enabled(details[check]):
                    prepare(check)
        except Exception as error:  # noqa: BLE001 - the first invocation does it again and says what failed
            with contextlib.suppress(Exception):
                self.logger.warning("checks not prepared at init", extra={"error": error_summary(error)})

    @property
    def stages(self) -> frozenset[Stage]:
        return frozenset(self._stages)

    def stage(self, *stages: Stage) -> Callable[[StageFunction], StageFunction]:
        """Register the decorated function for ``stages``."""

        def register(function: StageFunction) -> StageFunction:
            for stage in stages:
                if stage in self._stages:
                    raise ValueError(
                        f"{self.name}: {stage} already handled by {self._stages[stage].__name__}"
                    )
                self._stages[Stage(stage)] = function
            return function

        return register

    def handler(self, event: object, context: LambdaContext | None = None) -> dict[str, Any]:
        """The Lambda entry point: never raises, always returns a response ECS accepts."""
        started = self.clock.monotonic()
        try:
            self.logger.remove_keys(list(INVOCATION_KEYS))
            self.logger.append_keys(hook=self.name)
            result = self._invoke(event, context, started)
        # The runtime's own last line of defence. A wait is answered IN_PROGRESS only where its state
        # is carried over (_run_stage); one that gets this far was started outside a stage function.
        except (Exception, StillWaiting) as error:  # noqa: BLE001
            result = HookResult.failed(f"internal error in the hook runtime: {error_summary(error)}")
        response = result.to_response()
        # A broken log handler must not change the answer.
        with contextlib.suppress(Exception):
            self.logger.info(
                "hook decision",
                extra={
                    "hookStatus": response["hookStatus"],
                    "reason": redact(result.reason),
                    "callBackDelay": response.get("callBackDelay"),
                    "durationMs": round((self.clock.monotonic() - started) * 1000, 1),
                },
            )
        return response

    def _invoke(self, raw: object, context: LambdaContext | None, started: float) -> HookResult:
        try:
            event = parse_event(raw)
        except EventError as error:
            self.logger.error("invalid event", extra={"field": error.field, "why": error.reason})
            return HookResult.failed(f"invalid event: {error}")
        self.logger.append_keys(**event.log_keys())

        if event.is_rollback and not (
            self.run_on_rollback or event.hook_details.get("runOnRollback") is True
        ):
            return HookResult.succeeded("rollback in progress: ECS is restoring the previous revision")
        function = self._stages.get(event.stage)
        if function is None:
            handled = ", ".join(sorted(self._stages)) or "none"
            return HookResult.failed(
                f"{self.name} has no function for {event.stage} (it handles: {handled}); "
                "remove the stage from this hook's lifecycleStages or register a function for it"
            )

        try:
            details = layered_details(self.defaults, event.hook_details)
            state = details.get(STATE_KEY) or {}
            if not isinstance(state, Mapping):
                raise ConfigError(STATE_KEY, "runtime state must be an object; do not set it by hand")
            problems = validate_hook_details(details, self.custom_keys)
            for problem in problems:
                self.logger.error("invalid hookDetails", extra={"field": problem.path, "why": problem.reason})
            if problems:
                return HookResult.failed("; ".join(map(str, problems)))
        except ConfigError as error:
            self.logger.error("invalid hookDetails", extra={"field": error.path, "why": error.reason})
            return HookResult.failed(str(error))

        remaining = (
            context.get_remaining_time_in_millis() / 1000 if context is not None else LAMBDA_MAX_SECONDS
        )
        ctx = HookContext(
            event=event,
            details=details,
            logger=self.logger,
            clock=self.clock,
            deadline=started + remaining,
            state=copy.deepcopy(dict(state)),
        )
        result = self._run_stage(function, ctx)
        if result.status is HookStatus.IN_PROGRESS:
            result = _carry_over(ctx, result)
        if result.status is HookStatus.FAILED:
            self._announce_failure(ctx, result.reason)
        return result

    def _run_stage(self, function: StageFunction, ctx: HookContext) -> HookResult:
        try:
            outcome = function(ctx)
        except StillWaiting as waiting:  # a BaseException: no except Exception can swallow it
            return HookResult.in_progress(
                f"waiting for {waiting.wait}: {waiting.reason}", callback_delay=waiting.callback_delay
            )
        except CheckFailed as failure:
            return HookResult.failed(str(failure))
        except ConfigError as error:
            self.logger.error("invalid hookDetails", extra={"field": error.path, "why": error.reason})
            return HookResult.failed(str(error))
        except Exception as error:  # noqa: BLE001 - a bug (here or in a check), never a verdict
            self.logger.error(
                "stage function raised", extra={"function": function.__name__, **error_fields(error)}
            )
            return HookResult.failed(f"{function.__name__} raised {error_summary(error)}")

        if outcome is None:
            return HookResult.succeeded("; ".join(ctx.passed))
        if not isinstance(outcome, HookResult):
            returned = type(outcome).__name__
            return HookResult.failed(f"{function.__name__} returned {returned}, not a HookResult")
        return outcome

    def _announce_failure(self, ctx: HookContext, reason: str) -> None:
        """Tell the hook's notification channels that it is rolling the deployment back (best effort)."""
        raw = ctx.details.get("notify")
        if not is_enabled(raw) or reason.startswith("notify:"):
            return
        from ecs_bg.hooks import notify

        try:
            settings = parse_settings("notify", raw)
            assert isinstance(settings, notify.Settings)
            notify.send(ctx, settings, f"{ctx.event.stage} FAILED: rolling back", detail=reason)
        except Exception as error:  # noqa: BLE001 - the FAILED answer stands whatever the notifier does
            ctx.logger.warning("failure notification not sent", extra={"why": error_summary(error)})


def _carry_over(ctx: HookContext, result: HookResult) -> HookResult:
    """The IN_PROGRESS answer with everything the next invocation needs in its hookDetails.

    ECS's docs ("Lifecycle hooks for Amazon ECS service deployments") say returned hookDetails are
    merged into the next invocation's; AWS's own sample had to re-send its configured keys with
    IN_PROGRESS (aws-samples/sample-amazon-ecs-blue-green-deployment-patterns PR #10, commit
    33363a6), so ECS may replace them instead. The answer is what this invocation received (the
    configured keys, and what earlier answers added), deep-merged with the stage function's own
    keys, plus the runtime state. Everything received is re-sent and the state only grows, so the
    next invocation sees the same hookDetails whether ECS replaces, merges shallowly or merges deeply.
    """
    details = merge(ctx.event.hook_details, result.hook_details)
    details.pop(STATE_KEY, None)  # the runtime's alone: ctx.state started from the received one
    state_size = json_size(ctx.state)
    if state_size > STATE_BUDGET_BYTES:
        return HookResult.failed(
            f"the runtime state is {state_size} bytes, over its {STATE_BUDGET_BYTES}-byte budget "
            "(too many waits in one hook?)"
        )
    if ctx.state:
        details[STATE_KEY] = ctx.state
    size = json_size(details)
    if size > MAX_HOOK_DETAILS_BYTES:
        return HookResult.failed(
            f"the IN_PROGRESS hookDetails would be {size} bytes, over the {MAX_HOOK_DETAILS_BYTES}-byte "
            "limit: return less from the stage function"
        )
    return replace(result, hook_details=details)
