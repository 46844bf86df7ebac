"""Processes forked from one interpreter that has imported, once, what each of them imports first.

A Lambda cold start, or a task of the process runtime, used to start a new interpreter that imported
the same libraries again: boto3 and botocore in every hook worker (0.2 s of CPU, more on a busy
machine), FastAPI in every task of the sample service (0.6 s). Here one server per set of what must
agree (``ForkServers``), ``python -P -m ecs_bg.local.forkserver FD STARTUP PRELOAD FIRST_ON_PATH``,
imports PRELOAD once and forks each process (Linux only: it relies on pidfds and the parent-death signal).
Everything else is a fresh process's: the child sets its environment (exactly the one asked for,
and what the interpreter added at its start), working directory, time zone, stdin, stdout and
stderr, then runs the request's entry (``module:function``) and exits as an interpreter does
(``sys.exit``: atexit, non-daemon threads joined, streams flushed). The server's interpreter was
started with the environment the caller keys it by: at least the variables an interpreter reads as
it starts (``deploy.interpreter.startup_environment``), which every process it forks shares.

The protocol, on a SOCK_SEQPACKET socket pair: the caller sends one JSON request per message with
its descriptors (the process's output first) and gets back ``{"pid"}`` with a pidfd of the child (so
a signal can never reach a process that reused the pid); ``{"exited", "status"}`` follows when the
child ends.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ecs_bg.deploy.interpreter import shadows
from ecs_bg.local.parent_death import ends_with_parent

MESSAGE_SIZE: Final = 1 << 20  # a request: an environment, a working directory, what to run
MAX_FDS: Final = 4


# -- the server ------------------------------------------------------------------------------------


def become(request: dict[str, Any], fds: Sequence[int], added: Mapping[str, str], printed: bytes) -> int:
    """In the forked child: become the process asked for, then run its entry; its exit status.
    ``printed``: what the server's imports printed, which a fresh process would have printed too."""
    output, *passed = fds
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    if printed:
        os.write(1, printed)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    if request.get("session"):
        os.setsid()  # as start_new_session: a Ctrl-C in the terminal reaches ecs-bg, which stops it
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for name, value in added.items():  # what the interpreter set at its start (C locale coercion)
        os.environ.setdefault(name, value)
    time.tzset()  # TZ, which the C library read when the server started, is the process's now
    module, _, function = request["entry"].partition(":")
    entry = getattr(importlib.import_module(module), function)
    status: int = entry(request, passed)
    return status


Forked = tuple[dict[str, Any], list[int], dict[str, str], bytes]


def serve(
    control: socket.socket, started_with: Mapping[str, str], preload: Sequence[str], first_on_path: str | None
) -> Forked | None:
    """Fork a child per request until the caller hangs up (None). In a child, what ``become`` needs."""
    # What the interpreter added to its own environment as it started: Python's C locale coercion
    # (PEP 538) sets LC_CTYPE when the locale LANG names is missing. A fresh process would have it too.
    added = {name: value for name, value in os.environ.items() if name not in started_with}
    printed = _imported(preload)
    if first_on_path is not None and shadows(first_on_path, sys.modules):
        return None  # its callers start fresh processes
    gc.freeze()  # what the imports made is shared with every child, not copied by its collections
    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_write, False)
    signal.set_wakeup_fd(wakeup_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup fd is written
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wakeup_read, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is control:
                message, fds, _, _ = socket.recv_fds(control, MESSAGE_SIZE, MAX_FDS)
                if not message:
                    return None  # the caller has gone
                with_server = ends_with_parent()  # made here: the child's parent is this process
                pid = os.fork()
                if pid == 0:
                    if with_server is not None:
                        with_server()  # the server ends (its caller has gone): so does the child
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    selector.close()
                    control.close()
                    os.close(wakeup_read)
                    os.close(wakeup_write)
                    return json.loads(message), fds, added, printed
                for fd in fds:
                    os.close(fd)
                pidfd = os.pidfd_open(pid)  # before any reaping below: it names this child
                socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [pidfd])
                os.close(pidfd)
            else:
                with contextlib.suppress(BlockingIOError):
                    os.read(wakeup_read, 512)
                _reap(control)


def _imported(modules: Sequence[str]) -> bytes:
    """Import ``modules``; what they printed as they were imported (warnings, notices), which each
    child prints first. One that cannot be imported is left to the child, which fails as a fresh
    process would (or handles it). Anything else ends the server: its callers start fresh processes."""
    with tempfile.TemporaryFile() as printed:
        kept = os.dup(1), os.dup(2)
        os.dup2(printed.fileno(), 1)
        os.dup2(printed.fileno(), 2)
        try:
            for module in modules:
                with contextlib.suppress(ImportError):
                    importlib.import_module(module)
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            for fd, original in zip((1, 2), kept, strict=True):
                os.dup2(original, fd)
                os.close(original)
        printed.seek(0)
        return printed.read()


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        control.send(json.dumps({"exited": pid, "status": os.waitstatus_to_exitcode(status)}).encode())


