"""Several tasks of one revision started and stopped together, for the tests of the load balancer and
the app processes (the local ECS starts each task as its own ``AppProcess``)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from ecs_bg.local.forkserver import ForkServers
from ecs_bg.local.runtime.process import SAMPLE_APP, AppProcess


class AppFleet:
    """The tasks of one service revision, started and stopped together."""

    def __init__(
        self,
        revision: str,
        count: int = 1,
        env: Mapping[str, str] | None = None,
        *,
        command: Sequence[str] = SAMPLE_APP,
        fork_servers: ForkServers | None = None,
    ) -> None:
        self.revision = revision
        self._env = {"APP_REVISION": revision, **(env or {})}
        self._command = tuple(command)
        self.tasks = [AppProcess(self._env, command=command, fork_servers=fork_servers) for _ in range(count)]

    @property
    def urls(self) -> list[str]:
        return [task.url for task in self.tasks]

    async def start(self, ready_timeout: float = 10.0) -> bool:
        """Start every task at once; True when all of them answer HTTP within ``ready_timeout``."""
        for task in self.tasks:
            await task.start()
        ready = await asyncio.gather(*(task.wait_ready(ready_timeout) for task in self.tasks))
        return all(ready)

    async def stop(self, grace: float = 5.0) -> None:
        await asyncio.gather(*(task.stop(grace) for task in self.tasks))
