"""The event ECS would send a hook of a real service deployment, built from what ECS says of it.

DescribeServiceDeployments gives the deployment's service, its target revision (green: the event's
``targetServiceRevisionArn``, during a rollback too), its source revisions (blue; none on a
service's first deployment) and its ``deploymentConfiguration`` (the strategy and step size that
decide a LINEAR or CANARY step's weights). The weights are those ECS puts in the event at that stage
(docs/aws-facts.md §1, ``lifecycle.events``), keyed by these real revision ARNs, so a hook that reads
its own revision, task definition or deployment back from ECS finds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ecs_bg.hooks.ecs import TRAFFIC_SHIFT_STRATEGIES, Stage, Strategy
from ecs_bg.lifecycle.events import default_percent, deployment_event
from ecs_bg.live.aws import AwsFailure, aws_errors, error_code

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient


@dataclass(frozen=True)
class RealDeployment:
    arn: str
    service_arn: str
    region: str
    green: str  # the target revision's ARN
    blue: str | None  # the first source revision's ARN; None when the service had none
    strategy: Strategy
    percent: float  # LINEAR stepPercent or CANARY canaryPercent (100 for BLUE_GREEN)

    def event(
        self,
        stage: Stage,
        *,
        step: int = 1,
        rollback: bool = False,
        hook_details: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return deployment_event(
            stage,
            deployment_arn=self.arn,
            service_arn=self.service_arn,
            green_arn=self.green,
            blue_arn=self.blue,
            strategy=self.strategy if self.strategy in TRAFFIC_SHIFT_STRATEGIES else Strategy.BLUE_GREEN,
            step=step,
            percent=self.percent,
            rollback=rollback,
            hook_details=hook_details,
        )


def real_deployment(ecs: ECSClient, arn: str) -> RealDeployment:
    """The service deployment ``arn`` as ECS describes it; ``AwsFailure`` (one line) if it cannot."""
    with aws_errors():
        try:
            answer = ecs.describe_service_deployments(serviceDeploymentArns=[arn])
        except ClientError as error:
            if error_code(error) in ("InvalidParameterException", "ClientException"):
                message = error.response.get("Error", {}).get("Message", "")
                raise AwsFailure(f"--deployment {arn!r}: {message}") from None
            raise
    found = answer.get("serviceDeployments") or []
    if not found:
        failures = answer.get("failures") or [{}]
        reason = failures[0].get("reason", "not found")
        raise AwsFailure(f"service deployment {arn}: {reason}")
    deployment: dict[str, Any] = dict(found[0])
    target = deployment.get("targetServiceRevision") or {}
    if not target.get("arn"):
        raise AwsFailure(f"service deployment {arn} has no target service revision yet")
    sources = deployment.get("sourceServiceRevisions") or []
    configuration = deployment.get("deploymentConfiguration") or {}
    given = configuration.get("strategy", Strategy.BLUE_GREEN)
    strategy = Strategy(given) if given in set(Strategy) else Strategy.BLUE_GREEN
    sizes = {
        Strategy.LINEAR: (configuration.get("linearConfiguration") or {}).get("stepPercent"),
        Strategy.CANARY: (configuration.get("canaryConfiguration") or {}).get("canaryPercent"),
    }
    percent = sizes.get(strategy)
    return RealDeployment(
        arn=arn,
        service_arn=str(deployment["serviceArn"]),
        region=arn.split(":")[3],  # arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID
        green=str(target["arn"]),
        blue=str(sources[0]["arn"]) if sources else None,
        strategy=strategy,
        percent=float(percent) if percent is not None else default_percent(strategy),
    )
