"""The endpoints a task's containers call on ECS: task metadata v4 and the task role's credentials.

On Fargate both answer on 169.254.170.2: ``ECS_CONTAINER_METADATA_URI_V4`` ("Amazon ECS task metadata
endpoint version 4 for tasks on Fargate", ECS developer guide,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html)
and the credentials path the SDKs read from ``AWS_CONTAINER_CREDENTIALS_*`` ("Task IAM role", ECS
developer guide, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html).
AWS's ``amazon-ecs-local-container-endpoints`` serves local versions of both; here one aiohttp server
does, on the task network's gateway, 169.254.170.2 as on Fargate: the AWS SDKs take credentials over
plain HTTP only from a loopback address or from 169.254.170.2 / 169.254.170.23 / fd00:ec2::23 ("Container
credential provider", AWS SDKs and Tools reference guide,
https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html).

As the ECS agent tells tasks apart "based on its unique IP address" ("Amazon ECS task metadata available
for tasks on Fargate"), every answer goes only to the task the path names, from that task's own address:
one task cannot read another's metadata or credentials, and nothing beyond this machine is answered.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Caller:
    """What one path serves, and to whom."""

    address: Callable[[], str | None]  # the only peer it answers: the task's own address
    answer: Callable[[str], Awaitable[Any]]  # the rest of the path ("", "/task", "/stats", …) -> JSON


class TaskEndpoints:
    def __init__(self, address: str) -> None:
        self.address = address
        self.url = ""
        self._callers: dict[str, Caller] = {}  # path id -> what it serves
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/v4/{id:[0-9a-f]+}{rest:.*}", self._metadata)
        app.router.add_get("/v2/credentials/{id}", self._credentials)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.address, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{self.address}:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def serve(self, kind: str, caller: Caller) -> str:
        """A new unguessable path of ``kind`` (``v4`` or ``v2/credentials``) serving ``caller``; its URL."""
        key = secrets.token_hex(16)
        self._callers[f"{kind}/{key}"] = caller
        return f"{self.url}/{kind}/{key}"

    def forget(self, url: str) -> None:
        self._callers.pop(url.removeprefix(self.url + "/"), None)

    def _caller(self, request: web.Request, kind: str) -> Caller:
        caller = self._callers.get(f"{kind}/{request.match_info['id']}")
        if caller is None:
            raise web.HTTPNotFound(text="no such task or container")
        if request.remote is None or request.remote != caller.address():
            raise web.HTTPForbidden(text="this path answers its own task only")
        return caller

    async def _metadata(self, request: web.Request) -> web.Response:
        caller = self._caller(request, "v4")
        answer = await caller.answer(request.match_info.get("rest") or "")
        if answer is None:
            raise web.HTTPNotFound(text="no such metadata path")
        return web.json_response(answer)

    async def _credentials(self, request: web.Request) -> web.Response:
        caller = self._caller(request, "v2/credentials")
        return web.json_response(await caller.answer(""))
