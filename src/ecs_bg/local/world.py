"""The things a local ECS acts on: the stack's load balancer (production and test listeners, their
rules' weights over the two target groups), the tasks as app processes, and the hook functions.

The stack is the simulation's (``setup.SimulationOutputs``): its target groups and listener rules
exist from the start with production on the blue group, as after ``cdk deploy``. Each hook
invocation's log lines go to CloudWatch Logs ``/aws/lambda/<function>`` (moto, behind the same
endpoint), as Lambda writes them; the load balancer's metrics go to CloudWatch (``alarm_watch``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecs_bg.deploy.functions import FunctionOverride
from ecs_bg.deploy.paths import CDK_JSON
from ecs_bg.deploy.paths import REPOSITORY_ROOT as ROOT
from ecs_bg.deploy.stack_context import Env
from ecs_bg.hooks.aws import error_code
from ecs_bg.hooks.ecs import TaskStatus
from ecs_bg.lifecycle.plan import HookDetailsReading, RollbackHookFailure
from ecs_bg.local.cloudwatch import alarms, metric_alarms
from ecs_bg.local.cloudwatch.alarm_watch import AlarmWatch
from ecs_bg.local.ecs.models import Task
from ecs_bg.local.elbv2.balancer import LocalLoadBalancer
from ecs_bg.local.elbv2.health import HealthCheck
from ecs_bg.local.endpoint import SIMULATION_APP_ID
from ecs_bg.local.lambda_.functions import local_functions
from ecs_bg.local.lambda_.runner import Invocation, LambdaRunner
from ecs_bg.local.runtime.process import AppProcess
from ecs_bg.simulate import setup

HEALTH = {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY"}


@dataclass
class WorldOptions:
    region: str = "ap-northeast-1"
    environment: Env = "dev"  # the stack's: names its functions (ecs-bg-<hook>-<env>) and cluster
    speed: float = 240.0  # simulated seconds per real second: health checks and deregistration delay
    command: Sequence[str] = (sys.executable, "-m", "app")  # a task's process, unless configured:
    # simulation.yml's containers: by container name (the one a service's load balancer routes to)
    container_commands: Mapping[str, Sequence[str]] = field(default_factory=dict)
    sim_config: Path | None = None  # the simulation.yml these options came from, for errors
    lambda_dir: Path | None = None  # replaces the stack's hookCode folder of <hook>_hook.py entry files
    cdk_json: Path | None = CDK_JSON
    # simulation.yml's functions: by function name, over the stack's (code already absolute)
    functions: Mapping[str, FunctionOverride] = field(default_factory=dict)
    # Real seconds a function may run, unless functions: sets its own timeoutSeconds: Lambda's 15
    # minutes would make a stuck hook slow to see.
    function_timeout: float = 60.0
    hook_environment: Mapping[str, str] = field(default_factory=dict)  # for every hook function
    # UNCONFIRMED in ECS, so each reading can be played: how ECS passes IN_PROGRESS hookDetails on,
    # and what a rollback does when a hook fails during it (ecs_bg.lifecycle.plan).
    hook_details_reading: HookDetailsReading = "replace"
    rollback_hook_failure: RollbackHookFailure = "fail"
    alarm_5xx_percent: float = alarms.PERCENT_5XX  # the 5xx share that breaches the stack's 5xx alarm
    # simulation.yml's alarms: by name, as PutMetricAlarm defines them, judged as CloudWatch would.
    alarm_definitions: Mapping[str, metric_alarms.AlarmDefinition] = field(default_factory=dict)


@dataclass
class Rules:
    """The production and test listener rules' weighted forwards, by target group ARN."""

    production: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)


