"""Execution environments forked from one interpreter that has imported the runtime's SDK already.

A cold start used to start a new interpreter that imported boto3 and botocore (0.2 s of CPU, more on
a busy machine) before the handler's own module, in every worker: Lambda's Python runtime ships
them ("Building Lambda functions with Python", https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html),
so they are the same for every function. Here one process per run and set of startup variables
(``ForkServers``), ``python -P -m ecs_bg.local.lambda_.forkserver FD STARTUP``, imports them once and
forks each worker (Linux only: it relies on pidfds and the parent-death signal). Everything else is
as a fresh worker's: the child sets its environment (exactly the function's, and what the interpreter
added at its start), working directory, stdout and stderr before ``worker.main`` imports the handler;
its interpreter was started with the same startup variables (``startup_environment``, given as
STARTUP too); a function that bundles its own copy of a runtime module, or native libraries that the
dynamic loader would find through LD_LIBRARY_PATH (read once, at a process's start), starts as a
fresh interpreter instead (``forkable``).

The protocol, on a SOCK_SEQPACKET socket pair: the runner sends one JSON request per message with
two descriptors (the worker's channel and its output file) and gets back ``{"pid"}`` with a pidfd
of the child (so a kill can never reach a process that reused the pid); ``{"exited", "status"}``
follows when the child ends.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import json
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ecs_bg.local.parent_death import ends_with_parent

# What is imported ahead: the runtime's SDK (its dependencies come with it).
PRELOADED: Final = ("boto3",)
MESSAGE_SIZE: Final = 1 << 20  # a request: the function's environment, its package, its handler
SUPPORTED: Final = sys.platform.startswith("linux") and hasattr(os, "pidfd_open")


def startup_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The variables an interpreter reads once, as it starts (buffering, hash seed, locale): workers
    whose environments agree on these can be forked from one server started with them. The dynamic
    loader's LD_LIBRARY_PATH and LD_PRELOAD are read at a process's start too; a function that needs
    them starts fresh (``forkable``)."""
    return {
        name: value
        for name, value in environment.items()
        if name.startswith(("PYTHON", "LC_")) or name == "LANG"
    }


def forkable(folders: Sequence[Path], runtime_modules: Iterable[str], *, loader_changed: bool) -> bool:
    """Whether a worker importing from ``folders`` may be forked from a server: not if the function
    bundles its own copy of a module the server has imported (its copy must win, as on Lambda), holds
    native libraries, or changes the dynamic loader's variables (``loader_changed``)."""
    if not SUPPORTED or loader_changed:
        return False
    shadowing = set(runtime_modules)
    for folder in folders:
        if (folder / "lib").is_dir():
            return False
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.split(".")[0] in shadowing or ".so" in entry.name:
                    return False
    return True


# -- the server ------------------------------------------------------------------------------------


def _child(request: dict[str, Any], added: Mapping[str, str], channel: int, output: int) -> int:
    """In the forked child: become the function's execution environment, then run the worker."""
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for name, value in added.items():  # what the interpreter set at its start (C locale coercion)
        os.environ.setdefault(name, value)
    time.tzset()  # TZ, which the C library read when the server started, is the function's now
    from ecs_bg.local.lambda_ import worker

    status = worker.main(channel, request["package"], request["handler"])
    # As the interpreter would at exit (os._exit below skips it): what the function registered.
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    return status


def serve(control: socket.socket, started_with: Mapping[str, str]) -> None:
    # What the interpreter added to its own environment as it started: Python's C locale coercion
    # (PEP 538) sets LC_CTYPE when the locale LANG names is missing. A fresh worker would have it too.
    added = {name: value for name, value in os.environ.items() if name not in started_with}
    for module in PRELOADED:
        __import__(module)
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
                message, fds, _, _ = socket.recv_fds(control, MESSAGE_SIZE, 2)
                if not message:
                    return  # the runner has gone
                channel, output = fds
                with_server = ends_with_parent()  # made here: the child's parent is this process
                pid = os.fork()
                if pid == 0:
                    status = 70
                    try:
                        if with_server is not None:
                            with_server()  # the server ends (its runner has gone): so does the worker
                        signal.set_wakeup_fd(-1)
                        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                        selector.close()
                        control.close()
                        os.close(wakeup_read)
                        os.close(wakeup_write)
                        status = _child(json.loads(message), added, channel, output)
                    finally:
                        os._exit(status)
                os.close(channel)
                os.close(output)
                pidfd = os.pidfd_open(pid)  # before any reaping below: it names this child
                socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [pidfd])
                os.close(pidfd)
            else:
                with contextlib.suppress(BlockingIOError):
                    os.read(wakeup_read, 512)
                _reap(control)


