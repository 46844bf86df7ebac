"""``ecs-bg simulate``: one deployment of green over blue, driven through the local ECS as from CI.

The simulation is a client of ``ecs_bg.local`` (what ``ecs-bg local`` serves): it registers
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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from ecs_bg.deploy.config import load_config
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import FunctionOverride, LambdaFunction
from ecs_bg.deploy.project import find_cdk_json, find_config
from ecs_bg.hooks.ecs import (
    FINAL_DEPLOYMENT_STATUSES,
    DeploymentStatus,
    LifecycleHookStatus,
    Strategy,
    TargetType,
)
from ecs_bg.lifecycle.engine import Engine
from ecs_bg.lifecycle.plan import HookSpec
from ecs_bg.lifecycle.spec import deployment_spec, function_of
from ecs_bg.local.cloudformation.cloud import find_template, read_cloud
from ecs_bg.local.ecs.models import Deployment
from ecs_bg.local.elbv2.models import PRODUCTION, TEST, service_rules
from ecs_bg.local.lambda_.functions import local_functions, world_functions
from ecs_bg.local.options import LocalOptions
from ecs_bg.local.ports import free_port
from ecs_bg.simulate import definitions
from ecs_bg.simulate.deployment_report import BLUE, GREEN, Names, ProductionIntervals, deployment_report
from ecs_bg.simulate.outcome import Report

if TYPE_CHECKING:  # imported where used: a simulation refused at its files loads no server (aiohttp)
    from ecs_bg.local.server import LocalEcsServer
    from ecs_bg.simulate.loadgen import LoadGenerator

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
    """What a simulation deploys: the user's files, the local AWS it runs on (``local``), and what a
    scenario changes of what a user could change."""

    local: LocalOptions = field(default_factory=lambda: LocalOptions(config=None))
    config: Path | None = None  # default: found from the working directory (deploy.project)
    tasks: int | None = None  # default: the service's desiredCount
    blue_env: dict[str, str] = field(default_factory=dict)  # in blue's task definition
    green_env: dict[str, str] = field(default_factory=dict)  # in green's task definition
    load_rate: float = 40.0  # production requests a second: enough for the alarms to judge a bake soon
    load_path: str = "/api/products"
    hook_details: dict[str, dict[str, Any]] = field(default_factory=dict)  # hook name -> hookDetails added
    hook_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # hook name -> HOOK_FIELDS
    extra_hooks: tuple[HookSpec, ...] = ()
    spec_overrides: dict[str, Any] = field(default_factory=dict)  # SPEC_FIELDS
    function_entries: dict[str, Path] = field(default_factory=dict)  # hook name -> another entry file
    function_timeouts: dict[str, float] = field(default_factory=dict)  # hook name -> its timeout, real s
    pause_decisions: list[str] = field(default_factory=list)  # CONTINUE/ROLLBACK, one per PAUSE wait
    environ: dict[str, str] = field(default_factory=dict)  # for rendering the ecspresso files
    # Per revision (blue, green): template variables its task definition is rendered with.
    revision_environ: dict[str, dict[str, str]] = field(default_factory=dict)


class Simulation:
    def __init__(self, options: Options, on_update: Callable[[Simulation], None] | None = None) -> None:
        """Everything is read and checked here, before any process starts: a mistake is a
        ``DefinitionError`` naming the file and field."""
        self.options = options
        self.on_update = on_update or (lambda _: None)
        self.config = find_config(options.config)
        local = dataclasses.replace(options.local, cdk_json=find_cdk_json(options.local.cdk_json))
        region = load_config(self.config, options.environ).region or local.region
        self.cloud = read_cloud(find_template(local.template, local.cdk_json), region)
        definitions.refuse_definition_errors(self.config, self.cloud, options.environ)
        where = f"{local.sim_config or 'simulation.yml'}:"
        app = local_functions(local.cdk_json, local.lambda_dir, where=where)
        functions = world_functions(self.cloud, app, local.functions, where)
        self.files = definitions.load(self.config, self.cloud, functions, options.environ)
        self.ids = self.files.ids
        self._check_command()
        self.task_definitions = {group: self._task_definition(group) for group in (BLUE, GREEN)}
        self.configuration = self._configuration()
        try:
            spec = deployment_spec(self.configuration, first_deployment=False)
        except ValueError as error:
            raise DefinitionError(f"{self.files.definitions.service_file}: {error}") from None
        # The report names hooks as the service definition's order gives them, then the scenario's own;
        # the local ECS knows them by the ids the one parser of deploymentConfiguration gives them.
        names = (*self.files.hook_names, *(hook.hook_id for hook in options.extra_hooks))
        self.hook_names = {
            hook.hook_id: name + hook.hook_id.removeprefix(function_of(hook.hook_id))  # a repeat's #<index>
            for hook, name in zip(spec.hooks, names, strict=True)
        }
        self.function_names = [function_of(hook.hook_id) for hook in spec.hooks if hook.target_arn]
        by_hook = {function.hook_id: function for function in functions.values()}
        self.local_options = dataclasses.replace(
            local,
            config=None,
            clusters=(self.ids.cluster,),
            region=self.ids.region,
            functions=self._functions(by_hook),
        )
        self.server: LocalEcsServer | None = None
        self.deployment: Deployment | None = None  # green's, once UpdateService made it
        self.load: LoadGenerator | None = None
        self.task_definition_arns: dict[str, str] = {}  # blue's and green's, once registered
        self.production = ProductionIntervals()  # production requests over time, for the report
        # target group ARN -> blue or green: blue is created on targetGroupArn, green on the alternate
        balancer = (self.files.definitions.service.get("loadBalancers") or [{}])[0]
        alternate = (balancer.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
        self.group_names = {
            str(arn): name
            for arn, name in ((balancer.get("targetGroupArn"), BLUE), (alternate, GREEN))
            if arn
        }
        production, test = service_rules(self.files.definitions.service.get("loadBalancers"))
        self.roles = {rule: role for rule, role in ((production, PRODUCTION), (test, TEST)) if rule}

    # -- what the simulation sends ---------------------------------------------------------------------

    def _check_command(self) -> None:
        """simulation.yml's containers, when it names any, must name the container the load
        balancer routes to (``loadBalancers[].containerName``)."""
        commands = self.options.local.container_commands
        name = self.files.container
        if commands and name not in commands:
            raise DefinitionError(
                f"{self.options.local.sim_config}: containers has no command for {name!r}, the container "
                f"{self.files.definitions.service_file}: $.loadBalancers[0].containerName routes to "
                f"(configured: {', '.join(sorted(commands))})"
            )

    def _task_definition(self, group: str) -> dict[str, Any]:
        """The revision's own task definition (RegisterTaskDefinition's request), the scenario's
        environment added to the container the load balancer routes to."""
        options = self.options
        environ = {**options.environ, **options.revision_environ.get(group, {})}
        task = definitions.revision_task(self.config, environ, self.cloud)
        added = {"APP_COLOUR": group, **(options.blue_env if group == BLUE else options.green_env)}
        for container in task.get("containerDefinitions", []):
            if container.get("name") == self.files.container:
                kept = [item for item in container.get("environment", []) if item.get("name") not in added]
                container["environment"] = kept + [{"name": k, "value": v} for k, v in added.items()]
        return task

    def _configuration(self) -> dict[str, Any]:
        """green's ``deploymentConfiguration``: the service definition's, with the scenario's changes."""
        configuration: dict[str, Any] = copy.deepcopy(
            self.files.definitions.service.get("deploymentConfiguration", {})
        )
        for name, value in self.options.spec_overrides.items():
            _put(configuration, _field(SPEC_FIELDS, name, "spec_overrides"), value)
        hooks = configuration.setdefault("lifecycleHooks", [])
        for hook, hook_name in zip(hooks, self.files.hook_names, strict=True):
            details = self.options.hook_details.get(hook_name)
            if details:
                hook["hookDetails"] = {**(hook.get("hookDetails") or {}), **details}
            for name, value in self.options.hook_overrides.get(hook_name, {}).items():
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
        service = copy.deepcopy(self.files.definitions.service)
        configuration = service.get("deploymentConfiguration", {})
        service["deploymentConfiguration"] = {
            **{k: v for k, v in configuration.items() if k in ("maximumPercent", "minimumHealthyPercent")},
            "strategy": Strategy.BLUE_GREEN,
            "bakeTimeInMinutes": 0,
        }
        if self.options.tasks is not None:
            service["desiredCount"] = self.options.tasks
        return service

    def _functions(self, by_hook: dict[str, LambdaFunction]) -> dict[str, FunctionOverride]:
        """simulation.yml's functions, and a scenario's other entry file or timeout for a hook's function
        (``by_hook``: the functions by the name the scenarios use, before_install)."""
        overrides = dict(self.options.local.functions)

        def override(hook_name: str, **changes: Any) -> None:
            name = by_hook[hook_name].name
            overrides[name] = dataclasses.replace(overrides.get(name, FunctionOverride()), **changes)

        for hook_name, entry in self.options.function_entries.items():
            override(hook_name, code=str(entry.parent), handler=f"{entry.stem}.handler")
        for hook_name, seconds in self.options.function_timeouts.items():
            override(hook_name, timeout_seconds=seconds)
        return overrides

    def _alarm_names(self) -> list[str]:
        return list(self.configuration.get("alarms", {}).get("alarmNames", []))

    # -- the run ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The local AWS endpoint (empty until it serves)."""
        return self.server.url if self.server is not None else ""

    @property
    def engine(self) -> Engine | None:
        return self.deployment.engine if self.deployment is not None else None

    async def run(self) -> Report:
        # The ECS client is made (boto3 loads its model) while the endpoint starts on a port chosen here.
        port = free_port()
        client = asyncio.ensure_future(asyncio.to_thread(self._client, "ecs", f"http://127.0.0.1:{port}"))
        try:
            return await self._run(port, client)
        finally:  # its pooled connections go with the endpoint (many simulations may share a process)
            made = await asyncio.gather(client, return_exceptions=True)
            if not isinstance(made[0], BaseException):
                made[0].close()

    async def _run(self, port: int, client: asyncio.Future[Any]) -> Report:
        from ecs_bg.local.server import LocalEcsServer

        status = DeploymentStatus.STOPPED
        async with LocalEcsServer(
            dataclasses.replace(self.local_options, port=port), self.cloud, self.roles
        ) as server:
            self.server = server
            # The client comes first: blue's start waits for it, and the processes provisioning starts
            # would starve its thread of the interpreter and both cores (a second in a demo).
            ecs = await client
            # Green's hook functions initialize from now on (the local ECS would start at UpdateService),
            # while blue is created: the deployment then waits for what the hooks do, not their start
            # (an invocation that comes first waits for its function's init). The alarms it watches
            # exist from now on, as the stack made them before the service.
            provisioning = asyncio.ensure_future(server.prepare(self.function_names, self._alarm_names()))
            try:
                try:
                    await self._create_blue(ecs)
                    await self._start_load()
                    self.deployment = server.deployment(await self._update_to_green(ecs))
                except (BotoCoreError, ClientError) as error:
                    raise SimulationFailed(f"the local ECS refused the request: {error}") from None
                status = await self._follow(ecs)
            finally:
                provisioning.cancel()  # done unless the run ended early; then nobody needs it
                report = await self._finish(status)
        return report

    def _client(self, service: str, url: str) -> Any:
        from ecs_bg.local.endpoint import SIMULATION_APP_ID, endpoint_client

        return endpoint_client(service, url, self.ids.region, "simulation", appid=SIMULATION_APP_ID)

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
        deadline = time.monotonic() + BLUE_READY_SECONDS
        while True:
            listed = await asyncio.to_thread(
                ecs.list_service_deployments, cluster=self.ids.cluster, service=self.ids.service
            )
            first = listed["serviceDeployments"][0]
            if first["status"] in FINAL_DEPLOYMENT_STATUSES or time.monotonic() > deadline:
                break
            await asyncio.sleep(POLL)
        if first["status"] != DeploymentStatus.SUCCESSFUL:
            why = first.get("statusReason") or "it did not finish in time"
            raise SimulationFailed(f"blue, the service's first revision, never served: {why}")

    async def _start_load(self) -> None:
        from ecs_bg.simulate.loadgen import LoadGenerator

        assert self.server is not None
        # The first metrics period starts with the load: a count is scaled by its period's real length.
        await self.server.restart_metrics()
        self.load = LoadGenerator(
            self.server.listener_urls["production"] + self.options.load_path,
            rate=self.options.load_rate,
            duration=600,
            on_response=self._count_response,
        )
        self.load.start()

    async def _update_to_green(self, ecs: Any) -> str:
        """UpdateService to green; the ARN of the deployment it started."""
        answer = await asyncio.to_thread(
            ecs.update_service,
            cluster=self.ids.cluster,
            service=self.ids.service,
            taskDefinition=self.task_definition_arns[GREEN],
            deploymentConfiguration=self.configuration,
        )
        # The newest deployment is the one UpdateService started: no one else deploys this service.
        listed = await asyncio.to_thread(
            ecs.list_service_deployments, cluster=self.ids.cluster, service=answer["service"]["serviceArn"]
        )
        return str(listed["serviceDeployments"][0]["serviceDeploymentArn"])

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
        """How the report names target groups and hooks."""
        return Names(self.group_names, self.hook_names)

    async def _finish(self, status: DeploymentStatus) -> Report:
        load = await self.load.stop() if self.load is not None else None
        assert self.server is not None
        stats = self.server.traffic()  # final: the load has stopped
        deployment = self.deployment
        ended = time.monotonic()
        if deployment is not None and deployment.finished_at is not None:
            ended -= time.time() - deployment.finished_at
        await self.server.serve_watchers(ended, WATCHER_GRACE)
        if deployment is None or deployment.engine is None:
            return Report(status=status, stages=[], hook_invocations=[], traffic={}, wall_seconds=0.0)
        return deployment_report(
            deployment, status, self.names, stats, load, self.production.intervals(), self.local_options.speed
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
