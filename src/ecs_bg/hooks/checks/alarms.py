"""alarmGate: none of the gate's CloudWatch alarms is in ALARM, at once or for a watch window.

The alarms are named (``alarmNames``), found by ``alarmNamePrefix``, or default to the stack's
gate alarms (``ECS_BG_ALARM_NAMES``). A named alarm that does not exist fails the gate: a typo
must not turn a gate into a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ecs_bg.hooks import aws
from ecs_bg.hooks.aws import pages
from ecs_bg.hooks.config import CheckSettings, bounded
from ecs_bg.hooks.result import Verdict

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext

ALARM_NAMES_ENV: Final = "ECS_BG_ALARM_NAMES"


@dataclass(frozen=True, kw_only=True)
class Settings(CheckSettings):
    alarm_names: tuple[str, ...] = ()
    alarm_name_prefix: str | None = None
    watch_seconds: float = field(default=0, metadata=bounded(0, 86_400))  # 0: one look
    interval_seconds: float = field(default=10, metadata=bounded(1, 300))
    fail_on_insufficient_data: bool = False  # a quiet green has no datapoints: not a failure by default

    def __post_init__(self) -> None:
        if self.alarm_names and self.alarm_name_prefix:
            raise ValueError("set alarmNames or alarmNamePrefix, not both")
        if len(self.alarm_names) > 100:
            raise ValueError("alarmNames takes at most 100 names (DescribeAlarms' limit)")
        # DescribeAlarms takes names and a prefix of 1 to 255 characters (the CloudWatch API reference);
        # botocore refuses any other before the call, so the gate would fail at every look.
        for setting, name in [
            *(("alarmNames", n) for n in self.alarm_names),
            ("alarmNamePrefix", self.alarm_name_prefix),
        ]:
            if name is not None and not 1 <= len(name) <= 255:
                raise ValueError(f"{setting}: {name[:60]!r} must be 1 to 255 characters, not {len(name)}")


def prepare() -> None:
    aws.prepare("cloudwatch")


def run(ctx: HookContext, settings: Settings) -> Verdict:
    names = list(settings.alarm_names)
    if not names and settings.alarm_name_prefix is None:
        names = [name.strip() for name in os.environ.get(ALARM_NAMES_ENV, "").split(",") if name.strip()]
        if not names:
            return Verdict.failed(
                f"no alarms to watch: set alarmGate.alarmNames or alarmNamePrefix, or {ALARM_NAMES_ENV}"
            )
    query: dict[str, Any] = (
        {"AlarmNames": names} if names else {"AlarmNamePrefix": settings.alarm_name_prefix}
    )

    def probe() -> Verdict:
        alarms = describe(ctx.event.deployment.region, query)
        missing = sorted(set(names) - {alarm["AlarmName"] for alarm in alarms})
        if missing or not alarms:
            return Verdict.failed(
                f"alarm(s) not found: {', '.join(missing) or f'none named {settings.alarm_name_prefix}*'}"
            )
        bad_states = {"ALARM", "INSUFFICIENT_DATA"} if settings.fail_on_insufficient_data else {"ALARM"}
        firing = [alarm for alarm in alarms if alarm["StateValue"] in bad_states]
        if firing:
            first = firing[0]
            return Verdict.failed(
                f"{first['AlarmName']} is {first['StateValue']}: {first.get('StateReason', '')}".rstrip(": "),
                firing=[alarm["AlarmName"] for alarm in firing],
            )
        watched = ctx.waited("alarmGate")
        what = f"{len(alarms)} alarm(s) not in ALARM"
        if watched >= settings.watch_seconds:
            span = f" for {settings.watch_seconds:g}s" if settings.watch_seconds else ""
            return Verdict.passed(f"{what}{span}", alarms=len(alarms))
        return Verdict.pending(f"{what}, watched {watched:g}s of {settings.watch_seconds:g}s")

    # The window never times the wait out: the watch ends the wait, a firing alarm fails it.
    timeout = settings.watch_seconds + 2 * settings.interval_seconds
    return ctx.wait_until("alarmGate", probe, interval=settings.interval_seconds, timeout=timeout)


def describe(region: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    found = pages(
        "cloudwatch", region, "DescribeAlarms", AlarmTypes=["MetricAlarm", "CompositeAlarm"], **query
    )
    return [
        alarm for page in found for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
    ]