def _reap(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        control.send(json.dumps({"exited": pid, "status": os.waitstatus_to_exitcode(status)}).encode())


# -- the runner's side -----------------------------------------------------------------------------


class ForkedWorker:
    """A worker forked by the server: what the runner uses of ``asyncio.subprocess.Process``."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._pidfd = pidfd
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def kill(self) -> None:
        if self.returncode is not None:
            raise ProcessLookupError(self.pid)
        signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def exited(self, status: int) -> None:
        self.returncode = status
        os.close(self._pidfd)
        if not self._exited.done():
            self._exited.set_result(status)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)


class ForkServer:
    def __init__(self, process: asyncio.subprocess.Process, control: socket.socket) -> None:
        self._process = process
        self._control = control
        self._workers: dict[int, ForkedWorker] = {}
        self._spawned: asyncio.Queue[ForkedWorker | None] = asyncio.Queue()
        self._lock = asyncio.Lock()  # one spawn at a time: replies come back in order
        self._listening = asyncio.ensure_future(self._listen())

    @classmethod
    async def start(cls, environment: Mapping[str, str], cwd: Path) -> ForkServer:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-P",
                "-m",
                "ecs_bg.local.lambda_.forkserver",
                str(theirs.fileno()),
                json.dumps(dict(environment)),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                env=dict(environment),
                cwd=cwd,
                pass_fds=(theirs.fileno(),),
                preexec_fn=ends_with_parent(),
            )
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        return cls(process, ours)

    async def spawn(self, request: dict[str, Any], channel: int, output: int) -> ForkedWorker:
        async with self._lock:
            if self._listening.done():
                raise OSError("the fork server has ended")
            data = json.dumps(request).encode()
            while True:
                try:
                    socket.send_fds(self._control, [data], [channel, output])
                    break
                except BlockingIOError:  # the server's socket buffer is full: it is reading
                    await asyncio.sleep(0.01)
            reply = asyncio.ensure_future(self._spawned.get())
            try:
                worker = await asyncio.shield(reply)
            except asyncio.CancelledError:
                # The server forks anyway: its reply is this request's, not the next one's, and the
                # worker nobody will use ends at once.
                orphan = await reply
                if orphan is not None:
                    with contextlib.suppress(ProcessLookupError):
                        orphan.kill()
                raise
        if worker is None:
            raise OSError("the fork server has ended")
        return worker

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
                    forked = self._workers[answer["pid"]] = ForkedWorker(answer["pid"], fds[0])
                    self._spawned.put_nowait(forked)
                elif (ended := self._workers.pop(answer["exited"], None)) is not None:
                    ended.exited(answer["status"])
        except OSError:
            return
        finally:
            self._spawned.put_nowait(None)
            for worker in self._workers.values():  # the server took them with it (parent death)
                worker.exited(-signal.SIGKILL)
            self._workers.clear()

    async def close(self) -> None:
        # The listener first: its descriptor leaves the event loop before the number can be reused.
        self._listening.cancel()
        await asyncio.gather(self._listening, return_exceptions=True)
        self._control.close()  # the server's loop ends; its children end with it (parent death)
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        await self._process.wait()


class ForkServers:
    """The servers of one ``ecs-bg`` run, shared by its functions' runners: one per set of startup
    variables (``startup_environment``), started at the first cold start that needs it."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._servers: dict[frozenset[tuple[str, str]], asyncio.Future[ForkServer]] = {}

    async def get(self, startup: Mapping[str, str]) -> ForkServer:
        key = frozenset(startup.items())
        if key not in self._servers:
            self._servers[key] = asyncio.ensure_future(ForkServer.start(startup, self.cwd))
        try:
            return await asyncio.shield(self._servers[key])
        except OSError:
            del self._servers[key]  # the next cold start tries again
            raise

    async def close(self) -> None:
        for server in self._servers.values():
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await (await server).close()
        self._servers.clear()


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
    with contextlib.suppress(KeyboardInterrupt):
        serve(socket.socket(fileno=int(sys.argv[1])), json.loads(sys.argv[2]))
