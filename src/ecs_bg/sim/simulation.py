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

from ecs_bg.deploy.functions import FunctionOverride
from ecs_bg.hooks.ecs import DeploymentStatus, LifecycleHookStatus, WorkStage
from ecs_bg.sim import setup
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
from ecs_bg.sim.health import HealthCheck
from ecs_bg.sim.loadgen import LoadGenerator
from ecs_bg.sim.local_aws import SIMULATION_APP_ID, LocalAws
from ecs_bg.sim.plan import HookDetailsReading, HookSpec
from ecs_bg.sim.runner import CDK_JSON, Invocation, LambdaRunner
from ecs_bg.sim.tasks import LocalTasks

ROOT = Path(__file__).resolve().parents[3]
BLUE, GREEN = "blue", "green"  # the load balancer's groups: blue is live when the deployment starts
MIN_PROBE_TIMEOUT = 0.2  # real seconds: a shorter health-check timeout fails healthy tasks on a busy machine
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
    alarm_5xx_percent: float = 10.0  # green's 5xx share of its requests in a simulated minute that alarms
    environ: dict[str, str] = field(default_factory=dict)  # for rendering the ecspresso files


@dataclass
class Report:
    status: str
    stages: list[dict[str, Any]]
    hook_invocations: list[dict[str, Any]]
    traffic: dict[str, Any]
    wall_seconds: float
    rollback_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "rollbackReason": self.rollback_reason,
            "wallSeconds": round(self.wall_seconds, 3),
            "stages": self.stages,
            "hookInvocations": self.hook_invocations,
            "traffic": self.traffic,
        }


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
            **options.spec_overrides,
        )
        self.ids = self.spec.ids
        self.started = time.monotonic()
        self.ended: float | None = None  # when the deployment reached its final status
        self.engine = Engine(self.spec, self.sim_now)
        groups = setup.TARGET_GROUPS  # the stack's settings, on the simulation's clock
        self.lb = LocalLoadBalancer(
            health_check=health_check(groups, options.speed),
            deregistration_delay=groups.deregistration_delay / options.speed,
        )
        self.fleets: dict[str, AppFleet] = {}
        self.local_tasks = LocalTasks(self.ids, self._target_state, command=list(options.command))
        self.invocation_times: dict[str, Invocation] = {}
        self.weight_changes: list[dict[str, Any]] = []  # the report's traffic.weights
        # Production requests per TRAFFIC_INTERVAL bucket, per group (None: no answer), [requests, errors].
        self.production_counts: dict[int, dict[str | None, list[int]]] = {}
        self.wake = asyncio.Event()
        self.load: LoadGenerator | None = None

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

    async def _start_fleet(self, group: str, revision: str, env: dict[str, str]) -> AppFleet:
        fleet = AppFleet(
            revision, self._task_count(), {"APP_COLOUR": group, **env}, command=self.options.command
        )
        self.fleets[group] = fleet
        await fleet.start(ready_timeout=15.0)
        for task in fleet.tasks:
            self.lb.register(group, task.url)
        return fleet

    def _add_tasks(self, fleet: AppFleet, task_definition: str) -> None:
        """The fleet's processes become the service's tasks in ListTasks and DescribeTasks."""
        for task in fleet.tasks:
            self.local_tasks.add(task_definition, task.url, task)

    async def _scale_down(self, group: str) -> None:
        fleet = self.fleets.get(group)
        if fleet is None:
            self._feed(self.engine.scaled_down)
            return
        for url in fleet.urls:
            self.lb.deregister(group, url)
        await asyncio.gather(*(self.lb.drained(group, url, timeout=10.0) for url in fleet.urls))
        await fleet.stop(grace=2.0)
        self._feed(self.engine.scaled_down)

    async def _wait_green_healthy(self) -> None:
        """SCALE_UP: report green's health as the load balancer's checks find it."""
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and self.engine.status == DeploymentStatus.IN_PROGRESS
            and self.engine.stage == WorkStage.SCALE_UP
        ):
            states = [health.state for health in self.lb.target_health(GREEN)]
            fleet = self.fleets.get(GREEN)
            crashed = fleet is not None and any(task.crashed for task in fleet.tasks)
            if states and all(state == "healthy" for state in states):
                self._feed(lambda: self.engine.green_health(True))
                return
            if crashed or (states and all(state == "unhealthy" for state in states)):
                self._feed(lambda: self.engine.green_health(False))
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
        """Every simulated minute: the load balancer's numbers into CloudWatch, and the 5xx alarm
        judged on them, as CloudWatch evaluates a one-minute alarm."""
        cloudwatch = self._aws_client("cloudwatch")
        alarm = self.loaded.outputs.values["Http5xxAlarmName"]
        suffix = {
            BLUE: self.loaded.outputs.values["BlueTargetGroupArn"].split(":", 5)[5],
            GREEN: self.loaded.outputs.values["GreenTargetGroupArn"].split(":", 5)[5],
        }
        firing = False
        while True:
            await asyncio.sleep(setup.METRICS_PERIOD / self.options.speed)
            period = self.lb.take_metrics()
            data = []
            for group, metrics in period.groups.items():
                dimensions = [{"Name": "TargetGroup", "Value": suffix.get(group, group)}]
                data += [
                    {"MetricName": "RequestCount", "Dimensions": dimensions, "Value": metrics.request_count},
                    {
                        "MetricName": "HTTPCode_Target_5XX_Count",
                        "Dimensions": dimensions,
                        "Value": metrics.target_5xx_count,
                    },
                ]
                if metrics.target_response_time_avg is not None:
                    data.append(
                        {
                            "MetricName": "TargetResponseTime",
                            "Dimensions": dimensions,
                            "Value": metrics.target_response_time_avg,
                        }
                    )
            if data:
                await asyncio.to_thread(
                    cloudwatch.put_metric_data, Namespace="AWS/ApplicationELB", MetricData=data
                )
            green = period.groups.get(GREEN)
            share = 100 * green.target_5xx_count / green.request_count if green and green.request_count else 0
            now_firing = share > self.options.alarm_5xx_percent
            if now_firing != firing:
                firing = now_firing
                state = "ALARM" if firing else "OK"
                reason = (
                    f"green 5xx {share:.0f}% of its requests, threshold {self.options.alarm_5xx_percent:g}%"
                )
                await asyncio.to_thread(
                    cloudwatch.set_alarm_state, AlarmName=alarm, StateValue=state, StateReason=reason
                )
                self._feed(functools.partial(self.engine.alarm, firing))

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
        done = await self.runner.invoke(action.hook_id, action.event)
        self.invocation_times[action.invocation_id] = done
        self._feed(lambda: self.engine.hook_result(action.invocation_id, done.response, error=done.error))

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

    def _set_weights(self, production: dict[str, float], test: dict[str, float], *, at: float) -> None:
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
                self._start_fleet(BLUE, self.ids.blue_revision, self.options.blue_env),
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
            self.load.start()
            daemons.add(asyncio.create_task(self._publish_metrics()))
            daemons.add(asyncio.create_task(self._approve_pauses()))
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
        task = {k: v for k, v in self.loaded.definitions.task.items() if k not in ("tags",)}
        client = self._aws_client("ecs")
        self.blue_task_definition = client.register_task_definition(**task)["taskDefinition"][
            "taskDefinitionArn"
        ]
        self.green_task_definition = client.register_task_definition(**task)["taskDefinition"][
            "taskDefinitionArn"
        ]
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
            setup.put_gate_alarm(cloudwatch, name, self.options.alarm_5xx_percent)

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
            stages=[_stage_json(record) for record in self.engine.stages],
            hook_invocations=[self._invocation_json(record) for record in self.engine.invocations],
            traffic=_traffic(stats, load, self.weight_changes, self._production_intervals()),
            wall_seconds=(self.ended or time.monotonic()) - self.started,
            rollback_reason=self.engine.rollback_reason,
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


