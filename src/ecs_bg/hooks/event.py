"""The event ECS sends a lifecycle hook Lambda, as a typed, validated model.

ECS nests the deployment's facts in ``executionDetails``; the seed document (an older doc shape)
shows the same four fields at the top level, so that shape is accepted as a fallback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ecs_bg.hooks.config import MAX_HOOK_DETAILS_BYTES, json_size, json_type, parse_hook_details
from ecs_bg.hooks.ecs import SHIFT_STAGES, Stage
from ecs_bg.hooks.errors import EventError as EventError

__all__ = [
    "SHIFT_STAGES",
    "DeploymentArn",
    "EventError",
    "HookEvent",
    "Stage",
    "TrafficWeights",
    "parse_event",
]


_DEPLOYMENT_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):ecs:(?P<region>[a-z0-9-]+):(?P<account>\d+):"
    r"service-deployment/(?P<cluster>[A-Za-z0-9_-]+)/(?P<service>[A-Za-z0-9_-]+)/(?P<id>[A-Za-z0-9_-]+)$"
)
_SERVICE_ARN = re.compile(r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d+:service/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$")
_REVISION_ARN = re.compile(
    r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d+:service-revision/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[0-9]+$"
)
_FLAT_FIELDS: Final = (
    "serviceArn",
    "targetServiceRevisionArn",
    "testTrafficWeights",
    "productionTrafficWeights",
)


@dataclass(frozen=True)
class DeploymentArn:
    """A service-deployment ARN, the event's ``resourceArn``, with its parts parsed out."""

    arn: str
    partition: str
    region: str
    account: str
    cluster: str
    service: str
    deployment_id: str

    @classmethod
    def parse(cls, arn: str) -> DeploymentArn:
        match = _DEPLOYMENT_ARN.match(arn)
        if match is None:
            raise EventError(
                "resourceArn",
                f"{arn!r} is not a service-deployment ARN "
                "(arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID)",
            )
        return cls(arn, *match.group("partition", "region", "account", "cluster", "service", "id"))


TrafficWeights = Mapping[str, float]


@dataclass(frozen=True)
class HookEvent:
    execution_id: str
    stage: Stage
    deployment: DeploymentArn
    service_arn: str
    target_revision_arn: str
    test_traffic_weights: TrafficWeights
    production_traffic_weights: TrafficWeights
    hook_details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def cluster(self) -> str:
        return self.deployment.cluster

    @property
    def service(self) -> str:
        return self.deployment.service

    @property
    def green_revision_arn(self) -> str:
        """The revision being deployed; ECS keeps it as the target during a rollback too."""
        return self.target_revision_arn

    @property
    def blue_revision_arn(self) -> str | None:
        """The revision being replaced, when the weights name one (never on a first deployment)."""
        for weights in (self.production_traffic_weights, self.test_traffic_weights):
            for arn in weights:
                if arn != self.target_revision_arn:
                    return arn
        return None

    @property
    def is_rollback(self) -> bool:
        """ECS is rolling back: a shift stage re-invoked with the weights turned away from green.

        Forward shifts give green a positive weight (all of it, or a LINEAR/CANARY step); on a
        rollback green gets 0 and the previous revision takes the traffic.
        """
        if self.stage not in SHIFT_STAGES:
            return False
        weights = (
            self.test_traffic_weights
            if self.stage is Stage.TEST_TRAFFIC_SHIFT
            else self.production_traffic_weights
        )
        others = [weight for arn, weight in weights.items() if arn != self.target_revision_arn]
        return weights.get(self.target_revision_arn, 0) == 0 and any(weight > 0 for weight in others)

    def log_keys(self) -> dict[str, str]:
        """The stable keys every log line of this invocation carries."""
        return {
            "executionId": self.execution_id,
            "stage": self.stage.value,
            "cluster": self.cluster,
            "service": self.service,
            "revision": self.target_revision_arn.rsplit("/", 1)[-1],
        }


def parse_event(raw: object) -> HookEvent:
    """Validate what Lambda handed the function and build a ``HookEvent``; ``EventError`` if invalid."""
    if not isinstance(raw, Mapping):
        raise EventError("event", f"expected a JSON object, got {json_type(raw)}")
    details_raw = raw.get("executionDetails")
    if details_raw is None and any(name in raw for name in _FLAT_FIELDS):
        details_raw, prefix = raw, ""  # the seed document's flat shape
    else:
        prefix = "executionDetails."
        if not isinstance(details_raw, Mapping):
            what = "missing" if details_raw is None else f"expected an object, got {json_type(details_raw)}"
            raise EventError("executionDetails", what)

    stage_raw = _string(raw, "lifecycleStage", "")
    try:
        stage = Stage(stage_raw)
    except ValueError:
        raise EventError(
            "lifecycleStage", f"{stage_raw!r} is not a hookable stage ({', '.join(Stage)})"
        ) from None

    service_arn = _string(details_raw, "serviceArn", prefix)
    if not _SERVICE_ARN.match(service_arn):
        raise EventError(f"{prefix}serviceArn", f"{service_arn!r} is not an ECS service ARN")
    target = _string(details_raw, "targetServiceRevisionArn", prefix)
    if not _REVISION_ARN.match(target):
        raise EventError(f"{prefix}targetServiceRevisionArn", f"{target!r} is not a service-revision ARN")

    return HookEvent(
        execution_id=_string(raw, "executionId", ""),
        stage=stage,
        deployment=DeploymentArn.parse(_string(raw, "resourceArn", "")),
        service_arn=service_arn,
        target_revision_arn=target,
        test_traffic_weights=_weights(details_raw, "testTrafficWeights", prefix),
        production_traffic_weights=_weights(details_raw, "productionTrafficWeights", prefix),
        hook_details=_hook_details(raw.get("hookDetails")),
    )


def _string(container: Mapping[str, Any], name: str, prefix: str) -> str:
    value = container.get(name)
    if value is None:
        raise EventError(prefix + name, "missing")
    if not isinstance(value, str) or not value:
        raise EventError(prefix + name, f"expected a non-empty string, got {json_type(value)}")
    return value


def _weights(container: Mapping[str, Any], name: str, prefix: str) -> dict[str, float]:
    value = container.get(name)
    if value is None:  # ECS sends {} outside the shift stages; treat absent the same way
        return {}
    if not isinstance(value, Mapping):
        raise EventError(
            prefix + name, f"expected an object of revision ARN to weight, got {json_type(value)}"
        )
    weights: dict[str, float] = {}
    for arn, weight in value.items():
        if not _REVISION_ARN.match(str(arn)):
            raise EventError(f"{prefix}{name}", f"key {arn!r} is not a service-revision ARN")
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 100:
            raise EventError(f"{prefix}{name}[{arn}]", f"expected a weight from 0 to 100, got {weight!r}")
        weights[arn] = weight
    return weights


def _hook_details(value: object) -> dict[str, Any]:
    try:
        details = parse_hook_details(value)
    except ValueError as error:
        raise EventError("hookDetails", str(error)) from None
    size = json_size(details)
    if size > MAX_HOOK_DETAILS_BYTES:
        raise EventError("hookDetails", f"{size} bytes exceeds the {MAX_HOOK_DETAILS_BYTES}-byte limit")
    return details
