"""``ecs-bg local`` as one ``async with``: the endpoint, the control plane, the driver and the world.

One URL serves everything: ECS from the local control plane, elbv2 and CloudFormation reads from
the world, every other service (CloudWatch, CloudWatch Logs, SSM, S3, SNS, Secrets Manager) from
moto behind it. Leaving the block stops every task (its containers, or its process) and hook worker
it started.
"""

from __future__ import annotations

import asyncio
import os
from types import TracebackType

from ecs_bg.deploy.config import load_config
from ecs_bg.local.ecs.backend import LocalEcs
from ecs_bg.local.ecs.driver import Driver
from ecs_bg.local.ecs.models import Account, Deployment
from ecs_bg.local.elbv2.balancer import ListenerName, ListenerUrls
from ecs_bg.local.elbv2.traffic_stats import LoadBalancerStats
from ecs_bg.local.endpoint import LocalAws
from ecs_bg.local.options import LocalOptions
from ecs_bg.local.reads import AwsReads
from ecs_bg.local.world import World


class LocalEcsServer:
    def __init__(self, options: LocalOptions) -> None:
        self.options = options
        clusters = list(options.clusters)
        if options.config is not None:
            clusters.append(load_config(options.config, os.environ).cluster)
        self.world = World(options)
        self.driver = Driver(self.world, options.speed)
        self.ecs = LocalEcs(
            Account(options.region),
            self.driver,
            tuple(dict.fromkeys(clusters)),
            first_deployment_stable=options.first_deployment_stable,
            rolled_back_deployment=options.rolled_back_deployment,
            speed=options.speed,
        )
        self.driver.task_definition = self.ecs.task_definition
        self.driver.services = lambda: [
            service for cluster in self.ecs.clusters.values() for service in cluster.services.values()
        ]
        self.reads = AwsReads(self.world)
        self.aws = LocalAws(
            self.ecs.operations(),
            query_answers=self.reads.answers(),
            ecs_only_local=True,
            region=options.region,
        )
        self.url = ""

    async def __aenter__(self) -> LocalEcsServer:
        try:
            self.url = await self.aws.start(self.options.port)
            await self.world.start(self.url, self.aws.listen)
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

    # -- backstage: what AWS does not show through its API, for ``ecs-bg simulate``'s report ---------

    def deployment(self, arn: str) -> Deployment:
        """What the local ECS recorded of a service deployment: its engine (stages, invocations), each
        invocation's run, the weights over time, the alarms judged, its final state."""
        deployment = self.ecs.deployment(arn)
        if deployment is None:
            raise KeyError(f"no service deployment {arn}")
        return deployment

    @property
    def listener_urls(self) -> ListenerUrls:
        return self.world.elbv2.lb.urls

    def traffic(self) -> LoadBalancerStats:
        """Every request the listeners have had, per listener and per target group."""
        return self.world.elbv2.lb.stats()

    def weights(self, listener: ListenerName) -> dict[str, float]:
        return self.world.elbv2.lb.weights(listener)

    async def restart_metrics(self) -> None:
        """Begin a metrics period now, as a load that starts now fills whole periods."""
        await self.world.cloudwatch.watch.restart()

    async def prepare(self, functions: list[str], alarms: list[str]) -> None:
        """Ahead of a deployment: initialize its functions (provisioned concurrency) and make its alarms."""
        await asyncio.gather(
            self.world.lambda_.provision(functions, alarms),
            asyncio.to_thread(self.world.cloudwatch.put_alarms, alarms),
        )

    async def serve_watchers(self, ended: float, limit: float) -> None:
        await self.aws.serve_watchers(ended, limit)