class World:
    def __init__(self, options: WorldOptions) -> None:
        self.options = options
        # The functions hooks may name: the stack's, as the CDK app builds them, and simulation.yml's.
        self.functions = local_functions(
            options.cdk_json,
            options.lambda_dir,
            options.functions,
            where=f"{options.sim_config or 'simulation.yml'}:",
            env=options.environment,
        )
        # The stack's outputs, its hook functions' ARNs among them (what cfn_output resolves).
        self.outputs = setup.SimulationOutputs(options.region, options.environment, self.functions.values())
        groups = setup.TARGET_GROUPS
        self.lb = LocalLoadBalancer(
            health_check=health_check(groups, options.speed),
            deregistration_delay=groups.deregistration_delay / options.speed,
        )
        values = self.outputs.values
        self.blue_group, self.green_group = values["BlueTargetGroupArn"], values["GreenTargetGroupArn"]
        self.rules = Rules()
        self.processes: dict[str, AppProcess] = {}  # task ARN -> its process
        self.runners: dict[str, LambdaRunner] = {}  # function name -> its runner
        self.endpoint = ""  # the local AWS endpoint the hooks call
        self._clients: dict[str, Any] = {}  # by service: boto3 clients are thread-safe, costly to make
        self._clients_lock = threading.Lock()
        self._log_streams: set[tuple[str, str]] = set()  # (group, stream) made in CloudWatch Logs
        self.alarm_watch = AlarmWatch(self.lb, lambda: self.client("cloudwatch"), options.speed)
        self._latency = setup.stack_context(options.cdk_json).alarm_latency_p95_seconds

    def alarm_board(self, names: list[str]) -> alarms.AlarmBoard:
        """Each alarm a deployment watches, with what it measures: the stack's two are known, the
        user's are simulation.yml's ``alarms:``; any other is reported as not evaluated, with why."""
        outputs = self.outputs.values
        known = {
            rule.name: rule
            for rule in alarms.stack_rules(names, outputs, self.options.alarm_5xx_percent, self._latency)
            if rule.measure != "unknown"
        }
        # A TargetGroup dimension names the group as targetgroup/NAME/ID, or by NAME alone; the load
        # balancer names its groups by ARN.
        target_groups: dict[str, str] = {}
        for arn in (self.blue_group, self.green_group):
            value = arn.split(":", 5)[5]
            target_groups |= {value: arn, value.split("/")[1]: arn}
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

    async def start(self, endpoint: str) -> None:
        self.endpoint = endpoint
        await self.lb.start()
        self.alarm_watch.start()
        # As the stack leaves them: both rules forward to blue, green attached at weight 0.
        self.set_weights(
            {self.blue_group: 100, self.green_group: 0}, {self.blue_group: 100, self.green_group: 0}
        )

    async def close(self) -> None:
        await self.alarm_watch.close()
        await asyncio.gather(
            *(process.stop(grace=2.0) for process in self.processes.values()),
            *(runner.close() for runner in self.runners.values()),
        )
        await self.lb.close()

    # -- the load balancer ---------------------------------------------------------------------------

    def set_weights(self, production: dict[str, float], test: dict[str, float]) -> None:
        """Replace each rule's weights; a group the rule already forwards to stays on it at 0, as
        ECS's weighted forward names both groups."""
        self.rules.production = {**dict.fromkeys(self.rules.production, 0.0), **production}
        self.rules.test = {**dict.fromkeys(self.rules.test, 0.0), **test}
        self.lb.set_weights("production", self.rules.production)
        self.lb.set_weights("test", self.rules.test)

    def attach(self, group: str) -> None:
        """Put ``group`` on both rules (weight 0 when new), so its targets are health-checked; every
        other group keeps its weight (production stays where it is until ECS shifts it)."""
        self.set_weights({group: 0.0, **self.rules.production}, {group: 0.0, **self.rules.test})

    def healthy(self, group: str, tasks: list[Task]) -> bool:
        """Every task is registered in ``group`` and passes its health checks."""
        wanted = {task.url for task in tasks}
        states = [health.state for health in self.lb.target_health(group) if health.target in wanted]
        return len(states) == len(wanted) and all(state == "healthy" for state in states)

    def task_health(self, task: Task, group: str | None) -> str:
        if group is None or task.url is None:
            return "UNKNOWN"
        for health in self.lb.target_health(group):
            if health.target == task.url:
                return HEALTH.get(health.state, "UNKNOWN")
        return "UNKNOWN"

    # -- tasks ---------------------------------------------------------------------------------------

    def command(self, container: str) -> Sequence[str] | str:
        """The local command of a service task's ``container`` (its ``loadBalancers[].containerName``),
        as ``ecs-bg simulate`` picks it; a string says why there is none."""
        commands = self.options.container_commands
        if not commands:
            return self.options.command
        if container not in commands:
            return (
                f"CannotStartContainerError: {self.options.sim_config}: containers has no command for "
                f"{container!r}, the container the service's loadBalancers[0].containerName routes to "
                f"(configured: {', '.join(sorted(commands))})"
            )
        return commands[container]

    async def start_task(self, task: Task, environment: dict[str, str], command: Sequence[str] | str) -> bool:
        """Start a service task's process: RUNNING once its container has started, as ECS reports it
        (PENDING "is preparing to enter the RUNNING state"; the agent reports PENDING to RUNNING when
        the containers run: "Amazon ECS task state change events", ECS developer guide,
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html); whether its
        app serves is the load balancer's health checks' to find. False if there is no process
        (``command`` a string: there is none to run, and this is why)."""
        if isinstance(command, str):
            self._stopped(task, command)
            return False
        await self._start(task, environment, command)
        task.last_status, task.started_at = TaskStatus.RUNNING, time.time()
        return True

    def exited(self, task: Task) -> int | None:
        """The exit status of a task's process that ended on its own (not stopped), else None."""
        process = self.processes.get(task.arn)
        return process.returncode if process is not None and process.crashed else None

    def task_stopped(self, task: Task, group: str | None) -> None:
        """A task whose process exited: off the load balancer (no request goes to it any more) and
        STOPPED as ECS reports an essential container's exit."""
        if group is not None and task.url is not None:
            self.lb.deregister(group, task.url)
        task.exit_code = self.exited(task)
        self._stopped(task, "Essential container in task exited")

    async def run_task(self, task: Task, environment: dict[str, str], command: Sequence[str]) -> None:
        """A one-off task (RunTask): it runs to its exit and serves nothing."""
        process = await self._start(task, environment, command)
        task.last_status, task.started_at = TaskStatus.RUNNING, time.time()
        asyncio.get_running_loop().create_task(self._await_exit(task, process))

    async def _start(self, task: Task, environment: dict[str, str], command: Sequence[str]) -> AppProcess:
        process = AppProcess(environment, command=command, cwd=ROOT)
        self.processes[task.arn] = process
        task.url = process.url
        task.last_status = TaskStatus.PENDING
        await process.start()
        return process

    async def _await_exit(self, task: Task, process: AppProcess) -> None:
        task.exit_code = await process.wait_exit(timeout=24 * 3600)
        self._stopped(task, "Essential container in task exited")

    async def stop_task(self, task: Task, group: str | None, reason: str) -> None:
        """Deregister (and drain), then SIGTERM as ECS stops a task."""
        task.desired_status = TaskStatus.STOPPED
        if task.last_status == TaskStatus.STOPPED:
            return
        if group is not None and task.url is not None:
            self.lb.deregister(group, task.url)
            await self.lb.drained(group, task.url, timeout=10.0)
        process = self.processes.get(task.arn)
        if process is not None:
            task.exit_code = await process.stop(grace=2.0)
        self._stopped(task, reason)

    @staticmethod
    def _stopped(task: Task, reason: str) -> None:
        if task.last_status != TaskStatus.STOPPED:
            task.last_status, task.desired_status = TaskStatus.STOPPED, TaskStatus.STOPPED
            task.stopped_at, task.stopped_reason = time.time(), reason

    # -- hooks ---------------------------------------------------------------------------------------

    def hook_environment(self, alarm_names: list[str]) -> dict[str, str]:
        urls = self.lb.urls
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            # The local ECS's own callers; the endpoint tells them from someone watching from outside.
            "AWS_SDK_UA_APP_ID": SIMULATION_APP_ID,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": self.options.region,
            "AWS_REGION": self.options.region,
            "ECS_BG_ENV": self.options.environment,
            "ECS_BG_TEST_URL": urls.test,
            "ECS_BG_PRODUCTION_URL": urls.production,
            "ECS_BG_ALARM_NAMES": ",".join(alarm_names),
            **self.options.hook_environment,
        }

    def _runner(self, name: str, alarm_names: list[str]) -> LambdaRunner | None:
        """The runner of function ``name`` (None: there is no such function)."""
        runner = self.runners.get(name)
        function = self.functions.get(name)
        if runner is None and function is not None:
            override = self.options.functions.get(name)
            if override is None or not override.timeout_seconds:
                # Lambda's own timeout, capped so that a stuck hook shows in real seconds, not minutes.
                timeout = min(function.timeout_seconds, self.options.function_timeout)
                function = dataclasses.replace(function, timeout_seconds=timeout)
            runner = self.runners[name] = LambdaRunner(
                {name: function},
                environment=self.hook_environment(alarm_names),
                cwd=ROOT,
            )
        return runner

    async def provision(self, names: Sequence[str], alarm_names: list[str]) -> None:
        """Initialize the functions ahead of their first invocation (``LambdaRunner.provision``): a
        deployment's hooks then take what their handlers take, not a Python start each. Each
        environment's init is logged as Lambda logs it."""
        runners = [(name, self._runner(name, alarm_names)) for name in dict.fromkeys(names)]

        async def provision(name: str, runner: LambdaRunner) -> None:
            initialized = await runner.provision(name)
            if initialized is not None:
                lines = [_init_start(), *_lines(initialized.output)]
                await asyncio.to_thread(self._put_logs, initialized.log_group, initialized.log_stream, lines)

        await asyncio.gather(*(provision(name, runner) for name, runner in runners if runner is not None))

    async def invoke(self, name: str, event: dict[str, Any], alarm_names: list[str]) -> Invocation:
        """Invoke the function a hook's ARN names, as Lambda would run it (``ecs_bg.deploy.functions``)."""
        runner = self._runner(name, alarm_names)
        if runner is None:
            # Lambda's answer to an unknown function; ECS takes a failed invocation as FAILED.
            return Invocation(name, None, f"ResourceNotFoundException: Function not found: {name}", 0, False)
        done = await runner.invoke(name, event)
        await asyncio.to_thread(self._write_logs, done)
        return done

    def _write_logs(self, done: Invocation) -> None:
        """START, everything the function wrote, END and REPORT in its stream of ``/aws/lambda/<name>``,
        as Lambda writes them (the stream is its worker's: one per execution environment), after a
        cold start's INIT_START and what its init wrote."""
        group = done.log_group or f"/aws/lambda/{done.function}"
        stream = done.log_stream or f"{time.strftime('%Y/%m/%d')}/[$LATEST]{secrets.token_hex(16)}"
        request = done.request_id or secrets.token_hex(8)
        lines = [_init_start(), *_lines(done.init_output)] if done.cold else []
        lines.append(f"START RequestId: {request} Version: $LATEST")
        lines += _lines(done.output[len(done.init_output) :])
        if done.error:
            lines.append(json.dumps({"errorMessage": done.error}))
        lines += [
            f"END RequestId: {request}",
            f"REPORT RequestId: {request}\tDuration: {done.duration_ms} ms",
        ]
        self._put_logs(group, stream, lines)

    def _put_logs(self, group: str, stream: str, lines: list[str]) -> None:
        """Append ``lines`` to the stream, making it (and its group) the first time, or again when
        someone deleted it meanwhile (``aws logs delete-log-group``). Lambda's log delivery is not
        the invocation: a log that cannot be written is lost, and nothing else. Errors are told by
        their code, not by the client's exception classes: threads sharing a new client may each
        make those."""
        logs = self.client("logs")
        events = [{"timestamp": int(time.time() * 1000), "message": line} for line in lines]
        with contextlib.suppress(BotoCoreError, ClientError):
            if (group, stream) in self._log_streams:
                with ignoring("ResourceNotFoundException"):
                    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
                    return
            with ignoring("ResourceAlreadyExistsException"):
                logs.create_log_group(logGroupName=group)
            with ignoring("ResourceAlreadyExistsException"):
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
            self._log_streams.add((group, stream))
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

    def client(self, service: str) -> Any:
        """The local endpoint's client for ``service``, made once (from any thread)."""
        with self._clients_lock:
            if service not in self._clients:
                import boto3

                self._clients[service] = boto3.client(  # type: ignore[call-overload]
                    service,
                    region_name=self.options.region,
                    endpoint_url=self.endpoint,
                    aws_access_key_id="local",
                    aws_secret_access_key="local",  # noqa: S106 - the local endpoint checks nothing
                )
            return self._clients[service]

    def put_alarms(self, names: list[str]) -> None:
        """The deployment's alarms exist (OK), for the hooks that read them: as simulation.yml's
        ``alarms:`` defines one, else as the stack makes its gate alarms; one that exists stays."""
        cloudwatch = self.client("cloudwatch")
        known = {alarm["AlarmName"] for alarm in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]}
        for name in names:
            defined = self.options.alarm_definitions.get(name)
            if defined is not None and name not in known:
                cloudwatch.put_metric_alarm(**defined.put_metric_alarm(name))
            elif name not in known:
                setup.put_gate_alarm(cloudwatch, name, self.options.alarm_5xx_percent)


