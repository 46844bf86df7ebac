"""The repository's sample stack, as the local world reads it: its committed synthesized template
(infrastructure/template/, written by scripts/sample-template)."""

from __future__ import annotations

import functools
from typing import Any

from ecs_bg.local.cloudformation.cloud import LocalCloud, read_cloud
from ecs_bg.local.elbv2.load_balancing import LoadBalancing, resources
from ecs_bg.local.elbv2.models import PRODUCTION, TEST
from ecs_bg.local.lambda_.functions import LambdaFunction, local_functions, world_functions
from tests.conftest import CDK_JSON, ROOT

STACK = "zenn-ecs-cdk-ecspresso"
TEMPLATE = ROOT / "infrastructure" / "template" / f"{STACK}.template.json"
REGION = "ap-northeast-1"


def sample_cloud(region: str = REGION) -> LocalCloud:
    """A fresh read (its own local ports), as a local world reads it."""
    return read_cloud(TEMPLATE, region)


@functools.cache
def outputs(region: str = REGION) -> dict[str, str]:
    """The stack's outputs (their local URLs aside, which each read chooses anew)."""
    return sample_cloud(region).outputs(STACK)


def roles(values: dict[str, str] | None = None) -> dict[str, str]:
    """The sample service's rules' roles, as its service definition names them."""
    values = values or outputs()
    return {values["ProductionListenerRuleArn"]: PRODUCTION, values["TestListenerRuleArn"]: TEST}


def sample_balancing(speed: float, **options: Any) -> LoadBalancing:
    cloud = sample_cloud()
    return LoadBalancing(resources(cloud, roles(cloud.outputs(STACK))), speed, **options)


def sample_functions(cloud: LocalCloud) -> dict[str, LambdaFunction]:
    """The functions the sample's local world has: its template's, with the CDK app's hooks as code."""
    return world_functions(cloud, local_functions(CDK_JSON), {}, "simulation.yml:")
