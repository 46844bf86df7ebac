"""Realistic hook events, shaped exactly as ECS sends them (docs/aws-facts.md §1), for any stage and strategy.

Weights follow ECS: the test weights are filled at TEST_TRAFFIC_SHIFT, the production weights at
PRE_PRODUCTION_TRAFFIC_SHIFT (before the shift) and PRODUCTION_TRAFFIC_SHIFT (after it), ``{}``
elsewhere. A rollback re-invokes the two shift stages with the weights turned back to blue.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from ecs_bg.hooks import ecs
from ecs_bg.hooks.ecs import Stage, Strategy


@dataclass(frozen=True)
class ServiceIds:
    """Where the deployment happens; the defaults are the AWS documentation's example."""

    region: str = "us-west-2"
    account: str = "123456789012"
    cluster: str = "my-cluster"
    service: str = "my-service"
    deployment_id: str = "EZe5RNVLH6PPzHXINuP28"
    green_revision: str = "9313423515462893900"
    blue_revision: str = "1920498462936580504"

    def _arn(self, resource: str) -> str:
        return f"arn:aws:ecs:{self.region}:{self.account}:{resource}"

    @property
    def service_arn(self) -> str:
        return self._arn(f"service/{self.cluster}/{self.service}")

    @property
    def deployment_arn(self) -> str:
        return self._arn(f"service-deployment/{self.cluster}/{self.service}/{self.deployment_id}")

    def revision_arn(self, revision: str) -> str:
        return self._arn(f"service-revision/{self.cluster}/{self.service}/{revision}")

    @property
    def green_arn(self) -> str:
        return self.revision_arn(self.green_revision)

    @property
    def blue_arn(self) -> str:
        return self.revision_arn(self.blue_revision)


def green_weight_after_step(strategy: Strategy, step: int, percent: float) -> float:
    """Green's production weight after ``step`` (from 1); ``percent`` is the step or canary size."""
    if strategy == Strategy.BLUE_GREEN:
        return 100.0
    if strategy == Strategy.CANARY:
        return percent if step == 1 else 100.0
    return min(100.0, round(step * percent, 1))


def default_percent(strategy: Strategy) -> float:
    """ECS's default stepPercent (LINEAR) or canaryPercent (CANARY); BLUE_GREEN shifts all at once."""
    limit = {Strategy.LINEAR: ecs.LINEAR_STEP_PERCENT, Strategy.CANARY: ecs.CANARY_PERCENT}.get(strategy)
    return (limit.default or 100.0) if limit is not None else 100.0


def step_count(strategy: Strategy, percent: float) -> int:
    if strategy == Strategy.BLUE_GREEN:
        return 1
    if strategy == Strategy.CANARY:
        return 1 if percent >= 100 else 2
    return math.ceil(round(100 / percent, 6))


def lifecycle_event(
    stage: Stage | str,
    *,
    ids: ServiceIds | None = None,
    strategy: Strategy = Strategy.BLUE_GREEN,
    step: int = 1,
    percent: float | None = None,
    rollback: bool = False,
    first_deployment: bool = False,
    hook_details: dict[str, Any] | None = None,
    execution_id: str | None = None,
) -> dict[str, Any]:
    """The event ECS sends a hook at ``stage``; ``step`` counts LINEAR/CANARY shifts from 1."""
    ids = ids or ServiceIds()
    return deployment_event(
        stage,
        deployment_arn=ids.deployment_arn,
        service_arn=ids.service_arn,
        green_arn=ids.green_arn,
        blue_arn=None if first_deployment else ids.blue_arn,
        strategy=strategy,
        step=step,
        percent=percent,
        rollback=rollback,
        hook_details=hook_details,
        execution_id=execution_id,
    )


def deployment_event(
    stage: Stage | str,
    *,
    deployment_arn: str,
    service_arn: str,
    green_arn: str,
    blue_arn: str | None,
    strategy: Strategy = Strategy.BLUE_GREEN,
    step: int = 1,
    percent: float | None = None,
    rollback: bool = False,
    hook_details: dict[str, Any] | None = None,
    execution_id: str | None = None,
) -> dict[str, Any]:
    """The event ECS sends a hook of the deployment ``deployment_arn`` at ``stage``: green is its
    target revision, blue its source (None: the service's first deployment, which has none)."""
    stage = Stage(stage)
    percent = percent if percent is not None else default_percent(strategy)
    green, blue = green_arn, blue_arn

    def weights(green_weight: float) -> dict[str, float | int]:
        as_number = int(green_weight) if float(green_weight).is_integer() else green_weight
        if blue is None:
            return {green: as_number}
        rest = 100 - green_weight
        return {green: as_number, blue: int(rest) if float(rest).is_integer() else round(rest, 1)}

    test: dict[str, float | int] = {}
    production: dict[str, float | int] = {}
    if stage is Stage.TEST_TRAFFIC_SHIFT:
        test = weights(0 if rollback else 100)
    elif stage is Stage.PRE_PRODUCTION_TRAFFIC_SHIFT:
        production = weights(0 if step == 1 else green_weight_after_step(strategy, step - 1, percent))
    elif stage is Stage.PRODUCTION_TRAFFIC_SHIFT:
        production = weights(0 if rollback else green_weight_after_step(strategy, step, percent))

    event: dict[str, Any] = {
        "executionId": execution_id or str(uuid.uuid4()),
        "lifecycleStage": stage.value,
        "resourceArn": deployment_arn,
        "executionDetails": {
            "serviceArn": service_arn,
            "targetServiceRevisionArn": green,
            "testTrafficWeights": test,
            "productionTrafficWeights": production,
        },
    }
    if hook_details is not None:
        event["hookDetails"] = hook_details
    return event
