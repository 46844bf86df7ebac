"""``ecs-bg simulate``: one deployment of green over blue, driven through the local ECS as from CI.

The simulation is a client of ``ecs_bg.sim.localecs`` (what ``ecs-bg local`` serves): it registers
blue's and green's task definitions, creates the service on blue, puts load on the production
listener, updates the service to green with the service definition's ``deploymentConfiguration``,
answers PAUSE hooks as an operator would (ContinueServiceDeployment), follows the deployment with
DescribeServiceDeployments until it ends, and reports from what the local ECS recorded. Scenarios
change only what a user could: the task definitions' environment, the service definition, the
functions' code (``options``).

Blue's creation is set-up, not what the report is about: it is created with a plain BLUE_GREEN
configuration (no hooks, no bake, no alarms), as if it had been deployed earlier, so that its first
deployment costs only its tasks' start. ``ecs-bg local`` runs a CreateService's hooks as ECS does.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import FunctionOverride
from ecs_bg.deploy.paths import CDK_JSON, ECSPRESSO_CONFIG
from ecs_bg.hooks.ecs import (
    FINAL_DEPLOYMENT_STATUSES,
    DeploymentStatus,
    LifecycleHookStatus,
    Strategy,
    TargetType,
)
from ecs_bg.lifecycle.engine import Engine
from ecs_bg.lifecycle.plan import HookDetailsReading, HookSpec, RollbackHookFailure
from ecs_bg.lifecycle.spec import deployment_spec, function_name
from ecs_bg.local.cloudwatch import alarms, metric_alarms
from ecs_bg.local.ecs.models import Deployment
from ecs_bg.local.endpoint import SIMULATION_APP_ID
from ecs_bg.local.lambda_.functions import local_functions
from ecs_bg.local.runtime.process import free_port
from ecs_bg.local.server import LocalEcsServer, LocalOptions
from ecs_bg.local.world import World, WorldOptions
from ecs_bg.simulate import setup
from ecs_bg.simulate.deployment_report import BLUE, GREEN, Names, ProductionIntervals, deployment_report
from ecs_bg.simulate.loadgen import LoadGenerator
from ecs_bg.simulate.outcome import Report

WATCHER_GRACE = 15.0  # real seconds the endpoint waits, after the end, for a watcher's next poll
BLUE_READY_SECONDS = 90.0  # real seconds blue's creation may take (SCALE_UP allows green 60)
POLL = 0.05  # real seconds between looks at the deployment
# A scenario's spec_overrides and hook_overrides, as the deploymentConfiguration fields they set.
SPEC_FIELDS: dict[str, tuple[str, ...]] = {
    "strategy": ("strategy",),
    "bake_time_minutes": ("bakeTimeInMinutes",),
    "step_percent": ("linearConfiguration", "stepPercent"),
    "step_bake_minutes": ("linearConfiguration", "stepBakeTimeInMinutes"),
    "canary_percent": ("canaryConfiguration", "canaryPercent"),
    "canary_bake_minutes": ("canaryConfiguration", "canaryBakeTimeInMinutes"),
}
HOOK_FIELDS: dict[str, tuple[str, ...]] = {
    "timeout_minutes": ("timeoutConfiguration", "timeoutInMinutes"),
    "timeout_action": ("timeoutConfiguration", "action"),
}


class SimulationFailed(Exception):
    """The deployment could not be run: blue never served, or the local ECS refused a request."""


@dataclass
class Options:
    config: Path = ECSPRESSO_CONFIG
    lambda_dir: Path | None = None  # the hooks' code folder; default: cdk.json's hookCode
    cdk_json: Path | None = CDK_JSON
    speed: float = 240.0  # simulated seconds per real second
    tasks: int | None = None  # default: the service's desiredCount
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "app"])
    # simulation.yml's command per container name; when it names any, the container the load balancer
    # routes to must be among them (else ``command``, the sample service, stands in for it).
    container_commands: dict[str, list[str]] = field(default_factory=dict)
    blue_env: dict[str, str] = field(default_factory=dict)  # in blue's task definition
    green_env: dict[str, str] = field(default_factory=dict)  # in green's task definition
    function_timeout: float = 60.0  # real seconds; Lambda's 5 minutes would make a stuck hook slow to see
    load_rate: float = 40.0  # production requests a second: enough for the alarms to judge a bake soon
    load_path: str = "/api/products"
    hook_details: dict[str, dict[str, Any]] = field(default_factory=dict)  # hook_id -> hookDetails merged in
    hook_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # hook_id -> HOOK_FIELDS
    extra_hooks: tuple[HookSpec, ...] = ()
    spec_overrides: dict[str, Any] = field(default_factory=dict)  # SPEC_FIELDS
    hook_details_reading: HookDetailsReading = "replace"  # how ECS passes IN_PROGRESS hookDetails on
    function_entries: dict[str, Path] = field(default_factory=dict)  # hook_id -> another entry file
    functions: dict[str, FunctionOverride] = field(default_factory=dict)  # simulation.yml's functions:
    environment: dict[str, str] = field(default_factory=dict)  # for every hook function
    pause_decisions: list[str] = field(default_factory=list)  # CONTINUE/ROLLBACK, one per PAUSE wait
    alarm_5xx_percent: float = alarms.PERCENT_5XX  # green's 5xx share of a window's requests that alarms
    # The user's own alarms by name (simulation.yml's alarms:), judged as CloudWatch would.
    alarm_definitions: dict[str, metric_alarms.AlarmDefinition] = field(default_factory=dict)
    environ: dict[str, str] = field(default_factory=dict)  # for rendering the ecspresso files
    # Per revision (blue, green): template variables its task definition is rendered with.
    revision_environ: dict[str, dict[str, str]] = field(default_factory=dict)
    rollback_hook_failure: RollbackHookFailure = "fail"  # what ECS does then is UNCONFIRMED
    sim_config: Path | None = None  # the simulation.yml the options came from, for error messages


class Simulation:
    def __init__(self, options: Options, on_update: Callable[[Simulation], None] | None = None) -> None:
        """Everything is read and checked here, before any process starts: a mistake is a
        ``DefinitionError`` naming the file and field."""
        self.options = options
        self.on_update = on_update or (lambda _: None)
        functions = local_functions(options.cdk_json, options.lambda_dir, options.functions)
        self.loaded = setup.load(options.config, functions, options.environ)
        self.ids = self.loaded.spec.ids
        self._check_command()
        self.task_definitions = {group: self._task_definition(group) for group in (BLUE, GREEN)}
        self.configuration = self._configuration()
        try:
            deployment_spec(self.configuration, first_deployment=False)
        except ValueError as error:
            raise DefinitionError(f"{self.loaded.definitions.service_file}: {error}") from None
        # The report's hook names, in the service definition's order, then the scenario's own.
        self.hook_names = [hook.hook_id for hook in (*self.loaded.spec.hooks, *options.extra_hooks)]
        self.server: LocalEcsServer | None = None
        self.deployment: Deployment | None = None  # green's, once UpdateService made it
        self.load: LoadGenerator | None = None
        self.task_definition_arns: dict[str, str] = {}  # blue's and green's, once registered
        self.production = ProductionIntervals()  # production requests over time, for the report
        self.group_names: dict[str, str] = {}  # target group ARN -> blue or green, once the world serves

    # -- what the simulation sends ---------------------------------------------------------------------

    def _check_command(self) -> None:
        """simulation.yml's containers, when it names any, must name the container the load
        balancer routes to (``loadBalancers[].containerName``)."""
        commands = self.options.container_commands
        name = self.loaded.container
        if commands and name not in commands:
            raise DefinitionError(
                f"{self.options.sim_config}: containers has no command for {name!r}, the container "
                f"{self.loaded.definitions.service_file}: $.loadBalancers[0].containerName routes to "
                f"(configured: {', '.join(sorted(commands))})"
            )

    def _task_definition(self, group: str) -> dict[str, Any]:
        """The revision's own task definition (RegisterTaskDefinition's request), the scenario's
        environment added to the container the load balancer routes to."""
        options = self.options
        environ = {**options.environ, **options.revision_environ.get(group, {})}
        task = setup.revision_task(options.config, environ, self.loaded.outputs)
        added = {"APP_COLOUR": group, **(options.blue_env if group == BLUE else options.green_env)}
        for container in task.get("containerDefinitions", []):
            if container.get("name") == self.loaded.container:
                kept = [item for item in container.get("environment", []) if item.get("name") not in added]
                container["environment"] = kept + [{"name": k, "value": v} for k, v in added.items()]
        return task

    def _configuration(self) -> dict[str, Any]:
        """green's ``deploymentConfiguration``: the service definition's, with the scenario's changes."""
        configuration: dict[str, Any] = copy.deepcopy(
            self.loaded.definitions.service.get("deploymentConfiguration", {})
        )
        for name, value in self.options.spec_overrides.items():
            _put(configuration, _field(SPEC_FIELDS, name, "spec_overrides"), value)
        hooks = configuration.setdefault("lifecycleHooks", [])
        for hook, spec in zip(hooks, self.loaded.spec.hooks, strict=True):
            details = self.options.hook_details.get(spec.hook_id)
            if details:
                hook["hookDetails"] = {**(hook.get("hookDetails") or {}), **details}
            for name, value in self.options.hook_overrides.get(spec.hook_id, {}).items():
                _put(hook, _field(HOOK_FIELDS, name, "hook_overrides"), value)
        for extra in self.options.extra_hooks:
            hook = {
                "targetType": extra.target_type,
                "lifecycleStages": [str(stage) for stage in extra.stages],
            }
            _put(hook, HOOK_FIELDS["timeout_minutes"], extra.timeout_minutes)
            _put(hook, HOOK_FIELDS["timeout_action"], extra.timeout_action)
            if extra.target_type == TargetType.AWS_LAMBDA:
                hook["hookTargetArn"] = extra.target_arn
            if extra.hook_details:
                hook["hookDetails"] = extra.hook_details
            hooks.append(hook)
        return configuration

    def _blue_service(self) -> dict[str, Any]:
        """CreateService's request: the service definition on blue, with a set-up configuration."""
        service = copy.deepcopy(self.loaded.definitions.service)
        configuration = service.get("deploymentConfiguration", {})
        service["deploymentConfiguration"] = {
            **{k: v for k, v in configuration.items() if k in ("maximumPercent", "minimumHealthyPercent")},
            "strategy": Strategy.BLUE_GREEN,
            "bakeTimeInMinutes": 0,
        }
        if self.options.tasks is not None:
            service["desiredCount"] = self.options.tasks
        return service

    def _functions(self) -> dict[str, FunctionOverride]:
        """simulation.yml's functions, and a scenario's other entry file for a hook's function."""
        overrides = dict(self.options.functions)
        for hook_id, entry in self.options.function_entries.items():
            name = self.loaded.functions[hook_id].name
            base = overrides.get(name, FunctionOverride())
            overrides[name] = dataclasses.replace(
                base, code=str(entry.parent), handler=f"{entry.stem}.handler"
            )
        return overrides

    def _function_names(self) -> list[str]:
        hooks = self.configuration.get("lifecycleHooks", [])
        return [function_name(hook["hookTargetArn"]) for hook in hooks if hook.get("hookTargetArn")]

    def _alarm_names(self) -> list[str]:
        return list(self.configuration.get("alarms", {}).get("alarmNames", []))

    def _local_options(self, port: int) -> LocalOptions:
        options = self.options
        world = WorldOptions(
            region=self.ids.region,
            speed=options.speed,
            command=tuple(options.command),
            container_commands=options.container_commands,
            sim_config=options.sim_config,
            lambda_dir=options.lambda_dir,
            cdk_json=options.cdk_json,
            functions=self._functions(),
            function_timeout=options.function_timeout,
            hook_environment=options.environment,
            hook_details_reading=options.hook_details_reading,
            rollback_hook_failure=options.rollback_hook_failure,
            alarm_5xx_percent=options.alarm_5xx_percent,
            alarm_definitions=options.alarm_definitions,
        )
        return LocalOptions(port=port, world=world, config=None, clusters=(self.ids.cluster,))

    # -- the run ---------------------------------------------------------------------------------------

    @property
    def world(self) -> World:
        assert self.server is not None
        return self.server.world

    @property
    def url(self) -> str:
        """The local AWS endpoint (empty until it serves)."""
        return self.server.url if self.server is not None else ""

    @property
    def engine(self) -> Engine | None:
        return self.deployment.engine if self.deployment is not None else None

    async def run(self) -> Report:
        status = DeploymentStatus.STOPPED
        # The ECS client is made (boto3 loads its model) while the endpoint starts on a port chosen here.
        port = free_port()
        client = asyncio.ensure_future(asyncio.to_thread(self._client, "ecs", f"http://127.0.0.1:{port}"))
        async with LocalEcsServer(self._local_options(port)) as server:
            self.server = server
            self.group_names = {server.world.blue_group: BLUE, server.world.green_group: GREEN}
            # The client comes first: blue's start waits for it, and the processes provisioning starts
            # would starve its thread of the interpreter and both cores (a second in a demo).
            ecs = await client
            # Green's hook functions initialize from now on (the local ECS would start at UpdateService),
            # while blue is created: the deployment then waits for what the hooks do, not their start
            # (an invocation that comes first waits for its function's init). The alarms it watches
            # exist from now on, as the stack made them before the service.
            alarm_names = self._alarm_names()
            provisioning = asyncio.ensure_future(
                asyncio.gather(
                    server.world.provision(self._function_names(), alarm_names),
                    asyncio.to_thread(server.world.put_alarms, alarm_names),
                )
            )
            try:
                try:
                    await self._create_blue(ecs)
                    await self._start_load()
                    self.deployment = await self._update_to_green(ecs)
                except (BotoCoreError, ClientError) as error:
                    raise SimulationFailed(f"the local ECS refused the request: {error}") from None
                status = await self._follow(ecs)
            finally:
                provisioning.cancel()  # done unless the run ended early; then nobody needs it
                report = await self._finish(status)
        return report

    def _client(self, service: str, url: str) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=self.ids.region,
            endpoint_url=url,
            aws_access_key_id="simulation",
            aws_secret_access_key="simulation",  # noqa: S106 - the local endpoint checks nothing
            config=Config(user_agent_appid=SIMULATION_APP_ID),  # type: ignore[call-arg]  # stubs lag botocore
        )

    async def _create_blue(self, ecs: Any) -> None:
        """Register both revisions, create the service on blue and wait until blue serves."""

        def create() -> None:
            arns = {
                group: ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]
                for group, task in self.task_definitions.items()
            }
            self.task_definition_arns.update(arns)
            ecs.create_service(
                cluster=self.ids.cluster,
                serviceName=self.ids.service,
                taskDefinition=arns[BLUE],
                **self._blue_service(),
            )

        await asyncio.to_thread(create)
        service = self._service()
        deadline = time.monotonic() + BLUE_READY_SECONDS
        while not (service.deployments and service.deployments[-1].final) and time.monotonic() < deadline:
            await asyncio.sleep(POLL)
        first = service.deployments[-1] if service.deployments else None
        if first is None or first.status != DeploymentStatus.SUCCESSFUL:
            why = (
                first.engine.status_reason if first and first.engine else None
            ) or "it did not finish in time"
            raise SimulationFailed(f"blue, the service's first revision, never served: {why}")

    def _service(self) -> Any:
        assert self.server is not None
        return self.server.ecs.clusters[self.ids.cluster].services[self.ids.service]

    async def _start_load(self) -> None:
        # The first metrics period starts with the load: a count is scaled by its period's real length.
        await self.world.alarm_watch.restart()
        self.load = LoadGenerator(
            self.world.lb.urls.production + self.options.load_path,
            rate=self.options.load_rate,
            duration=600,
            on_response=self._count_response,
        )
        self.load.start()

    async def _update_to_green(self, ecs: Any) -> Deployment:
        service = self._service()
        known = len(service.deployments)
        await asyncio.to_thread(
            ecs.update_service,
            cluster=self.ids.cluster,
            service=self.ids.service,
            taskDefinition=self.task_definition_arns[GREEN],
            deploymentConfiguration=self.configuration,
        )
        deployment: Deployment = service.deployments[known]
        return deployment

    async def _follow(self, ecs: Any) -> DeploymentStatus:
        """Follow the deployment through the ECS API until its final status, answering each PAUSE
        hook that awaits action with the next of ``pause_decisions``, as an operator would."""
        assert self.deployment is not None
        arn = self.deployment.arn
        decisions = list(self.options.pause_decisions)
        answered: set[str] = set()
        while True:
            self.on_update(self)
            described = await asyncio.to_thread(ecs.describe_service_deployments, serviceDeploymentArns=[arn])
            (deployment,) = described["serviceDeployments"]
            if deployment["status"] in FINAL_DEPLOYMENT_STATUSES:
                self.on_update(self)
                return DeploymentStatus(deployment["status"])
            for hook in deployment.get("lifecycleHookDetails", []):
                waiting = hook.get("status") == LifecycleHookStatus.AWAITING_ACTION
                if waiting and decisions and hook["hookId"] not in answered:
                    answered.add(hook["hookId"])
                    await asyncio.to_thread(
                        ecs.continue_service_deployment,
                        serviceDeploymentArn=arn,
                        hookId=hook["hookId"],
                        action=decisions.pop(0),
                    )
            await asyncio.sleep(POLL)

    def _count_response(self, group: str | None, failed: bool) -> None:
        deployment = self.deployment
        moment = deployment.clock() if deployment is not None else 0.0
        self.production.count(moment, self.group_names.get(group, group) if group else None, failed)

    # -- the report ------------------------------------------------------------------------------------

    @property
    def names(self) -> Names:
        """How the report names target groups and hooks (the hooks once the deployment started)."""
        engine = self.engine
        ids = [hook.hook_id for hook in engine.spec.hooks] if engine is not None else []
        return Names(self.group_names, dict(zip(ids, self.hook_names, strict=False)))

    async def _finish(self, status: DeploymentStatus) -> Report:
        load = await self.load.stop() if self.load is not None else None
        stats = self.world.lb.stats()  # final: the load has stopped
        deployment = self.deployment
        ended = time.monotonic()
        if deployment is not None and deployment.finished_at is not None:
            ended -= time.time() - deployment.finished_at
        assert self.server is not None
        await self.server.aws.serve_watchers(ended, WATCHER_GRACE)
        if deployment is None or deployment.engine is None:
            return Report(status=status, stages=[], hook_invocations=[], traffic={}, wall_seconds=0.0)
        return deployment_report(
            deployment, status, self.names, stats, load, self.production.intervals(), self.options.speed
        )


def _field(fields: dict[str, tuple[str, ...]], name: str, where: str) -> tuple[str, ...]:
    if name not in fields:
        raise ValueError(f"{where}: {name!r} is none of {', '.join(fields)}")
    return fields[name]


def _put(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        document = document.setdefault(key, {})
    # The API's minutes and percents of whole numbers are Integer (botocore's ECS model).
    document[path[-1]] = int(value) if isinstance(value, float) and value.is_integer() else value
