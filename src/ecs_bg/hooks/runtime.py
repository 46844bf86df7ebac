"""Turn stage functions into a Lambda handler that always answers ECS within the contract.

The handler validates the event, dispatches on ``lifecycleStage``, turns every exception into
FAILED (ECS would roll back on an exception anyway, but with no reason in the logs), keeps
rollbacks fast, and lets a stage wait for a condition inside the invocation: it polls until
shortly before the function's deadline, then answers IN_PROGRESS with the wait's state beside the
hook's whole hookDetails, so the next invocation resumes where this one stopped.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any, Final, Protocol, TypeVar

from ecs_bg.hooks.aws import AwsCallFailed
from ecs_bg.hooks.checks import CHECKS, check_module, is_enabled, parse_settings, validate_hook_details
from ecs_bg.hooks.config import (
    MAX_HOOK_DETAILS_BYTES,
    STATE_BUDGET_BYTES,
    STATE_KEY,
    ConfigError,
    json_size,
    layered_details,
    merge,
    parse_config,
)
from ecs_bg.hooks.event import EventError, HookEvent, Stage, parse_event
from ecs_bg.hooks.log import INVOCATION_KEYS, hook_logger, redact
from ecs_bg.hooks.result import (
    CheckFailed,
    HookResult,
    HookStatus,
    Verdict,
    VerdictStatus,
)

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

T = TypeVar("T")

LAMBDA_MAX_SECONDS: Final = 900.0  # assumed deadline when the caller gives no Lambda context
# Time kept back before the deadline to build the answer and return it.
DEADLINE_MARGIN_SECONDS: Final = 2.0


class LambdaContext(Protocol):
    """The part of the Lambda context object the runtime uses."""

    function_name: str
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int: ...


class Clock(Protocol):
    def time(self) -> float: ...  # wall clock: wait state outlives the invocation

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _StillWaiting(Exception):
    def __init__(self, wait: str, reason: str, callback_delay: int) -> None:
        super().__init__(reason)
        self.wait = wait
        self.reason = reason
        self.callback_delay = callback_delay


@dataclass
class HookContext:
    """What a stage function gets: the event, its settings, the deadline and a way to wait."""

    event: HookEvent
    details: dict[str, Any]
    logger: Logger
    clock: Clock
    deadline: float  # on clock.monotonic()
    state: dict[str, Any] = field(default_factory=dict)
    # What the checks that ran found: the reason a SUCCEEDED decision gives.
    passed: list[str] = field(default_factory=list)

    def remaining_seconds(self) -> float:
        return self.deadline - self.clock.monotonic()

    def settings(self, cls: type[T], key: str) -> T:
        """The typed settings of ``key`` in hookDetails ({} when absent: every field defaulted)."""
        return parse_config(cls, self.details.get(key, {}), key)

    def run_checks(self, *names: str) -> list[Verdict]:
        """Run the named checks that hookDetails enables, in order; CheckFailed on the first failure.

        A check with ``dryRun`` logs what it would have decided and never fails.
        """
        unknown = [name for name in names if name not in CHECKS]
        if unknown:
            raise ValueError(f"unknown check(s) {unknown}; known: {sorted(CHECKS)}")
        planned = [
            (name, parse_settings(name, self.details[name]))
            for name in names
            if is_enabled(self.details.get(name))
        ]
        verdicts = []
        for name, settings in planned:
            try:
                verdict: Verdict = check_module(name).run(self, settings)
            except (CheckFailed, AwsCallFailed, LookupError) as failure:  # dryRun still applies to these
                verdict = Verdict.failed(getattr(failure, "reason", None) or str(failure))
            self.logger.info(
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
                self.logger.warning(
                    "dryRun: the check would have failed the deployment", extra={"check": name}
                )
            self.passed.append(f"{name}: {verdict.reason}")
            verdicts.append(verdict)
        return verdicts

    def waited(self, name: str) -> float:
        """Seconds since the wait ``name`` first started, in whichever invocation (0 if it has not)."""
        record = self.state.get("waits", {}).get(name)
        return self.clock.time() - float(record["startedAt"]) if record else 0.0

    def wait_until(
        self,
        name: str,
        probe: Callable[[], Verdict],
        *,
        interval: float = 5.0,
        timeout: float = 900.0,
        callback_delay: int | None = None,
    ) -> Verdict:
        """Poll ``probe`` every ``interval`` seconds until it passes, across invocations.

        PASSED returns the verdict; FAILED, or still PENDING ``timeout`` seconds after the wait
        first started (in whichever invocation), raises CheckFailed. When the next poll would not
        finish before the deadline, the invocation ends with IN_PROGRESS and ECS calls back after
        ``callback_delay`` seconds (default: ``interval``), resuming this wait.
        """
        waits: dict[str, Any] = self.state.setdefault("waits", {})
        record: dict[str, Any] = waits.setdefault(name, {"startedAt": self.clock.time(), "polls": 0})
        if record.get("passed"):
            return Verdict.passed(f"{name} passed in an earlier invocation")
        while True:
            began = self.clock.monotonic()
            verdict = probe()
            took = self.clock.monotonic() - began
            record["polls"] = record.get("polls", 0) + 1
            waited = self.waited(name)
            self.logger.debug(
                "wait poll",
                extra={
                    "wait": name,
                    "verdict": verdict.status.value,
                    "why": verdict.reason,
                    "waitedSeconds": waited,
                },
            )
            if verdict.status is VerdictStatus.PASSED:
                record["passed"] = True
                self.logger.info(
                    "wait over",
                    extra={"wait": name, "waitedSeconds": round(waited, 3), "polls": record["polls"]},
                )
                return verdict
            if verdict.status is VerdictStatus.FAILED:
                raise CheckFailed(name, verdict.reason)
            if waited >= timeout:
                raise CheckFailed(name, f"still not met after {timeout:g}s: {verdict.reason}")
            pause = min(interval, timeout - waited)
            if self.remaining_seconds() - DEADLINE_MARGIN_SECONDS - took < pause:
                delay = callback_delay if callback_delay is not None else max(1, round(interval))
                raise _StillWaiting(name, verdict.reason, delay)
            self.clock.sleep(pause)


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
        except Exception as error:  # the runtime's own last line of defence  # noqa: BLE001
            result = HookResult.failed(f"internal error in the hook runtime: {_describe(error)}")
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
        except _StillWaiting as waiting:
            return HookResult.in_progress(
                f"waiting for {waiting.wait}: {waiting.reason}", callback_delay=waiting.callback_delay
            )
        except CheckFailed as failure:
            return HookResult.failed(str(failure))
        except ConfigError as error:
            self.logger.error("invalid hookDetails", extra={"field": error.path, "why": error.reason})
            return HookResult.failed(str(error))
        except Exception as error:  # noqa: BLE001 - a hook never lets an exception escape
            self.logger.error("stage function raised", extra={"function": function.__name__, **_where(error)})
            return HookResult.failed(f"{function.__name__} raised {_describe(error)}")

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
            ctx.logger.warning("failure notification not sent", extra={"why": _describe(error)})


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


def _describe(error: BaseException) -> str:
    return redact(f"{type(error).__name__}: {error}")


def _where(error: BaseException) -> dict[str, Any]:
    """Type, redacted message and the innermost frame: enough to debug, no locals, no secrets."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    location = f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame is not None else "?"
    return {"error": type(error).__name__, "why": redact(str(error)), "at": location}
