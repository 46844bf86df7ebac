"""``ecs-bg local`` as one ``async with``: the endpoint, the control plane, the driver and the world.

One URL serves everything: ECS from the local control plane, elbv2 and CloudFormation reads from
the world, every other service (CloudWatch, CloudWatch Logs, SSM, S3, SNS, Secrets Manager) from
moto behind it. Leaving the block stops every task (its containers, or its process) and hook worker
it started.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from types import TracebackType

from ecs_bg.deploy.config import load_config
from ecs_bg.local import query
from ecs_bg.local.cloudformation.api import CloudFormationApi
from ecs_bg.local.cloudformation.cloud import LocalCloud, find_template, listener_roles, read_cloud
from ecs_bg.local.ecs.backend import LocalEcs
from ecs_bg.local.ecs.driver import Driver
from ecs_bg.local.ecs.models import Account, Deployment
from ecs_bg.local.elbv2.api import Elbv2Api
from ecs_bg.local.elbv2.balancer import ListenerName
from ecs_bg.local.elbv2.traffic_stats import LoadBalancerStats
from ecs_bg.local.endpoint import LocalAws
from ecs_bg.local.options import LocalOptions
from ecs_bg.local.world import World


class LocalEcsServer:
    def __init__(
        self, options: LocalOptions, cloud: LocalCloud | None = None, roles: Mapping[str, str] | None = None
    ) -> None:
        """``cloud``: the user's stacks, read from their template unless given; ``roles``: a listener
        rule's ARN -> production or test, as the service definition names them (by default, as the
        ecspresso config's service definition names them, when it can be rendered)."""
        self.options = options
        clusters = list(options.clusters)
        if options.config is not None:
            clusters.append(load_config(options.config, os.environ).cluster)
        self.cloud = cloud or read_cloud(find_template(options.template, options.cdk_json), options.region)
        if roles is None and options.config is not None:
            roles = listener_roles(options.config, self.cloud)
        self.world = World(options, self.cloud, roles)
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
        query_answers = {
            **Elbv2Api(self.world.elbv2.backend).answers(),
            **CloudFormationApi(self.cloud).answers(),
        }
        self.aws = LocalAws(
            self.ecs.operations(), query_answers=query_answers, ecs_only_local=True, region=options.region
        )
        self.url = ""

    async def __aenter__(self) -> LocalEcsServer:
        try:
            self.url = await self.aws.start(self.options.port, extra_origins=self.options.allowed_origins)
            await self.world.start(self.url, self.aws.listen)
            self.driver.start()
            # Off the loop, now: a first elbv2 or CloudFormation request would hold every listener up.
            asyncio.get_running_loop().run_in_executor(None, query.load, "elbv2", "cloudformation")
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
    def listener_urls(self) -> dict[str, str]:
        """Where each listener listens, by name: production and test for the service's rules'."""
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
            self.world.lambda_.provision(functions),
            asyncio.to_thread(self.world.cloudwatch.put_alarms, alarms),
        )

    async def serve_watchers(self, ended: float, limit: float) -> None:
        await self.aws.serve_watchers(ended, limit)