def _init_start() -> str:
    """The line Lambda logs each time it creates an execution environment, naming its runtime
    ("Identifying Lambda runtime version changes", Lambda developer guide,
    https://docs.aws.amazon.com/lambda/latest/dg/runtime-management-identify.html)."""
    return f"INIT_START Runtime Version: python:{sys.version_info.major}.{sys.version_info.minor}.local"


@contextlib.contextmanager
def ignoring(code: str) -> Iterator[None]:
    """Suppress the AWS error ``code`` (a ClientError with that code), and only it."""
    try:
        yield
    except ClientError as error:
        if error_code(error) != code:
            raise


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def task_environment(definition: dict[str, Any], revision: str, container: str) -> dict[str, str]:
    """The environment the task definition sets for ``container`` (the first, if none has that name)."""
    containers = definition.get("containerDefinitions") or [{}]
    chosen = next((c for c in containers if c.get("name") == container), containers[0])
    env = {item["name"]: str(item.get("value", "")) for item in chosen.get("environment", [])}
    return {"APP_REVISION": revision, **env}


def health_check(groups: setup.TargetGroupSettings, speed: float) -> HealthCheck:
    """The target groups' health check: the interval on the local clock, the timeout on the wall
    clock. An app answers in real time, so the stack's 5 s wait for an answer stays 5 s at any
    speed; a probe that takes long delays the next one (they never overlap)."""
    return HealthCheck(
        path=groups.health_check_path,
        interval=groups.interval / speed,
        timeout=groups.timeout,
        healthy_threshold=groups.healthy_threshold,
        unhealthy_threshold=groups.unhealthy_threshold,
        matcher=groups.healthy_http_codes,
    )