def _stage_json(record: Any) -> dict[str, Any]:
    entry = {"stage": str(record.stage), "start": round(record.start, 3), "end": None}
    if record.end is not None:
        entry["end"] = round(record.end, 3)
    if record.step is not None:
        entry["step"] = record.step
    if record.bake_start is not None:
        entry["bakeStart"] = round(record.bake_start, 3)
    return entry


def _traffic(
    stats: Any, load: Any, weights: list[dict[str, Any]], intervals: list[dict[str, Any]]
) -> dict[str, Any]:
    """Production as the load generator saw it (every request it sent), test as the load balancer
    counted it (the hooks' requests); per revision from the load balancer's target groups. Over time:
    each change of the listeners' weights, and production requests per interval."""

    def listener(name: str) -> dict[str, Any]:
        totals = stats.listeners.get(name)
        return {
            "requests": totals.requests if totals else 0,
            "errors": (totals.target_5xx + totals.elb_5xx) if totals else 0,
        }

    production: dict[str, Any] = {"loadBalancer": listener("production")}
    if load is not None:
        production |= {
            "requests": load.requests,
            "errors": load.errors,
            "byRevision": dict(load.by_group),
            "failures": [dataclasses.asdict(failure) for failure in load.failures[:20]],
            "intervals": intervals,
        }
    return {
        "production": production,
        "test": listener("test"),
        "byRevision": {
            g: {"requests": s.requests, "errors": s.target_5xx + s.elb_5xx} for g, s in stats.groups.items()
        },
        "weights": weights,
    }


def health_check(groups: setup.TargetGroupSettings, speed: float) -> HealthCheck:
    """The target groups' health check on the simulation's clock."""
    timeout = max(groups.timeout / speed, MIN_PROBE_TIMEOUT)
    return HealthCheck(
        path=groups.health_check_path,
        interval=max(groups.interval / speed, timeout),
        timeout=timeout,
        healthy_threshold=groups.healthy_threshold,
        unhealthy_threshold=groups.unhealthy_threshold,
        matcher=groups.healthy_http_codes,
    )
