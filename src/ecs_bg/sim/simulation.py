"""One simulated deployment: the lifecycle engine driving real hooks, apps, a load balancer and AWS.

The engine decides (stages, timers, verdicts); this module does what it asks with real local
things: hook entry files in Lambda-like workers, blue and green app processes behind the local load
balancer, a load generator on the production listener, and a local AWS endpoint (moto plus the
simulation's own ECS answers). The engine's clock is the wall clock sped up ``speed`` times, and so
is everything else ECS and the load balancer wait on (health-check cadence, deregistration delay,
metric periods): at 240x a one-minute bake takes a quarter second. Hooks and apps run in real time,
as they would on AWS.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import FunctionOverride
from ecs_bg.hooks.ecs import DeploymentStatus, LifecycleHookStatus, WorkStage
from ecs_bg.sim import alarms, metric_alarms, outcome, scheduler, setup
from ecs_bg.sim.apps import AppFleet
from ecs_bg.sim.balancer import LocalLoadBalancer
from ecs_bg.sim.control_plane import SimulatedEcs
from ecs_bg.sim.engine import (
    Engine,
    Finished,
    InvokeHook,
    ScaleDownBlue,
    ScaleDownGreen,
    ScaleUpGreen,
    SetTraffic,
)
from ecs_bg.sim.functions import local_functions
from ecs_bg.sim.health import FAILED, HealthCheck
from ecs_bg.sim.loadgen import LoadGenerator
from ecs_bg.sim.local_aws import SIMULATION_APP_ID, LocalAws
from ecs_bg.sim.outcome import Report
from ecs_bg.sim.plan import HookDetailsReading, HookSpec, RollbackHookFailure
from ecs_bg.sim.runner import CDK_JSON, Invocation, LambdaRunner
from ecs_bg.sim.tasks import LocalTasks

ROOT = Path(__file__).resolve().parents[3]
BLUE, GREEN = "blue", "green"  # the load balancer's groups: blue is live when the deployment starts
# Real seconds green's tasks get at least to start and pass their health checks in SCALE_UP: starting a
# process is real-time work, which the sped-up clock must not judge (30 simulated minutes are 7.5 s
# at 240x). A task that exits or answers its checks wrongly fails SCALE_UP at once instead.
SCALE_UP_REAL_SECONDS = 60.0
WATCHER_GRACE = 15.0  # real seconds the endpoint waits, after the end, for a watcher's next poll
# Simulated seconds per bucket of the report's production requests over time. Shorter than
# CloudWatch's minute because a simulated minute carries only a few requests at the default speed.
TRAFFIC_INTERVAL = 30.0


@dataclass
class Options:
    config: Path = ROOT / "ecspresso" / "ecspresso.yml"
    lambda_dir: Path | None = None  # the hooks' code folder; default: cdk.json's hookCode
    cdk_json: Path | None = CDK_JSON
    speed: float = 240.0  # simulated seconds per real second
    tasks: int | None = None  # default: the service's desiredCount
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "app"])
    # simulation.yml's command per container name; when it names any, the container the load balancer
    # routes to must be among them (else ``command``, the sample service, stands in for it).
    container_commands: dict[str, list[str]] = field(default_factory=dict)
    blue_env: dict[str, str] = field(default_factory=dict)
    green_env: dict[str, str] = field(default_factory=dict)
    function_timeout: float = 60.0  # real seconds; Lambda's 5 minutes would make a stuck hook slow to see
    load_rate: float = 20.0  # production requests a second
    load_path: str = "/api/products"
    hook_details: dict[str, dict[str, Any]] = field(default_factory=dict)  # hook_id -> hookDetails merged in
    hook_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # hook_id -> HookSpec fields
    extra_hooks: tuple[HookSpec, ...] = ()
    spec_overrides: dict[str, Any] = field(default_factory=dict)  # DeploymentSpec fields
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
        self.options = options
        self.on_update = on_update or (lambda _: None)
        functions = local_functions(options.cdk_json, options.lambda_dir, options.functions)
        self.loaded = setup.load(options.config, functions, options.environ)
        spec = self.loaded.spec
        hooks = tuple(
            dataclasses.replace(
                hook,
                hook_details={**hook.hook_details, **options.hook_details.get(hook.hook_id, {})},
                **options.hook_overrides.get(hook.hook_id, {}),
            )
            for hook in spec.hooks
        )
        self.spec = dataclasses.replace(
            spec,
            hooks=hooks + options.extra_hooks,
            hook_details_reading=options.hook_details_reading,
            real_time_invocations=True,
            rollback_hook_failure=options.rollback_hook_failure,
            scale_up_timeout_minutes=max(
                spec.scale_up_timeout_minutes, SCALE_UP_REAL_SECONDS * options.speed / 60
            ),
            **options.spec_overrides,
        )
        self.ids = self.spec.ids
        self.command = self._command()
        # Each revision's own task definition, and the environment its routed container gets from it.
        self.tasks = {
            group: setup.revision_task(
                options.config,
                {**options.environ, **options.revision_environ.get(group, {})},
                self.loaded.outputs,
            )
            for group in (BLUE, GREEN)
        }
        self.started = time.monotonic()
        self.ended: float | None = None  # when the deployment reached its final status
        self.engine = Engine(self.spec, self.sim_now)
        self.engine.bake_may_end = self._alarms_have_judged
        self.at_shift = (0, 0)  # the alarm board's (datapoints, minutes) at the last production shift
        self.heard = (0, 0)  # the alarm board's (datapoints, minutes) the engine has heard
        groups = setup.TARGET_GROUPS  # the stack's settings, on the simulation's clock
        self.lb = LocalLoadBalancer(
            health_check=health_check(groups, options.speed),
            deregistration_delay=groups.deregistration_delay / options.speed,
        )
        self.fleets: dict[str, AppFleet] = {}
        self.local_tasks = LocalTasks(self.ids, self._target_state, command=list(self.command))
        self.invocation_times: dict[str, Invocation] = {}
        self.weight_changes: list[dict[str, Any]] = []  # the report's traffic.weights
        # Production requests per TRAFFIC_INTERVAL bucket, per group (None: no answer), [requests, errors].
        self.production_counts: dict[int, dict[str | None, list[int]]] = {}
        self.wake = asyncio.Event()
        self.alarm_board = self._alarm_board()
        self.task_report: dict[str, Any] = {"replacements": []}
        self.final_state: dict[str, Any] = {}
        self.load: LoadGenerator | None = None

    def _command(self) -> list[str]:
        """The local command of the container ``loadBalancers[].containerName`` names."""
        commands = self.options.container_commands
        if not commands:
            return list(self.options.command)
        name = self.loaded.container
        if name not in commands:
            raise DefinitionError(
                f"{self.options.sim_config}: containers has no command for {name!r}, the container "
                f"{self.loaded.definitions.service_file}: $.loadBalancers[0].containerName routes to "
                f"(configured: {', '.join(sorted(commands))})"
            )
        return list(commands[name])

    def _alarm_board(self) -> alarms.AlarmBoard:
        """Each alarm the deployment watches, with what it measures: the stack's two are known, the
        user's are simulation.yml's ``alarms:``; any other is reported as not evaluated, with why."""
        outputs = self.loaded.outputs.values
        latency = setup.stack_context(self.options.cdk_json).alarm_latency_p95_seconds
        names = setup.alarm_names(self.loaded.definitions)
        known = {
            rule.name: rule
            for rule in alarms.stack_rules(names, outputs, self.options.alarm_5xx_percent, latency)
            if rule.measure != "unknown"
        }
        # A TargetGroup dimension names the group as targetgroup/NAME/ID, or by NAME alone.
        target_groups: dict[str, str] = {}
        for group, key in ((BLUE, "BlueTargetGroupArn"), (GREEN, "GreenTargetGroupArn")):
            value = outputs[key].split(":", 5)[5]
            target_groups |= {value: group, value.split("/")[1]: group}
        board = alarms.AlarmBoard([])
        for name in names:
            definition = self.options.alarm_definitions.get(name)
            if definition is not None:
                source = metric_alarms.series(definition, target_groups)
                if isinstance(source, str):
                    board.not_evaluated[name] = source
                else:
                    board.metric_alarms.append(metric_alarms.MetricAlarm(name, definition, source))
            elif name in known:
                board.rules.append(known[name])
            else:
                board.not_evaluated[name] = (
                    "not one of the stack's alarms, and simulation.yml's alarms does not define it"
                )
        return board

    def sim_now(self) -> float:
        return (time.monotonic() - self.started) * self.options.speed

    # -- the world ------------------------------------------------------------------------------------

    def _group(self, revision_arn: str) -> str:
        return GREEN if revision_arn == self.ids.green_arn else BLUE

    def _target_state(self, url: str) -> str:
        for group in (BLUE, GREEN):
            for health in self.lb.target_health(group):
                if health.target == url:
                    return health.state
        return "unused"

    def _target_health(self, target_group_arn: str) -> list[dict[str, Any]]:
        outputs = self.loaded.outputs.values
        group = GREEN if target_group_arn == outputs["GreenTargetGroupArn"] else BLUE
        descriptions = []
        for health in self.lb.target_health(group):
            host, port = health.target.removeprefix("http://").split(":")
            state: dict[str, Any] = {"State": health.state}
            if health.reason:
                state |= {"Reason": health.reason, "Description": health.description or ""}
            descriptions.append({"Target": {"Id": host, "Port": int(port)}, "TargetHealth": state})
        return descriptions

    def _counts(self, revision_arn: str) -> tuple[int, int]:
        fleet = self.fleets.get(self._group(revision_arn))
        if fleet is None:
            return (self._task_count() if revision_arn == self.ids.green_arn else 0, 0)
        return len(fleet.tasks), sum(1 for task in fleet.tasks if task.returncode is None)

    def _task_count(self) -> int:
        return self.options.tasks or int(self.loaded.definitions.service.get("desiredCount", 1))

    async def _start_fleet(
        self, group: str, revision: str, env: dict[str, str], *, ready_timeout: float = 0.0
    ) -> AppFleet:
        """Start the revision's tasks and register them with the load balancer, as ECS registers a task
        once it runs, whether or not its app listens yet (the health checks find out)."""
        container = setup.container_environment(self.tasks[group], self.loaded.container)
        environment = {**container, "APP_COLOUR": group, **env}
        fleet = AppFleet(revision, self._task_count(), environment, command=self.command)
        self.fleets[group] = fleet
        await fleet.start(ready_timeout=ready_timeout)
        for task in fleet.tasks:
            self.lb.register(group, task.url)
        return fleet

    def _state(self) -> dict[str, Any]:
        """What the deployment left at its final status: the listeners' weights and each revision's
        running tasks (the simulator stops every process afterwards, whatever ECS would keep)."""
        return {
            "production": self.lb.weights("production"),
            "test": self.lb.weights("test"),
            "runningTasks": {
                group: sum(1 for task in fleet.tasks if task.returncode is None)
                for group, fleet in self.fleets.items()
            },
            "greenServing": self.lb.weights("production").get(GREEN, 0) > 0
            or self.lb.weights("test").get(GREEN, 0) > 0,
        }

    def _replaced(self, group: str, task: Any) -> None:
        definition = self.green_task_definition if group == GREEN else self.blue_task_definition
        self.local_tasks.add(definition, task.url, task)

    def _add_tasks(self, fleet: AppFleet, task_definition: str) -> None:
        """The fleet's processes become the service's tasks in ListTasks and DescribeTasks."""
        for task in fleet.tasks:
            self.local_tasks.add(task_definition, task.url, task)

    async def _scale_down(self, group: str) -> None:
        fleet = self.fleets.get(group)
        if fleet is None:
            self._feed(self.engine.scaled_down)
            return
        if group == BLUE and not await self._green_serving():
            # CLEAN_UP removes blue only once green serves; with no green task alive, blue stays and
            # the deployment fails (and rolls back) instead of leaving production with no target.
            why = "no green task is alive and healthy at CLEAN_UP; blue is not scaled down"
            self._feed(functools.partial(self.engine.green_failed, why))
            return
        fleet.retiring = True
        for url in fleet.urls:
            self.lb.deregister(group, url)
        await asyncio.gather(*(self.lb.drained(group, url, timeout=10.0) for url in fleet.urls))
        await fleet.stop(grace=2.0)
        self._feed(self.engine.scaled_down)

    async def _green_serving(self) -> bool:
        """Whether a green task is alive and healthy, waiting (in real time) for a replacement the
        scheduler has started to pass its health checks."""
        deadline = time.monotonic() + SCALE_UP_REAL_SECONDS
        while time.monotonic() < deadline:
            if any(target.state == "healthy" for target in self.lb.target_health(GREEN)):
                return True
            await asyncio.sleep(0.05)
        return False

    async def _wait_green_healthy(self) -> None:
        """SCALE_UP: report green's health as the load balancer's checks find it. A task that exits,
        or a target found unhealthy by what its app answered (a wrong code, no answer within the
        probe's timeout), fails it; a refused connection only means the app is not listening yet,
        which the SCALE_UP allowance covers."""
        while self.engine.status == DeploymentStatus.IN_PROGRESS and self.engine.stage == WorkStage.SCALE_UP:
            health = self.lb.target_health(GREEN)
            fleet = self.fleets.get(GREEN)
            crashed = [task for task in fleet.tasks if task.crashed] if fleet is not None else []
            if health and all(target.state == "healthy" for target in health):
                self._feed(lambda: self.engine.green_health(True))
                return
            answered_wrong = [
                target for target in health if target.state == "unhealthy" and target.reason != FAILED[0]
            ]
            if crashed:
                why = f"a green task exited with status {crashed[0].returncode} during SCALE_UP"
                self._feed(functools.partial(self.engine.green_failed, why))
            elif answered_wrong:
                target = answered_wrong[0]
                why = f"green target {target.target} failed its health checks: {target.description}"
                self._feed(functools.partial(self.engine.green_failed, why))
            await asyncio.sleep(0.05)

    # -- AWS --------------------------------------------------------------------------------------------

    def _aws_client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=self.ids.region,
            endpoint_url=self.aws.url,
            aws_access_key_id="simulation",
            aws_secret_access_key="simulation",  # noqa: S106 - the local endpoint checks nothing
            config=Config(user_agent_appid=SIMULATION_APP_ID),  # type: ignore[call-arg]  # stubs lag botocore
        )

    async def _publish_metrics(self) -> None:
        """Every simulated minute: the load balancer's numbers into CloudWatch, and each deployment alarm
        judged on what it measures (ecs_bg.sim.alarms). Nothing that fails here stops the next minute."""
        cloudwatch = self._aws_client("cloudwatch")
        outputs = self.loaded.outputs.values
        suffix = {
            BLUE: alarms.target_group_dimension(outputs["BlueTargetGroupArn"]),
            GREEN: alarms.target_group_dimension(outputs["GreenTargetGroupArn"]),
        }
        board = self.alarm_board
        while True:
            await asyncio.sleep(setup.METRICS_PERIOD / self.options.speed)
            period = self.lb.take_metrics()
            await alarms.publish(board.problems, cloudwatch, period, lambda group: suffix.get(group, group))
            changed = board.judge(period, self.sim_now())
            if changed:
                self._feed(functools.partial(self.engine.alarm, board.in_alarm, board.describe_firing()))
            # Only now may a held bake count this datapoint: the engine has heard its verdict.
            self.heard = (board.datapoints, board.minutes)
            await alarms.set_states(board.problems, cloudwatch, changed)

    async def _approve_pauses(self) -> None:
        """Act on PAUSE hooks as an operator would, through the ECS API: one decision per wait."""
        ecs = self._aws_client("ecs")
        decisions = list(self.options.pause_decisions)
        while decisions:
            await asyncio.sleep(0.2)
            for hook in self.engine.lifecycle_hook_details():
                if hook.get("status") == LifecycleHookStatus.AWAITING_ACTION and decisions:
                    await asyncio.to_thread(
                        ecs.continue_service_deployment,
                        serviceDeploymentArn=self.ids.deployment_arn,
                        hookId=hook["hookId"],
                        action=decisions.pop(0),
                    )

    # -- the loop -------------------------------------------------------------------------------------

    def _feed(self, step: Callable[[], list[Any]]) -> None:
        self.pending.extend(step())
        self.wake.set()

    async def _invoke(self, action: InvokeHook) -> None:
        began = time.monotonic()
        done = await self.runner.invoke(action.hook_id, action.event)
        real = time.monotonic() - began  # cold start included: ECS waits for the whole Invoke
        self.invocation_times[action.invocation_id] = done
        self._feed(
            lambda: self.engine.hook_result(
                action.invocation_id, done.response, error=done.error, real_seconds=real
            )
        )

    def _perform(self, action: Any, work: set[asyncio.Task[Any]]) -> DeploymentStatus | None:
        def spawn(coroutine: Any) -> None:
            task = asyncio.create_task(coroutine)
            work.add(task)
            task.add_done_callback(work.discard)

        if isinstance(action, InvokeHook):
            spawn(self._invoke(action))
        elif isinstance(action, ScaleUpGreen):
            spawn(self._scale_up_green())
        elif isinstance(action, SetTraffic):
            self._set_weights(
                {self._group(arn): w for arn, w in action.production.items()},
                {self._group(arn): w for arn, w in action.test.items()},
                at=self.sim_now(),
            )
        elif isinstance(action, ScaleDownBlue):
            spawn(self._scale_down(BLUE))
        elif isinstance(action, ScaleDownGreen):
            spawn(self._scale_down(GREEN))
        elif isinstance(action, Finished):
            return action.status
        return None

    def _alarms_have_judged(self) -> bool:
        """A bake ends only once the alarms that can roll back have judged two datapoints of the real
        traffic since the last production shift: ECS's bake is on its own (sped-up) clock, the traffic
        the alarms measure is real, and a real bake always holds many datapoints."""
        board = self.alarm_board
        if not (self.spec.alarms_rollback and board.evaluates_any):
            return True
        return board.heard_enough(self.heard, since=self.at_shift)

    def _set_weights(self, production: dict[str, float], test: dict[str, float], *, at: float) -> None:
        if production != self.lb.weights("production"):
            # A window already under way holds traffic from before the shift: it does not count.
            board = self.alarm_board
            # A minute under way holds traffic from before the shift too: the user's alarms skip it.
            self.at_shift = (board.datapoints + bool(board.window), board.minutes + 1)
        self.lb.set_weights("production", production)
        self.lb.set_weights("test", test)
        self.weight_changes.append({"at": round(at, 3), "production": production, "test": test})

    def _count_response(self, group: str | None, failed: bool) -> None:
        bucket = self.production_counts.setdefault(int(self.sim_now() // TRAFFIC_INTERVAL), {})
        counts = bucket.setdefault(group, [0, 0])
        counts[0] += 1
        counts[1] += failed

    async def _scale_up_green(self) -> None:
        fleet = await self._start_fleet(GREEN, self.ids.green_revision, self.options.green_env)
        self._add_tasks(fleet, self.green_task_definition)
        await self._wait_green_healthy()

    async def run(self) -> Report:
        self.pending: list[Any] = []
        ecs = SimulatedEcs(
            self.ids,
            self.engine,
            revisions={},
            task_source=self.local_tasks,
            counts=self._counts,
            first_deployment=self.spec.first_deployment,
            apply=self._feed,
            to_epoch=lambda moment: time.time() + (moment - self.sim_now()) / self.options.speed,
        )
        self.aws = LocalAws(ecs.answers(), self._target_health)
        work: set[asyncio.Task[Any]] = set()  # what the engine asked for: invocations, scaling
        daemons: set[asyncio.Task[Any]] = set()  # metrics and the PAUSE operator, until the end
        status = DeploymentStatus.STOPPED
        try:
            urls = await self.lb.start()
            await self.aws.start()
            # Blue's tasks start while moto learns the task definitions and alarms: boto3 blocks, so it
            # runs in a thread and this loop serves the endpoint.
            blue, _ = await asyncio.gather(
                self._start_fleet(BLUE, self.ids.blue_revision, self.options.blue_env, ready_timeout=30.0),
                asyncio.to_thread(self._prepare_aws, ecs),
            )
            self._add_tasks(blue, self.blue_task_definition)
            # Both groups sit on the production rule (green at 0), so green is health-checked from its
            # first task on, as ECS's weighted forward keeps the alternate group attached.
            self._set_weights({BLUE: 100, GREEN: 0}, {BLUE: 100, GREEN: 0}, at=0.0)
            self.runner = self._runner(urls.production, urls.test)
            self.load = LoadGenerator(
                urls.production + self.options.load_path,
                rate=self.options.load_rate,
                duration=600,
                on_response=self._count_response,
            )
            # The first metrics period starts with the load, not when the balancer started while blue
            # booted: a count is scaled by its period's real length (ecs_bg.sim.metric_alarms).
            self.lb.take_metrics()
            self.load.start()
            daemons.add(asyncio.create_task(self._publish_metrics()))
            daemons.add(asyncio.create_task(self._approve_pauses()))
            daemons.add(
                asyncio.create_task(
                    scheduler.keep_desired_count(
                        self.fleets,
                        self.lb,
                        now=self.sim_now,
                        on_replaced=self._replaced,
                        replacements=self.task_report["replacements"],
                    )
                )
            )
            self.started = time.monotonic()
            self.pending.extend(self.engine.start())
            finished = None
            while finished is None:
                actions, self.pending = self.pending, []
                for action in actions:
                    finished = finished or self._perform(action, work)
                self.on_update(self)
                if finished is not None:
                    self.ended = time.monotonic()
                    self.final_state = self._state()
                    break
                timer = self.engine.next_timer()
                delay = 0.25 if timer is None else max(0.0, (timer - self.sim_now()) / self.options.speed)
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=min(delay, 0.25))
                self.pending.extend(self.engine.advance())
            status = finished
            # Let the last scale-down drain before the load stops, so its requests are counted.
            if work:
                await asyncio.wait(work, timeout=30)
        finally:
            report = await self._finish(status, work | daemons)
        return report

    def _prepare_aws(self, ecs: SimulatedEcs) -> None:
        """Register blue's and green's task definitions and the gate alarms in moto."""
        client = self._aws_client("ecs")

        def register(group: str) -> str:
            task = {k: v for k, v in self.tasks[group].items() if k not in ("tags",)}
            return str(client.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"])

        self.blue_task_definition = register(BLUE)
        self.green_task_definition = register(GREEN)
        outputs = self.loaded.outputs.values
        for arn, definition, group in (
            (self.ids.blue_arn, self.blue_task_definition, outputs["BlueTargetGroupArn"]),
            (self.ids.green_arn, self.green_task_definition, outputs["GreenTargetGroupArn"]),
        ):
            ecs.revisions[arn] = {
                "clusterArn": ecs.cluster_arn,
                "taskDefinition": definition,
                "launchType": "FARGATE",
                "networkConfiguration": self.loaded.definitions.service.get("networkConfiguration", {}),
                "loadBalancers": self.loaded.definitions.service.get("loadBalancers", []),
                "resolvedConfiguration": {"loadBalancers": [{"targetGroupArn": group}]},
            }
        cloudwatch = self._aws_client("cloudwatch")
        for name in setup.alarm_names(self.loaded.definitions):
            defined = self.options.alarm_definitions.get(name)
            if defined is None:
                setup.put_gate_alarm(cloudwatch, name, self.options.alarm_5xx_percent)
            else:  # as the user defined it: a hook's DescribeAlarms sees their definition
                cloudwatch.put_metric_alarm(**defined.put_metric_alarm(name))

    def _runner(self, production_url: str, test_url: str) -> LambdaRunner:
        environment = {
            "AWS_ENDPOINT_URL": self.aws.url,
            "AWS_SDK_UA_APP_ID": SIMULATION_APP_ID,
            "AWS_ACCESS_KEY_ID": "simulation",
            "AWS_SECRET_ACCESS_KEY": "simulation",
            "AWS_DEFAULT_REGION": self.ids.region,
            "AWS_REGION": self.ids.region,
            "ECS_BG_ENV": self.loaded.outputs.values["Environment"],
            "ECS_BG_TEST_URL": test_url,
            "ECS_BG_PRODUCTION_URL": production_url,
            "ECS_BG_ALARM_NAMES": ",".join(setup.alarm_names(self.loaded.definitions)),
            **self.options.environment,
        }
        functions = {}
        for hook_id, function in self.loaded.functions.items():
            if (
                function.name not in self.options.functions
                or not self.options.functions[function.name].timeout_seconds
            ):
                # The simulation's cap (functionTimeoutSeconds) unless functions: sets this one's.
                timeout = min(function.timeout_seconds, self.options.function_timeout)
                function = dataclasses.replace(function, timeout_seconds=timeout)
            if hook_id in self.options.function_entries:
                entry = self.options.function_entries[hook_id]
                function = dataclasses.replace(function, code=entry.parent, handler=f"{entry.stem}.handler")
            functions[hook_id] = function
        return LambdaRunner(functions, environment=environment, cwd=ROOT)

    async def _finish(self, status: str, background: set[asyncio.Task[Any]]) -> Report:
        load = await self.load.stop() if self.load is not None else None
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        stats = self.lb.stats()  # final: the load has stopped
        runner = getattr(self, "runner", None)
        await asyncio.gather(
            *([runner.close()] if runner is not None else []),
            *(fleet.stop(grace=2.0) for fleet in self.fleets.values()),
            self.local_tasks.close(),
            self.lb.close(),
        )
        await self.aws.serve_watchers(self.ended or time.monotonic(), WATCHER_GRACE)
        await self.aws.stop()
        return Report(
            status=status,
            stages=[outcome.stage_json(record) for record in self.engine.stages],
            hook_invocations=[self._invocation_json(record) for record in self.engine.invocations],
            traffic=outcome.traffic(stats, load, self.weight_changes, self._production_intervals()),
            wall_seconds=(self.ended or time.monotonic()) - self.started,
            rollback_reason=self.engine.rollback_reason,
            alarms=self.alarm_board.to_json(),
            tasks=self.task_report,
            step_bakes=outcome.step_bakes(self.engine.stages),
            pause_hooks=outcome.pause_hooks(self.engine.pauses),
            final_state=self.final_state,
            rollback_problems=list(self.engine.rollback_problems),
            status_reason=self.engine.status_reason,
        )

    def _production_intervals(self) -> list[dict[str, Any]]:
        intervals = []
        for index, groups in sorted(self.production_counts.items()):
            intervals.append(
                {
                    "start": index * TRAFFIC_INTERVAL,
                    "end": (index + 1) * TRAFFIC_INTERVAL,
                    "requests": sum(counts[0] for counts in groups.values()),
                    "errors": sum(counts[1] for counts in groups.values()),
                    "byRevision": {
                        group: {"requests": counts[0], "errors": counts[1]}
                        for group, counts in groups.items()
                        if group is not None
                    },
                }
            )
        return intervals

    def hook_reason(self, record: Any) -> str:
        """ECS's reason for a bad answer, else the hook's own from its ``hook decision`` log line."""
        if record.reason:
            return str(record.reason)
        done = self.invocation_times.get(record.invocation_id)
        decisions = [line for line in (done.logs if done else []) if line.get("message") == "hook decision"]
        return str(decisions[-1].get("reason") or "") if decisions else ""

    def _invocation_json(self, record: Any) -> dict[str, Any]:
        done = self.invocation_times.get(record.invocation_id)
        return {
            "hook": record.hook_id,
            "stage": str(record.stage),
            "step": record.step,
            "rollback": record.rollback,
            "hookStatus": record.hook_status,
            "callBackDelay": record.callback_delay,
            "durationMs": done.duration_ms if done else None,
            "cold": done.cold if done else None,
            "reason": self.hook_reason(record),
            # The function's own output (print, logging, stderr) and where Lambda would keep it.
            "requestId": done.request_id if done else None,
            "logGroup": done.log_group if done else None,
            "logStream": done.log_stream if done else None,
            "output": done.output if done else "",
            "start": round(record.started, 3),
            "end": round(record.ended, 3) if record.ended is not None else None,
        }


def health_check(groups: setup.TargetGroupSettings, speed: float) -> HealthCheck:
    """The target groups' health check: the interval on the simulation's clock, the timeout on the
    wall clock. An app answers in real time, so the stack's 5 s wait for an answer stays 5 s at any
    speed; a probe that takes long delays the next one (they never overlap)."""
    return HealthCheck(
        path=groups.health_check_path,
        interval=groups.interval / speed,
        timeout=groups.timeout,
        healthy_threshold=groups.healthy_threshold,
        unhealthy_threshold=groups.unhealthy_threshold,
        matcher=groups.healthy_http_codes,
    )