# -- the caller's side -----------------------------------------------------------------------------


class ForkedProcess:
    """A process forked by the server: what its callers use of ``asyncio.subprocess.Process``."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._pidfd = pidfd
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def send_signal(self, signum: int) -> None:
        if self.returncode is not None:
            raise ProcessLookupError(self.pid)
        signal.pidfd_send_signal(self._pidfd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def exited(self, status: int) -> None:
        self.returncode = status
        os.close(self._pidfd)
        if not self._exited.done():
            self._exited.set_result(status)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)


class ForkServer:
    """A server's caller side, on the running event loop. The server itself (a process and its control
    socket) can outlive the loop: ``detach`` hands both over, and ``ForkServer(*them)`` on a later loop
    takes them up."""

    def __init__(self, process: subprocess.Popen[bytes], control: socket.socket) -> None:
        self._process = process
        self._control = control
        self._children: dict[int, ForkedProcess] = {}
        self._spawned: asyncio.Queue[ForkedProcess | None] = asyncio.Queue()
        self._lock = asyncio.Lock()  # one spawn at a time: replies come back in order
        self._listening = asyncio.ensure_future(self._listen())

    @classmethod
    async def start(cls, kind: ServerKind) -> ForkServer:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # A process of subprocess's, not asyncio's: one the event loop does not own can serve the
            # next loop of this process too (``KEPT``).
            process = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
                [
                    sys.executable,
                    "-P",  # its working directory is not where its own code is: nothing there shadows it
                    "-m",
                    "ecs_bg.local.forkserver",
                    str(theirs.fileno()),
                    json.dumps(dict(kind.environment)),
                    json.dumps(list(kind.preload)),
                    json.dumps(kind.first_on_path),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=dict(kind.environment),
                cwd=kind.cwd,
                pass_fds=(theirs.fileno(),),
                start_new_session=kind.session,
                preexec_fn=ends_with_parent(),
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        return cls(process, ours)

    async def spawn(self, request: dict[str, Any], fds: Sequence[int]) -> ForkedProcess:
        """Fork ``request`` (``entry``, ``env``, ``cwd``, ``session``: a session of its own, and what its
        entry reads) with ``fds``: its output first, then what its entry is passed."""
        async with self._lock:
            if self._listening.done():
                raise OSError("the fork server has ended")
            data = json.dumps(request).encode()
            while True:
                try:
                    socket.send_fds(self._control, [data], list(fds))
                    break
                except BlockingIOError:  # the server's socket buffer is full: it is reading
                    await asyncio.sleep(0.01)
            reply = asyncio.ensure_future(self._spawned.get())
            try:
                forked = await asyncio.shield(reply)
            except asyncio.CancelledError:
                # The server forks anyway: its reply is this request's, not the next one's, and the
                # process nobody will use ends at once.
                orphan = await reply
                if orphan is not None:
                    with contextlib.suppress(ProcessLookupError):
                        orphan.kill()
                raise
        if forked is None:
            raise OSError("the fork server has ended")
        return forked

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                await _readable(loop, self._control)
                try:
                    message, fds, _, _ = socket.recv_fds(self._control, 4096, 1)
                except BlockingIOError:
                    continue
                if not message:
                    return
                answer = json.loads(message)
                if "pid" in answer:
                    # Known before its exit message (which may follow at once) is read.
                    forked = self._children[answer["pid"]] = ForkedProcess(answer["pid"], fds[0])
                    self._spawned.put_nowait(forked)
                elif (ended := self._children.pop(answer["exited"], None)) is not None:
                    ended.exited(answer["status"])
        except OSError:
            return
        finally:
            self._spawned.put_nowait(None)
            for child in self._children.values():  # the server took them with it (parent death)
                child.exited(-signal.SIGKILL)
            self._children.clear()

    @property
    def idle(self) -> bool:
        """No process it forked is running, and none is being forked."""
        return not self._children and not self._lock.locked()

    async def detach(self) -> tuple[subprocess.Popen[bytes], socket.socket] | None:
        """Stop listening on this loop; the server, for ``ForkServer(*server)`` on another loop. None
        (and the server closed) unless it is idle and running."""
        if not self.idle or self._listening.done() or self._process.poll() is not None:
            await self.close()
            return None
        await self._stop_listening()
        return self._process, self._control

    async def close(self) -> None:
        await self._stop_listening()
        await asyncio.to_thread(_end, self._process, self._control)

    async def _stop_listening(self) -> None:
        # Before the socket closes: its descriptor leaves the event loop before the number can be reused.
        self._listening.cancel()
        await asyncio.gather(self._listening, return_exceptions=True)


def _end(process: subprocess.Popen[bytes], control: socket.socket) -> None:
    control.close()  # the server's loop ends; its children end with it (parent death)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    process.wait()


@dataclass(frozen=True)
class ServerKind:
    """What the processes one server forks share: the environment its interpreter starts with (at
    least their ``startup_environment``), its working directory, what it imports ahead, and whether
    it runs in a session of its own (so that a Ctrl-C in the terminal reaches ecs-bg alone, which
    then stops what it forked as it chooses)."""

    environment: frozenset[tuple[str, str]]
    cwd: str
    preload: tuple[str, ...]
    session: bool = False
    # The folder the children put first on their path: a server that has imported a module of a name
    # found there ends at once (``interpreter.shadows``), and its callers start fresh processes.
    first_on_path: str | None = None
    # Kept, idle, when its run ends, for this process's next run (``KEPT``): a kind that names nothing
    # of one run (Lambda's runtime: the environment an interpreter starts with, and what it imports).
    keep: bool = False

    @classmethod
    def of(
        cls,
        environment: Mapping[str, str],
        cwd: Path,
        preload: Sequence[str],
        *,
        session: bool = False,
        first_on_path: Path | None = None,
        keep: bool = False,
    ) -> ServerKind:
        folder = None if first_on_path is None else str(first_on_path)
        return cls(frozenset(environment.items()), str(cwd), tuple(preload), session, folder, keep)


class KeptServers:
    """Idle servers of kinds kept between runs (``ServerKind.keep``), one per kind, for the next run of
    this process that asks for one: a process that makes world after world (``ecs-bg simulate`` in a
    test session, a fault suite) starts Lambda's runtime server once, not once per world. A server
    started by a thread that has since ended has ended too (the parent-death signal follows the
    thread): it is not taken. What is still kept at exit is ended then."""

    def __init__(self) -> None:
        self._servers: dict[ServerKind, tuple[subprocess.Popen[bytes], socket.socket]] = {}
        self._lock = threading.Lock()  # runs may end in threads of their own
        atexit.register(self.close)

    def take(self, kind: ServerKind) -> tuple[subprocess.Popen[bytes], socket.socket] | None:
        with self._lock:
            kept = self._servers.pop(kind, None)
        if kept is not None and kept[0].poll() is not None:
            _end(*kept)
            return None
        return kept

    def keep(self, kind: ServerKind, server: tuple[subprocess.Popen[bytes], socket.socket]) -> None:
        with self._lock:
            replaced = self._servers.pop(kind, None)
            self._servers[kind] = server
        if replaced is not None:
            _end(*replaced)

    def close(self) -> None:
        with self._lock:
            kept = list(self._servers.values())
            self._servers.clear()
        for server in kept:
            _end(*server)


KEPT = KeptServers()


class ForkServers:
    """The fork servers of one ``ecs-bg`` run, one per ``ServerKind``, each started when a process of
    its kind is first asked for (or taken from ``KEPT``)."""

    def __init__(self) -> None:
        self._servers: dict[ServerKind, asyncio.Future[ForkServer]] = {}

    async def get(self, kind: ServerKind) -> ForkServer:
        if kind not in self._servers:
            kept = KEPT.take(kind) if kind.keep else None
            self._servers[kind] = asyncio.ensure_future(
                ForkServer.start(kind) if kept is None else _attached(*kept)
            )
        try:
            return await asyncio.shield(self._servers[kind])
        except OSError:
            del self._servers[kind]  # the next process of its kind tries again
            raise

    async def close_idle(self) -> None:
        """Close the servers no running process was forked from: a revision's, once its tasks have
        stopped. A long ``ecs-bg local`` keeps only its current revisions' servers."""
        for kind, server in list(self._servers.items()):
            if (
                server.done()
                and not server.cancelled()
                and server.exception() is None
                and server.result().idle
            ):
                del self._servers[kind]
                await server.result().close()

    async def close(self) -> None:
        """Close every server, but keep each idle one of a kind kept between runs (``KEPT``)."""
        for kind, server in self._servers.items():
            with contextlib.suppress(OSError, asyncio.CancelledError):
                started = await server
                if not kind.keep:
                    await started.close()
                elif (detached := await started.detach()) is not None:
                    KEPT.keep(kind, detached)
        self._servers.clear()


async def _attached(process: subprocess.Popen[bytes], control: socket.socket) -> ForkServer:
    return ForkServer(process, control)


async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    fd = sock.fileno()  # the number it was registered under, even once the socket is closed
    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


if __name__ == "__main__":
    forked = None
    with contextlib.suppress(KeyboardInterrupt):
        started_with, preload, first_on_path = (json.loads(argument) for argument in sys.argv[2:5])
        forked = serve(socket.socket(fileno=int(sys.argv[1])), started_with, preload, first_on_path)
    if forked is not None:  # a child: it ends as an interpreter ends, with its entry's status
        status = become(*forked)
        # At exit the interpreter's last collections would walk every object the imports made only
        # to free what the OS reclaims; frozen, they are skipped.
        gc.freeze()
        sys.exit(status)
