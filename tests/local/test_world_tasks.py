"""A task's start and stop as the world and the scheduler order them, over stand-ins that start and
end tasks when the test says (no process, milliseconds): a task stopped before or while it starts
stays STOPPED, and nothing of it keeps running; the scheduler replaces no task of a revision whose
tasks are being scaled down. Under load, a rollback's scale-down and a scheduler's replacement of a
green task that had just failed its container health check once crossed: the replacement ran on,
RUNNING beside the revision rolled back to (the Docker runtime's rollback test: runningCount 3)."""

from __future__ import annotations

import asyncio

import pytest

from ecs_bg.hooks.ecs import TaskStatus
from ecs_bg.local.ecs import scheduler
from ecs_bg.local.ecs.models import Account, Cluster, Service, Task, TaskDefinition
from ecs_bg.local.runtime import Launch, TaskExit
from ecs_bg.local.world import World

BODY = {"family": "web", "containerDefinitions": [{"name": "app", "image": "app:1"}]}


class HeldRuntime:
    """Starts a task once ``release`` is set; records what it started and what it was asked to stop."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started: list[str] = []
        self.stop_asked: list[tuple[str, bool]] = []  # (task, whether it had started by then)

    async def start_task(self, task: Task, launch: Launch) -> str:
        await self.release.wait()
        self.started.append(task.arn)
        return "http://127.0.0.1:1"

    async def stop_task(self, task: Task) -> int | None:
        self.stop_asked.append((task.arn, task.arn in self.started))
        return 0 if task.arn in self.started else None

    def exited(self, task: Task) -> None:
        return None


def _world_and_task() -> tuple[World, HeldRuntime, Task]:
    runtime = HeldRuntime()
    world = World.__new__(World)  # only its tasks' runtime is used by start_task and stop_task
    world.tasks = runtime  # type: ignore[assignment]
    account = Account("us-west-2")
    definition = TaskDefinition(account.arn("task-definition/web:1"), "web", 1, BODY)
    task = Task.new(Cluster("c1", account), definition, service=None, revision=None, started_by="", group="")
    return world, runtime, task


def test_a_task_stopped_before_its_start_begins_starts_nothing() -> None:
    async def scenario() -> tuple[bool, HeldRuntime, Task]:
        world, runtime, task = _world_and_task()
        starting = asyncio.ensure_future(world.start_task(task, Launch(BODY, "app")))
        await world.stop_task(task, None, "Scaling activity initiated by (deployment)")  # before it ran
        runtime.release.set()
        return await starting, runtime, task

    started, runtime, task = asyncio.run(scenario())
    assert started is False
    assert (task.last_status, task.desired_status) == (TaskStatus.STOPPED, TaskStatus.STOPPED)
    assert task.stopped_reason == "Scaling activity initiated by (deployment)"
    assert runtime.started == []


def test_a_task_stopped_while_it_starts_is_stopped_once_started() -> None:
    async def scenario() -> tuple[bool, HeldRuntime, Task]:
        world, runtime, task = _world_and_task()
        starting = asyncio.ensure_future(world.start_task(task, Launch(BODY, "app")))
        await asyncio.sleep(0)  # its start is under way, waiting on the runtime
        assert task.last_status == TaskStatus.PENDING
        await world.stop_task(task, None, "Task stopped by the test")
        runtime.release.set()
        return await starting, runtime, task

    started, runtime, task = asyncio.run(scenario())
    assert started is False
    assert task.last_status == TaskStatus.STOPPED
    assert task.stopped_reason == "Task stopped by the test"
    # Asked once before it had started (nothing to stop), and again once it had: nothing runs on.
    assert runtime.stop_asked == [(task.arn, False), (task.arn, True)]


def test_a_task_left_alone_runs() -> None:
    async def scenario() -> tuple[bool, Task]:
        world, runtime, task = _world_and_task()
        runtime.release.set()
        return await world.start_task(task, Launch(BODY, "app")), task

    started, task = asyncio.run(scenario())
    assert started is True
    assert (task.last_status, task.url) == (TaskStatus.RUNNING, "http://127.0.0.1:1")


class ExitedWorld:
    """What the scheduler reads of the world: every task has ended on its own (its container failed
    its health check, as the Docker runtime reports it)."""

    def exited(self, task: Task) -> TaskExit:
        return TaskExit(None, "Task failed container health checks", "TaskFailedToStart")

    def task_stopped(self, task: Task, group: str | None) -> None:
        task.last_status = task.desired_status = TaskStatus.STOPPED


@pytest.mark.parametrize("scaled_down", [False, True], ids=["serving", "being-scaled-down"])
def test_the_scheduler_replaces_no_task_of_a_revision_being_scaled_down(scaled_down: bool) -> None:
    account = Account("us-west-2")
    cluster = Cluster("c1", account)
    service = Service("web", cluster, {"desiredCount": 1})
    definition = TaskDefinition(account.arn("task-definition/web:2"), "web", 2, BODY)
    green = service.new_revision({}, definition.arn)
    green.scaled_down = scaled_down
    task = Task.new(cluster, definition, service=service, revision=green, started_by="", group="")
    task.last_status = TaskStatus.RUNNING
    service.tasks.append(task)
    replaced: list[Task] = []

    async def replace(ended: Task) -> None:
        replaced.append(ended)

    async def look() -> None:
        await scheduler._look_after(service, ExitedWorld(), replace, set(), 1.0, 0.0)  # type: ignore[arg-type]

    asyncio.run(look())
    assert replaced == ([] if scaled_down else [task])
