"""The simulator's AWS endpoint: moto for most services, the simulation's own answers for the rest.

Hooks reach it through ``AWS_ENDPOINT_URL`` with unmodified boto3. One aiohttp server on
127.0.0.1 reads which operation each request names (the JSON ``X-Amz-Target`` header, the query
protocol's ``Action``, or CBOR's ``/operation/`` path). Operations answered locally (the local ECS's,
and elbv2 and CloudFormation reads about its world) go to their answers; everything else is proxied to
a moto server (``ecs_bg.local.moto_server``), a process taken as this one starts and given back as it
stops (``moto_servers``: the next endpoint of the process takes it, emptied). Before
any of it, the request policy (``request_policy``) refuses what a web page could send.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import ipaddress
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from aiohttp import ClientError, ClientSession, web

from ecs_bg.deploy.model import ecs_model
from ecs_bg.local.ecs.api import CONTENT_TYPE, TARGET_PREFIX, EcsApi
from ecs_bg.local.errors import AwsError
from ecs_bg.local.hangups import client_hang_ups
from ecs_bg.local.moto_server import TOKEN_HEADER
from ecs_bg.local.moto_servers import MOTO_SERVERS, MotoServer
from ecs_bg.local.request_policy import RequestPolicy
from ecs_bg.local.runtime.process import answers_http

# In the User-Agent of the simulation's own clients and its hook workers (AWS_SDK_UA_APP_ID); any
# other caller is someone watching from outside, such as `ecs-bg watch --endpoint-url`.
SIMULATION_APP_ID = "ecs-bg-simulation"
JsonAnswer = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
# A query-protocol operation answered locally (elbv2, CloudFormation): its parameters -> the XML body.
QueryAnswer = Callable[[dict[str, str]], str]
_CLIENTS = threading.Lock()


def endpoint_client(service: str, url: str, region: str, key: str, *, appid: str | None = None) -> Any:
    """A boto3 client of the local endpoint at ``url``, signed with ``key`` (any key signs for it).

    Made under one lock for the whole process: boto3's default session is not thread safe ("Session
    objects are not thread safe", boto3's session guide,
    https://boto3.amazonaws.com/v1/documentation/api/latest/guide/session.html; boto/botocore#2991), and
    clients are made in threads here. Two made at once each built the session's endpoint resolver,
    parsing botocore's endpoints.json twice. The clients themselves are thread safe."""
    import boto3
    from botocore.config import Config

    config = Config(user_agent_appid=appid) if appid else None  # type: ignore[call-arg]  # stubs lag botocore
    with _CLIENTS:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=region,
            endpoint_url=url,
            aws_access_key_id=key,
            aws_secret_access_key=key,
            config=config,
        )


