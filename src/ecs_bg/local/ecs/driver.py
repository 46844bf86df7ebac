"""Runs each service deployment's lifecycle: the engine decides, the driver acts on the world.

A service's deployments run one after another (a new one waits, PENDING, while the previous one
moves): v1 -> v2 -> v3, whatever each ended in. The engine's clock is the wall clock sped up
``speed`` times: at 240x a one-minute bake takes a quarter second. Hooks and apps run in real time,
as they would on AWS, so what they take is judged in real time: a hook's runtime counts against its
timeout for its real duration, and SCALE_UP allows green at least ``SCALE_UP_REAL_SECONDS``.
Traffic weights are by revision; each revision's tasks sit in the target group its service revision
names, so the groups swap roles as ECS swaps them. Between deployments the service scheduler
(``scheduler``) keeps each service's tasks running and healthy.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable
from typing import Any

from ecs_bg.hooks.ecs import DeploymentStatus, TargetType, TaskStatus, WorkStage
from ecs_bg.lifecycle.engine import (
    Engine,
    Finished,
    InvokeHook,
    ScaleDownBlue,
    ScaleDownGreen,
    ScaleUpGreen,
    SetTraffic,
)
from ecs_bg.lifecycle.events import ServiceIds
from ecs_bg.lifecycle.plan import DeploymentSpec
from ecs_bg.lifecycle.spec import deployment_spec, function_of
from ecs_bg.local.cloudwatch.alarm_watch import Watch
from ecs_bg.local.ecs import scheduler
from ecs_bg.local.ecs.models import ACTIVE, Deployment, Service, ServiceRevision, Task, TaskDefinition
from ecs_bg.local.elbv2.health import FAILED
from ecs_bg.local.runtime import Launch
from ecs_bg.local.world import World, task_environment

# Real seconds green's tasks get at least to start and pass their health checks in SCALE_UP: starting a
# process is real-time work, which the sped-up clock must not judge (30 simulated minutes are 7.5 s
# at 240x). A task that exits or answers its checks wrongly fails SCALE_UP at once instead.
SCALE_UP_REAL_SECONDS = 60.0


class Driver:
    def __init__(self, world: World, speed: float) -> None:
        self.world = world
        self.speed = speed
        # Task definition ARN -> the definition (the control plane's).
        self.task_definition: Callable[[str], TaskDefinition] = _no_definitions
        self.clock: Callable[[], float] = time.time  # epoch seconds: health check grace periods
        self.services: Callable[[], list[Service]] = list  # every service, for the scheduler
        self._locks: dict[str, asyncio.Lock] = {}
        self._wakes: dict[str, asyncio.Event] = {}  # deployment ARN -> its loop's wake-up
        self._pending: dict[str, list[Any]] = {}  # deployment ARN -> actions due
        self._work: set[asyncio.Task[Any]] = set()
        self._closed = False

    def start(self) -> None:
        self._spawn(scheduler.keep_running(self.services, self.world, self._replace, self.speed, self.clock))

    # -- the backend's calls (Runtime) ---------------------------------------------------------------

    def deploy(self, deployment: Deployment) -> None:
        self._spawn(self._run(deployment))

    def scale(self, service: Service) -> None:
        if service.primary is not None and all(d.final for d in service.deployments):
            self._spawn(self._scale(service, service.primary))

    async def run_task(self, task: Task, overrides: dict[str, Any]) -> None:
        """A RunTask task: its containers with the overrides (the process runtime runs its first
        container, or the one its overrides give a command, with the overrides' environment over the
        definition's)."""
        body = self.task_definition(task.task_definition).body
        given = {o["name"]: o for o in overrides.get("containerOverrides", [])}
        container = next((name for name in task.containers if given.get(name, {}).get("command")), None)
        task.container = container or task.containers[0]
        override = given.get(task.container, {})
        environment = {
            **task_environment(body, task.container),
            **{item["name"]: item.get("value", "") for item in override.get("environment", [])},
        }
        launch = Launch(body, task.container, None, environment, overrides, service=False)
        # RunTask answers at once, its task PROVISIONING, as ECS answers it; the task starts meanwhile
        # (a container that waits for another's HEALTHY can take a while).
        self._spawn(self.world.run_task(task, launch))

    def stop_task(self, task: Task, reason: str, stop_code: str) -> None:
        group = task.revision.target_group if task.revision is not None else None
        task.desired_status = TaskStatus.STOPPED
        self._spawn(self.world.stop_task(task, group, reason, stop_code))

    def decide(self, deployment: Deployment, step: Callable[[], list[Any]]) -> None:
        """An engine call from the API (continue, stop): its actions join the deployment's loop."""
        self._pending.setdefault(deployment.arn, []).extend(step())
        self._wake(deployment)

    def health(self, task: Task) -> str:
        return self.world.task_health(task)

    async def close(self) -> None:
        """Stop everything under way; nothing starts afterwards, whatever still reaches the API (a
        client's call in flight when the server began to stop would otherwise start tasks no one
        stops)."""
        self._closed = True
        for work in list(self._work):
            work.cancel()
        await asyncio.gather(*self._work, return_exceptions=True)

    # -- one deployment ------------------------------------------------------------------------------

    async def _run(self, deployment: Deployment) -> None:
        service = deployment.service
        async with self._locks.setdefault(service.arn, asyncio.Lock()):
            if service.status != ACTIVE:  # deleted while it waited
                return
            await self._drive(deployment)

    async def _drive(self, deployment: Deployment) -> None:
        service, target = deployment.service, deployment.target
        # The previous deployment may have ended after this one was created: it rolls forward from
        # whatever serves production now.
        deployment.sources = [service.primary] if service.primary is not None else []
        source = deployment.sources[0] if deployment.sources else None
        service.place(target)
        ids = ServiceIds(
            region=service.cluster.account.region,
            account=service.cluster.account.account,
            cluster=service.cluster.name,
            service=service.name,
            deployment_id=deployment.arn.rsplit("/", 1)[-1],
            green_revision=target.arn.rsplit("/", 1)[-1],
            blue_revision=source.arn.rsplit("/", 1)[-1] if source else "0",
        )
        options = self.world.options
        scale_up = max(DeploymentSpec.scale_up_timeout_minutes, SCALE_UP_REAL_SECONDS * self.speed / 60)
        spec = dataclasses.replace(
            deployment_spec(
                deployment.configuration,
                ids,
                first_deployment=source is None,
                scale_up_timeout_minutes=scale_up,
            ),
            hook_details_reading=options.hook_details_reading,
            rollback_hook_failure=options.rollback_hook_failure,
            real_time_invocations=True,
        )
        alarms = list(deployment.configuration.get("alarms", {}).get("alarmNames", []))
        functions = [
            function_of(hook.hook_id) for hook in spec.hooks if hook.target_type == TargetType.AWS_LAMBDA
        ]
        self._spawn(self.world.lambda_.provision(functions))
        if alarms:
            await asyncio.to_thread(self.world.cloudwatch.put_alarms, alarms)
        began = time.monotonic()

        def clock() -> float:
            return (time.monotonic() - began) * self.speed

        engine = Engine(spec, clock)
        deployment.engine, deployment.clock, deployment.began = engine, clock, began
        if alarms:
            # Judged whenever the deployment names alarms, for what it tells; the engine acts on a
            # change only with enable and rollback true (API reference, DeploymentAlarms:
            # docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentAlarms.html).
            watch = Watch(
                self.world.cloudwatch.alarm_board(alarms),
                lambda board: self._feed(
                    deployment, functools.partial(engine.alarm, board.in_alarm, board.describe_firing())
                ),
                clock,
            )
            deployment.alarm_board = watch.board
            self.world.cloudwatch.watch.watch(deployment.arn, watch)
            if spec.alarms_rollback and watch.board.evaluates_any:
                # ECS's bake is on its own (sped-up) clock, the traffic the alarms measure is real, and
                # a real bake always holds many datapoints: a bake ends only once the alarms have
                # judged two datapoints of real traffic since the last production shift.
                engine.bake_may_end = watch.have_judged
        deployment.started_at = time.time()
        deployment.to_epoch = lambda moment: time.time() + (moment - clock()) / self.speed
        if target.target_group is not None:
            self.world.elbv2.attach(target.target_group, _rules(deployment))
        self._record_weights(deployment, at=0.0)
        self._wakes[deployment.arn] = asyncio.Event()
        pending = self._pending.setdefault(deployment.arn, [])
        pending.extend(engine.start())
        while True:
            actions, pending[:] = list(pending), []
            finished = None
            for action in actions:
                finished = finished or self._perform(deployment, action, alarms)
            deployment.updated_at = time.time()
            if finished is not None:
                self._finish(deployment, finished)
                return
            timer = engine.next_timer()
            delay = 0.25 if timer is None else max(0.0, (timer - clock()) / self.speed)
            wake = self._wakes[deployment.arn]
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=min(delay, 0.25))
            pending.extend(engine.advance())

    def _perform(self, deployment: Deployment, action: Any, alarms: list[str]) -> DeploymentStatus | None:
        engine = deployment.engine
        assert engine is not None
        if isinstance(action, InvokeHook):
            self._spawn(self._invoke(deployment, action, alarms))
        elif isinstance(action, ScaleUpGreen):
            self._spawn(self._scale_up(deployment))
        elif isinstance(action, SetTraffic):
            groups = {
                rev.arn: rev.target_group
                for rev in (deployment.target, *deployment.sources)
                if rev.target_group is not None
            }
            production = {groups[arn]: weight for arn, weight in action.production.items() if arn in groups}
            test = {groups[arn]: weight for arn, weight in action.test.items() if arn in groups}
            production_rule, test_rule = deployment.target.production_rule, deployment.target.test_rule
            watch = self.world.cloudwatch.watch.watching.get(deployment.arn)
            before = self._weights(production_rule)
            if watch is not None and _serving(production) != _serving(before):
                watch.shifted()
            moved = {
                rule: weights for rule, weights in ((production_rule, production), (test_rule, test)) if rule
            }
            self.world.elbv2.set_weights(moved)
            self._record_weights(deployment)
        elif isinstance(action, ScaleDownBlue):
            self._spawn(self._scale_down(deployment, deployment.sources))
        elif isinstance(action, ScaleDownGreen):
            self._spawn(self._scale_down(deployment, [deployment.target]))
        elif isinstance(action, Finished):
            return action.status
        return None

    def _feed(self, deployment: Deployment, step: Callable[[], list[Any]]) -> None:
        self._pending.setdefault(deployment.arn, []).extend(step())
        self._wake(deployment)

    def _wake(self, deployment: Deployment) -> None:
        wake = self._wakes.get(deployment.arn)
        if wake is not None:
            wake.set()

    def _weights(self, rule: str | None) -> dict[str, float]:
        """A listener rule's weighted forward by target group ({} for no rule)."""
        return self.world.elbv2.weights(rule) if rule is not None else {}

    def _record_weights(self, deployment: Deployment, at: float | None = None) -> None:
        target = deployment.target
        moment = round(deployment.clock() if at is None else at, 3)
        deployment.weight_changes.append(
            {
                "at": moment,
                "production": self._weights(target.production_rule),
                "test": self._weights(target.test_rule),
            }
        )

    async def _invoke(self, deployment: Deployment, action: InvokeHook, alarms: list[str]) -> None:
        engine = deployment.engine
        assert engine is not None
        began = time.monotonic()
        done = await self.world.lambda_.invoke(function_of(action.hook_id), action.event)
        real = time.monotonic() - began  # cold start included: ECS waits for the whole Invoke
        deployment.invocations[action.invocation_id] = done
        self._feed(
            deployment,
            lambda: engine.hook_result(
                action.invocation_id, done.response, error=done.error, real_seconds=real
            ),
        )

    async def _scale_up(self, deployment: Deployment) -> None:
        """SCALE_UP: the target revision's tasks start; green is healthy once the load balancer's
        checks pass on every one (RUNNING is enough for a service without a load balancer). A task
        that stops, or a target the checks find unhealthy by what its app answered (a wrong code, no
        answer within the probe's timeout) once its health check grace period is over, fails it; a
        refused connection only means the app is not listening yet, which the SCALE_UP allowance
        covers."""
        engine, target = deployment.engine, deployment.target
        assert engine is not None
        tasks = await self._start_tasks(deployment.service, target, deployment.service.desired_count)
        while engine.status == DeploymentStatus.IN_PROGRESS and engine.stage == WorkStage.SCALE_UP:
            stopped = [task for task in tasks if task.last_status == TaskStatus.STOPPED]
            exited = [(task, ended) for task in tasks if (ended := self.world.exited(task)) is not None]
            group = target.target_group
            urls = {task.url for task in tasks}
            health = [h for h in self.world.lb.target_health(group) if h.target in urls] if group else []
            graced = {task.url for task in tasks if task.in_health_check_grace(self.clock(), self.speed)}
            judged = [h for h in health if h.target not in graced]
            wrong = [h for h in judged if h.state == "unhealthy" and h.reason != FAILED[0]]
            if exited and exited[0][1].stop_code == "EssentialContainerExited":
                why = f"a green task exited with status {exited[0][1].code} during SCALE_UP"
                if exited[0][1].reason != "Essential container in task exited":
                    why += f" ({exited[0][1].reason})"
            elif exited:
                why = f"green task {exited[0][0].arn} stopped: {exited[0][1].reason}"
            elif stopped:
                why = f"green task {stopped[0].arn} stopped: {stopped[0].stopped_reason}"
            elif wrong:
                why = f"green target {wrong[0].target} failed its health checks: {wrong[0].description}"
            else:
                if group is None:
                    healthy = all(task.last_status == TaskStatus.RUNNING for task in tasks)
                else:
                    healthy = len(health) == len(urls) and all(h.state == "healthy" for h in health)
                # A task whose containers have health checks counts once they pass (HEALTHY), as ECS
                # waits for both the container's and the load balancer's checks.
                checked = (self.world.tasks.health(task) for task in tasks)
                healthy = healthy and all(status in (None, "HEALTHY") for status in checked)
                if healthy:
                    self._feed(deployment, lambda: engine.green_health(True))
                    return
                await asyncio.sleep(0.05)
                continue
            self._feed(deployment, functools.partial(engine.green_failed, why))
            return

    async def _start_tasks(self, service: Service, revision: ServiceRevision, count: int) -> list[Task]:
        if revision.scaled_down:
            return []
        definition = self.task_definition(revision.task_definition)
        body = definition.body
        balancers = revision.settings.get("loadBalancers") or [{}]
        container = str(balancers[0].get("containerName") or body["containerDefinitions"][0]["name"])
        # A service's tasks are started by its deployment: startedBy is its id in ``deployments``.
        deployment = next(d for d in reversed(service.deployments) if d.target is revision)
        tasks = [
            Task.new(
                service.cluster,
                definition,
                service=service,
                revision=revision,
                started_by=deployment.task_set_id,
                group=f"service:{service.name}",
                container=container,
            )
            for _ in range(count)
        ]
        service.tasks.extend(tasks)
        environment = task_environment(body, container)
        port = balancers[0].get("containerPort")
        launch = Launch(body, container, int(port) if port else None, environment)
        await asyncio.gather(*(self.world.start_task(task, launch) for task in tasks))
        if revision.target_group is not None:
            for task in tasks:
                if task.last_status == TaskStatus.RUNNING and task.url is not None:
                    self.world.lb.register(revision.target_group, task.url)
        if tasks:
            service.event(f"(service {service.name}) has started {len(tasks)} tasks.")
        return tasks

    async def _scale_down(self, deployment: Deployment, revisions: list[ServiceRevision]) -> None:
        engine, service = deployment.engine, deployment.service
        assert engine is not None
        if deployment.target not in revisions and not await self._serving(deployment.target):
            # CLEAN_UP removes blue only once green serves; with no green task alive, blue stays and
            # the deployment fails (and rolls back) instead of leaving production with no target.
            why = "no green task is alive and healthy at CLEAN_UP; blue is not scaled down"
            self._feed(deployment, functools.partial(engine.green_failed, why))
            return
        # Marked in the same step as the stops are listed: a replacement the scheduler would start
        # after this (for a task that stopped meanwhile) is not started, and one it has begun is listed.
        for revision in revisions:
            revision.scaled_down = True
        stops = [
            self.world.stop_task(task, revision.target_group, "Scaling activity initiated by (deployment)")
            for revision in revisions
            for task in service.live_tasks(revision)
        ]
        await asyncio.gather(*stops)
        if stops:
            service.event(f"(service {service.name}) has stopped {len(stops)} running tasks.")
        self._feed(deployment, engine.scaled_down)

    async def _serving(self, revision: ServiceRevision) -> bool:
        """Whether a task of ``revision`` is alive and healthy (or alive within its health check grace
        period, when ECS ignores its health), waiting (in real time) for a replacement the scheduler
        has started to pass its health checks."""
        group = revision.target_group
        deadline = time.monotonic() + SCALE_UP_REAL_SECONDS
        while time.monotonic() < deadline:
            live = revision.service.live_tasks(revision)
            if live and (
                group is None or any(task.in_health_check_grace(self.clock(), self.speed) for task in live)
            ):
                return True
            urls = {task.url for task in live}
            if any(
                h.target in urls and h.state == "healthy" for h in self.world.lb.target_health(group or "")
            ):
                return True
            await asyncio.sleep(0.05)
        return False

    async def _replace(self, task: Task) -> Task | None:
        """The scheduler's replacement for ``task``: one more task of its revision."""
        assert task.service is not None
        assert task.revision is not None
        started = await self._start_tasks(task.service, task.revision, 1)
        return started[0] if started else None

    async def _scale(self, service: Service, revision: ServiceRevision) -> None:
        """desiredCount changed outside a deployment: start or stop tasks of the serving revision."""
        live = service.live_tasks(revision)
        extra = service.desired_count - len(live)
        if extra > 0:
            await self._start_tasks(service, revision, extra)
        for task in live[: max(0, -extra)]:
            await self.world.stop_task(task, revision.target_group, "Scaling activity initiated by (service)")

    def _finish(self, deployment: Deployment, status: DeploymentStatus) -> None:
        service = deployment.service
        self.world.cloudwatch.watch.forget(deployment.arn)
        deployment.final_state = {
            "production": self._weights(deployment.target.production_rule),
            "test": self._weights(deployment.target.test_rule),
            "runningTasks": {
                revision.arn: sum(
                    task.last_status == TaskStatus.RUNNING for task in service.live_tasks(revision)
                )
                for revision in (*deployment.sources, deployment.target)
            },
        }
        deployment.finished_at = time.time()
        if status == DeploymentStatus.STOPPED:
            deployment.stopped_at = deployment.finished_at
        if status == DeploymentStatus.SUCCESSFUL:
            service.primary = deployment.target
            service.event(
                f"(service {service.name}) deployment {deployment.arn.rsplit('/', 1)[-1]} completed."
            )
            service.event(f"(service {service.name}) has reached a steady state.")
        else:
            reason = deployment.engine.status_reason if deployment.engine else None
            service.event(
                f"(service {service.name}) deployment ended {status}: {reason or 'no reason given'}."
            )

    def _spawn(self, coroutine: Any) -> None:
        if self._closed:
            coroutine.close()
            return
        task = asyncio.get_running_loop().create_task(coroutine)
        self._work.add(task)
        task.add_done_callback(self._work.discard)


def _serving(weights: dict[str, float]) -> dict[str, float]:
    return {group: weight for group, weight in weights.items() if weight}


def _no_definitions(arn: str) -> TaskDefinition:
    raise LookupError(f"no task definitions are known here: {arn}")


def _rules(deployment: Deployment) -> tuple[str, ...]:
    """The listener rules the deployment moves: its service's production and test rule."""
    return tuple(rule for rule in (deployment.target.production_rule, deployment.target.test_rule) if rule)
