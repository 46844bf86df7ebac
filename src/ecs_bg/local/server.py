"""``ecs-bg local`` as one ``async with``: the endpoint, the control plane, the driver and the world.

One URL serves everything: ECS from the local control plane, elbv2 and CloudFormation reads from
the world, every other service (CloudWatch, CloudWatch Logs, SSM, S3, SNS, Secrets Manager) from
moto behind it. Leaving the block stops every task process and hook worker it started.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from ecs_bg.deploy.config import load_config
from ecs_bg.deploy.paths import ECSPRESSO_CONFIG
from ecs_bg.lifecycle.plan import FirstDeploymentStable
from ecs_bg.local.ecs.backend import LocalEcs
from ecs_bg.local.ecs.driver import Driver
from ecs_bg.local.ecs.models import Account
from ecs_bg.local.endpoint import LocalAws
from ecs_bg.local.reads import AwsReads
from ecs_bg.local.world import World, WorldOptions


@dataclass
class LocalOptions:
    port: int = 0  # 0: any free port
    world: WorldOptions = field(default_factory=WorldOptions)
    config: Path | None = ECSPRESSO_CONFIG  # its cluster exists from the start
    clusters: tuple[str, ...] = ("default",)
    # What DescribeServices shows while a first deployment's hooks run (UNCONFIRMED; sim/plan.py).
    first_deployment_stable: FirstDeploymentStable = "tasks-running"


class LocalEcsServer:
    def __init__(self, options: LocalOptions) -> None:
        self.options = options
        clusters = list(options.clusters)
        if options.config is not None:
            clusters.append(load_config(options.config, os.environ).cluster)
        self.world = World(options.world)
        self.driver = Driver(self.world, options.world.speed)
        self.ecs = LocalEcs(
            Account(options.world.region),
            self.driver,
            tuple(dict.fromkeys(clusters)),
            first_deployment_stable=options.first_deployment_stable,
        )
        self.driver.definitions = lambda arn: self.ecs.task_definition(arn).body
        self.driver.services = lambda: [
            service for cluster in self.ecs.clusters.values() for service in cluster.services.values()
        ]
        self.reads = AwsReads(self.world)
        self.aws = LocalAws(self.ecs.operations(), query_answers=self.reads.answers(), ecs_only_local=True)
        self.url = ""

    async def __aenter__(self) -> LocalEcsServer:
        try:
            self.url = await self.aws.start(self.options.port)
            await self.world.start(self.url)
            self.driver.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.driver.close()
        await self.world.close()
        await self.aws.stop()