class LocalAws:
    def __init__(
        self,
        ecs_answers: dict[str, JsonAnswer],
        query_answers: dict[str, QueryAnswer] | None = None,
        *,
        ecs_only_local: bool = False,
        region: str = "us-east-1",
    ) -> None:
        self.region = region  # what moto makes ready ahead (moto_server)
        self.ecs = EcsApi(ecs_answers)
        # True: an ECS operation without a local answer is refused rather than sent to moto's ECS,
        # which knows nothing of the local control plane's resources.
        self.ecs_only_local = ecs_only_local
        self.query_answers = query_answers or {}
        self.calls: list[str] = []  # "ecs:DescribeServiceRevisions", ... in arrival order
        # When others last asked DescribeServiceDeployments (monotonic): two polls make a watcher.
        self._outside_polls: collections.deque[float] = collections.deque(maxlen=2)
        # When someone outside last continued or stopped the deployment (monotonic), if ever.
        self._outside_decision: float | None = None
        self._moto: MotoServer | None = None
        self._moto_ready: asyncio.Future[str] | None = None  # moto's URL once it serves
        self._ecs_model: asyncio.Future[Any] | None = None
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self.policy = RequestPolicy()
        self.url = ""
        self.moto_url = ""
        # Addresses of this machine it also serves on (``listen``), each to the networks given alone:
        # the Docker runtime's task network. The request policy admits each as a Host too.
        self.also_serves: dict[str, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]] = {}

    async def start(self, port: int = 0, *, extra_origins: Iterable[str] = ()) -> str:
        """Serve on ``port`` (0: any free one) at once; moto, which takes a while to import and start,
        comes up meanwhile, and what goes to it waits until it serves. Web pages of ``extra_origins``
        may call it too (``request_policy``)."""
        self.policy = RequestPolicy(extra_origins)
        self._session = ClientSession()
        self._moto_ready = asyncio.ensure_future(self._start_moto())
        # botocore's ECS model, which every ECS request is read with, loads meanwhile.
        self._ecs_model = asyncio.ensure_future(asyncio.to_thread(ecs_model))
        app = web.Application(
            client_max_size=16 * 1024 * 1024, middlewares=[client_hang_ups, self.policy.middleware]
        )
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.policy.port = port  # a given port at once; any free one is known once bound
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.policy.port = port
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def listen(self, address: str, peers: Sequence[str]) -> str:
        """Serve on ``address`` too, on the same port (one URL's port for every caller), answering only
        callers within the networks ``peers``: the tasks on a container network reach the endpoint at
        its gateway, and nothing beyond this machine does. Its URL there."""
        assert self._runner is not None
        port = int(self.url.rsplit(":", 1)[1])
        self.also_serves[address] = tuple(ipaddress.ip_network(peer) for peer in peers)
        self.policy.admit(address)  # a task's SDK sends Host: <address>:<port>
        site = web.TCPSite(self._runner, address, port)
        await site.start()
        return f"http://{address}:{port}"

    def _outside_peer(self, request: web.Request) -> bool:
        """Whether ``request`` came to an address of ``listen``'s from outside that address's networks."""
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        networks = self.also_serves.get(sockname[0]) if sockname else None
        if networks is None:
            return False
        try:
            peer = ipaddress.ip_address(request.remote or "")
        except ValueError:
            return True
        return not any(peer in network for network in networks)

    async def _start_moto(self) -> str:
        # moto is part of this tool, not the user's code: it runs with what this process's environment
        # has for it (moto_servers.moto_environment).
        taken = MOTO_SERVERS.take(self.region)
        try:
            self._moto = await asyncio.wrap_future(taken)
        except asyncio.CancelledError:  # stopped meanwhile: the server, once there, is kept unused
            taken.add_done_callback(_give_back_unused)
            raise
        if not await answers_http(self._moto.url + "/moto-api/", lambda: self._moto_running, 60.0):
            raise RuntimeError(f"moto did not start: {' '.join(list(self._moto.output)[-5:])}")
        self.moto_url = self._moto.url
        return self.moto_url

    @property
    def moto_token(self) -> str:
        """What moto answers only with (moto_server): no page that finds its port gets past the policy."""
        return self._moto.token if self._moto is not None else ""

    @property
    def _moto_running(self) -> bool:
        return self._moto is not None and self._moto.running

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._moto_ready is not None:
            self._moto_ready.cancel()
            await asyncio.gather(self._moto_ready, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._moto is not None:
            # Nothing reaches it now: the next endpoint of this process takes it, reset.
            MOTO_SERVERS.give_back(self._moto)
            self._moto = None

    async def serve_watchers(self, ended: float, limit: float, quiet: float = 0.5) -> None:
        """After the deployment ended (``ended``, monotonic), if someone outside the simulation has
        been polling DescribeServiceDeployments (``ecs-bg watch``: twice or more) or has just answered
        a PAUSE hook (``ecs-bg approve``/``reject``, after which a watch follows), lately within
        ``limit`` seconds: keep answering until they have polled since the end and gone ``quiet``, at
        most ``limit`` seconds after it. The watcher sees how the deployment ended rather than a closed
        port; a single ``status``, or nobody at all, costs no wait."""
        polls = self._outside_polls
        watching = len(polls) == 2 and polls[-1] >= ended - limit
        if not watching and (self._outside_decision is None or self._outside_decision < ended - limit):
            return
        while time.monotonic() < ended + limit:
            if polls and polls[-1] > ended and time.monotonic() - polls[-1] >= quiet:
                return
            await asyncio.sleep(0.05)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._outside_peer(request):
            return web.Response(status=403, text="this address answers the local task network alone")
        body = await request.read()
        target = request.headers.get("X-Amz-Target", "")
        if target.startswith(TARGET_PREFIX):
            operation = target.removeprefix(TARGET_PREFIX)
            self.calls.append(f"ecs:{operation}")
            outside = SIMULATION_APP_ID not in request.headers.get("User-Agent", "")
            if outside and operation == "DescribeServiceDeployments":
                self._outside_polls.append(time.monotonic())
            elif outside and operation in ("ContinueServiceDeployment", "StopServiceDeployment"):
                self._outside_decision = time.monotonic()
            if operation in self.ecs.operations or self.ecs_only_local:
                if self._ecs_model is not None:
                    await asyncio.shield(self._ecs_model)
                status, answer = await self.ecs.handle(operation, body)
                return web.Response(status=status, body=answer, content_type=CONTENT_TYPE)
        elif self.query_answers and (params := _query(body)).get("Action") in self.query_answers:
            self.calls.append(f"query:{params['Action']}")
            return self._query_answer(params)
        return await self._proxy(request, body)

    def _query_answer(self, params: dict[str, str]) -> web.Response:
        try:
            xml = self.query_answers[params["Action"]](params)
        except AwsError as error:
            xml = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(error.code)}</Code>"
                f"<Message>{escape(error.message)}</Message></Error><RequestId>ecs-bg-local</RequestId>"
                "</ErrorResponse>"
            )
            return web.Response(status=error.status, body=xml, content_type="text/xml")
        return web.Response(body=xml, content_type="text/xml")

    async def _proxy(self, request: web.Request, body: bytes) -> web.Response:
        assert self._session is not None
        assert self._moto_ready is not None
        dropped = ("host", "content-length", TOKEN_HEADER.lower())
        headers = {k: v for k, v in request.headers.items() if k.lower() not in dropped}
        try:
            moto_url = await asyncio.shield(self._moto_ready)
            headers[TOKEN_HEADER] = self.moto_token  # known once moto is
            async with self._session.request(
                request.method, moto_url + request.path_qs, headers=headers, data=body, allow_redirects=False
            ) as upstream:
                payload = await upstream.read()
                passed = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_HEADERS}
                return web.Response(status=upstream.status, body=payload, headers=passed)
        except (RuntimeError, ClientError) as error:
            # moto did not start, or went (the endpoint is stopping): a 503, which the SDKs retry as
            # any AWS service's, rather than an error of the endpoint's own.
            return web.Response(
                status=503, text=f"ServiceUnavailable: moto behind the local endpoint: {error}"
            )


def _give_back_unused(taken: concurrent.futures.Future[MotoServer]) -> None:
    if not taken.cancelled() and taken.exception() is None:
        MOTO_SERVERS.give_back(taken.result())


_HOP_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "content-encoding", "server", "date"}
)


def _query(body: bytes) -> dict[str, str]:
    """A query-protocol request's parameters (form-encoded body); {} for any other body."""
    if not body.startswith(b"Action="):
        return {}
    return {key: values[0] for key, values in parse_qs(body.decode(errors="replace")).items()}
