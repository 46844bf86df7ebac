"""A Docker engine's HTTP API, spoken with aiohttp over its socket: the few calls the Docker runtime makes.

Where the engine is: ``DOCKER_HOST`` (``unix://<path>`` or ``tcp://<host>:<port>``, as the docker CLI
reads it), else the default socket ``/var/run/docker.sock``. TLS (``DOCKER_TLS_VERIFY``) is not
supported. Requests name API version 1.41 (Docker 20.10), the oldest engine this was tested on; a
newer engine answers that version too ("Versioned API and SDK", Docker Engine API documentation:
https://docs.docker.com/reference/api/engine/#versioned-api-and-sdk).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import struct
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp

API_VERSION = "1.41"
DEFAULT_SOCKET = "/var/run/docker.sock"


class EngineError(Exception):
    """The engine refused a request (its status and its message), or could not be reached."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class EngineAddress:
    """Where the engine listens: a unix socket path, or an HTTP base URL (``tcp://``)."""

    socket_path: str | None
    base_url: str  # http://docker for a socket (the host part is not used)
    shown: str  # as the user would write it

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> EngineAddress:
        """``DOCKER_HOST`` or the default socket; ValueError for a form not supported here."""
        host = environ.get("DOCKER_HOST", "").strip() or f"unix://{DEFAULT_SOCKET}"
        if environ.get("DOCKER_TLS_VERIFY"):
            raise ValueError("DOCKER_TLS_VERIFY is set: an engine behind TLS is not supported here")
        parts = urlsplit(host)
        if parts.scheme == "unix":
            return cls(parts.path, "http://docker", host)
        if parts.scheme == "tcp":
            return cls(None, f"http://{parts.netloc}", host)
        raise ValueError(f"DOCKER_HOST={host}: only unix:// and tcp:// engines are supported")


def probe(address: EngineAddress, timeout: float = 2.0) -> tuple[str | None, str]:
    """(the engine's version, what answered) when it answers ``/version``, else (None, why not).
    Synchronous and quick, for choosing a runtime before anything starts."""
    try:
        status, body = request(address, "GET", "/version", timeout=timeout)
    except OSError as error:
        return None, f"no Docker engine answers at {address.shown} ({error.strerror or error})"
    if status != 200:
        return None, f"the Docker engine at {address.shown} answered {status}: {body[:200]!r}"
    version = json.loads(body)
    return str(version.get("Version", "?")), f"Docker {version.get('Version', '?')} at {address.shown}"


def request(
    address: EngineAddress,
    method: str,
    path: str,
    params: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """One synchronous call: (status, body). OSError when the engine cannot be reached."""
    if address.socket_path is not None:
        connection: http.client.HTTPConnection = _UnixConnection(address.socket_path, timeout)
    else:
        connection = http.client.HTTPConnection(urlsplit(address.base_url).netloc, timeout=timeout)
    query = f"?{urlencode(params)}" if params else ""
    try:
        connection.request(method, f"/v{API_VERSION}{path}{query}")
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("docker", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


class Engine:
    """One connection pool to the engine; every call raises EngineError for a refusal."""

    def __init__(self, address: EngineAddress) -> None:
        self.address = address
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector: aiohttp.BaseConnector
            if self.address.socket_path is not None:
                connector = aiohttp.UnixConnector(path=self.address.socket_path, limit=32)
            else:
                connector = aiohttp.TCPConnector(limit=32)
            # No total timeout: log and event streams last as long as their containers.
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=None, sock_connect=10)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _url(self, path: str) -> str:
        return f"{self.address.base_url}/v{API_VERSION}{path}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        body: Any = None,
        data: bytes | None = None,
        timeout: float = 60.0,
        ok: tuple[int, ...] = (200, 201, 204, 304),
    ) -> Any:
        """The JSON answer (None when empty); EngineError for any status not in ``ok``."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if data is not None:
            headers = {"Content-Type": "application/x-tar"}
        payload = json.dumps(body).encode() if body is not None else data
        try:
            async with self.session.request(
                method,
                self._url(path),
                params=params,
                data=payload,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                raw = await response.read()
                if response.status not in ok:
                    raise EngineError(response.status, _message(raw))
        except (aiohttp.ClientError, TimeoutError) as error:
            said = str(error) or type(error).__name__
            raise EngineError(0, f"the Docker engine at {self.address.shown}: {said}") from None
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode(errors="replace")

    async def lines(
        self, path: str, params: Mapping[str, str], connected: asyncio.Event | None = None
    ) -> AsyncIterator[bytes]:
        """A streaming answer, line by line (``/events``), until the engine ends it; ``connected`` is
        set once the engine has answered (what happens from then on is in the stream)."""
        async with self.session.get(self._url(path), params=params) as response:
            if response.status != 200:
                raise EngineError(response.status, _message(await response.read()))
            if connected is not None:
                connected.set()
            async for line in response.content:
                yield line

    async def frames(self, path: str, params: Mapping[str, str]) -> AsyncIterator[tuple[int, bytes]]:
        """A container's multiplexed output (``/containers/{id}/logs`` of a container without a TTY):
        (stream, payload) frames, stream 1 stdout and 2 stderr (Engine API, "Attach to a container":
        an 8-byte header, the stream in its first byte and the payload's size in its last four, big
        endian)."""
        async with self.session.get(self._url(path), params=params) as response:
            if response.status != 200:
                raise EngineError(response.status, _message(await response.read()))
            reader = response.content
            while True:
                try:
                    header = await reader.readexactly(8)
                except asyncio.IncompleteReadError:
                    return
                stream, size = header[0], struct.unpack(">I", header[4:])[0]
                try:
                    yield stream, await reader.readexactly(size)
                except asyncio.IncompleteReadError:
                    return

    # -- the calls the runtime makes -----------------------------------------------------------------

    async def image(self, reference: str) -> dict[str, Any] | None:
        """The local image ``reference`` names, None if this engine has none by that name."""
        try:
            found: dict[str, Any] = await self.call("GET", f"/images/{quote(reference, safe='')}/json")
        except EngineError as error:
            if error.status == 404:
                return None
            raise
        return found

    async def inspect(self, container: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self.call("GET", f"/containers/{container}/json")
        except EngineError as error:
            if error.status == 404:
                return None
            raise
        return found

    async def create(self, name: str, config: dict[str, Any]) -> str:
        created = await self.call("POST", "/containers/create", params={"name": name}, body=config)
        return str(created["Id"])

    async def start(self, container: str) -> None:
        await self.call("POST", f"/containers/{container}/start")

    async def remove(self, container: str) -> None:
        """Kill and remove, with its anonymous volumes; gone already is fine."""
        try:
            await self.call(
                "DELETE", f"/containers/{container}", params={"force": "1", "v": "1"}, ok=(204, 404)
            )
        except EngineError as error:
            if "is already in progress" not in error.message:
                raise

    async def containers(self, labels: Mapping[str, str] | list[str]) -> list[dict[str, Any]]:
        """Every container (running or not) with these labels (``key=value`` or bare ``key``)."""
        wanted = [f"{k}={v}" for k, v in labels.items()] if isinstance(labels, Mapping) else list(labels)
        found: list[dict[str, Any]] = await self.call(
            "GET", "/containers/json", params={"all": "1", "filters": json.dumps({"label": wanted})}
        )
        return found


def _message(raw: bytes) -> str:
    try:
        return str(json.loads(raw).get("message", raw.decode(errors="replace")))
    except (ValueError, AttributeError):
        return raw.decode(errors="replace").strip()
