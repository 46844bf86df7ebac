"""targetHealth: every target of green's target group passes the load balancer's health checks.

ECS swaps the two target groups on every deployment, so which one is green comes from the green
service revision's resolved load-balancer configuration (or ``targetGroupArns`` given outright),
never from names. Draining targets are on their way out and do not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ecs_bg.hooks import aws
from ecs_bg.hooks.aws import call
from ecs_bg.hooks.config import CheckSettings, bounded
from ecs_bg.hooks.deployment import describe_target_revision, green_target_groups
from ecs_bg.hooks.result import Verdict

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext


@dataclass(frozen=True, kw_only=True)
class Settings(CheckSettings):
    target_group_arns: tuple[str, ...] = ()  # default: the target groups ECS resolved for green
    # At least 1: with none required the check passes with no healthy target, so it could not say
    # that green serves at all.
    min_healthy_targets: int = field(default=1, metadata=bounded(1, 1000))
    timeout_seconds: float = field(default=300, metadata=bounded(1, 86_400))
    interval_seconds: float = field(default=5, metadata=bounded(1, 300))

    def __post_init__(self) -> None:
        # DescribeTargetHealth takes a target group's ARN (Elastic Load Balancing API reference), and the
        # check names each group by its ARN's targetgroup/NAME; a bare name would fail every look.
        for arn in self.target_group_arns:
            if not (arn.startswith("arn:") and ":targetgroup/" in arn):
                raise ValueError(
                    f"targetGroupArns must be target group ARNs (arn:…:targetgroup/NAME/ID), got {arn!r}"
                )


def prepare() -> None:
    aws.prepare("ecs", "elbv2")  # green's revision, then its targets' health


def run(ctx: HookContext, settings: Settings) -> Verdict:
    region = ctx.event.deployment.region
    groups = list(settings.target_group_arns) or green_target_groups(describe_target_revision(ctx.event))
    if not groups:
        return Verdict.failed("green's service revision has no resolved target group (no load balancer?)")

    def probe() -> Verdict:
        healthy = 0
        waiting: list[str] = []
        for group in groups:
            name = group.split(":targetgroup/", 1)[-1].split("/", 1)[0]
            for target in call("elbv2", region, "DescribeTargetHealth", TargetGroupArn=group)[
                "TargetHealthDescriptions"
            ]:
                state = target["TargetHealth"]["State"]
                if state == "healthy":
                    healthy += 1
                elif state != "draining":
                    where = f"{target['Target']['Id']}:{target['Target'].get('Port', '')}".rstrip(":")
                    reason = target["TargetHealth"].get("Reason", "")
                    waiting.append(f"{name} {where} {state}{f' ({reason})' if reason else ''}")
        counts = {"healthy": healthy, "notHealthy": len(waiting)}
        if waiting:
            return Verdict.pending(f"{healthy} healthy; not yet: {', '.join(waiting[:5])}", **counts)
        if healthy < settings.min_healthy_targets:
            return Verdict.pending(
                f"{healthy} healthy target(s), need {settings.min_healthy_targets}", **counts
            )
        return Verdict.passed(f"all {healthy} target(s) of green's target group healthy", **counts)

    return ctx.wait_until(
        "targetHealth", probe, interval=settings.interval_seconds, timeout=settings.timeout_seconds
    )
