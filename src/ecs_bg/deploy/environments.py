"""How each environment's stack is named, and the variables through which ecspresso learns it.

dev, stg and prod can share one account and region: each has its own CDK stack and ECS cluster. The
ecspresso files name the stack as ``(env `ECS_BG_STACK_NAME` `<dev's stack>`)`` and the cluster as
``env `ECS_CLUSTER` `ecs-bg-dev```, so with nothing set they deploy dev, the seed's stack.
"""

from __future__ import annotations

from typing import Final

DEFAULT_STACK_NAME: Final = "zenn-ecs-cdk-ecspresso"  # the seed's, kept for dev
STACK_NAME_VARIABLE: Final = "ECS_BG_STACK_NAME"  # read by every cfn_output in ecspresso/
CLUSTER_VARIABLE: Final = "ECS_CLUSTER"  # read by ecspresso.yml's cluster
SERVICE_VARIABLE: Final = "ECS_SERVICE"  # read by ecspresso.yml's service


def default_stack_name(env: str) -> str:
    """dev keeps the seed's name; every other environment gets its own: zenn-ecs-cdk-ecspresso-stg."""
    return DEFAULT_STACK_NAME if env == "dev" else f"{DEFAULT_STACK_NAME}-{env}"


def resource_name(env: str, *parts: str) -> str:
    """A physical name in the seed's pattern: ``resource_name("dev", "before-install")`` ->
    ecs-bg-before-install-dev (the stack's functions, alarms, cluster)."""
    return "-".join(("ecs-bg", *parts, env))
