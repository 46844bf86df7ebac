"""What a hook function's code declares, learned by importing it as Lambda would, in its own process.

``python -m ecs_bg.deploy.probe CODE HANDLER`` reads a JSON list of hookDetails objects on stdin and
prints one JSON object: whether the handler is an ecs_bg ``LifecycleHook``, the checks its code
registers with their IAM permissions, and each hookDetails' problems as that hook itself judges
them when it starts (its own ``custom_keys``, the built-in and registered checks' settings), over
its entry file's defaults and the function's ``ECS_BG_HOOK_DETAILS`` as at run time. A hook not
built on ecs_bg judges nothing: its keys are its own. The CDK app grants the registered checks'
permissions; ``ecs-bg lint`` (ECS025) and the stack's hookDetails context
(``stack_context.hook_details_problems``) report the problems.

A fresh interpreter spends most of a probe (0.15 s of CPU) importing what every hook's code imports:
ecs_bg.hooks and Powertools. So on Linux the first probe of a process starts a probe server
(``python -m ecs_bg.deploy.probe --serve``), which imports them once and forks a child per probe that
becomes what the fresh interpreter would have been (its environment, working directory, output)
before it imports the code: a probe then takes 0.03 s. The server answers only where a fresh
interpreter would answer the same (``interpreter``): started with the same startup variables and the
ones its imports read (``IMPORT_TIME_VARIABLES``), and with no module in the code's folder of a name it
has imported. Anything else, and a server that has gone, is probed by a fresh interpreter. It ends
when this process does (its requests' pipe closes).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.interpreter import SUPPORTED, shadows, startup_environment
from ecs_bg.hooks.config import HOOK_DETAILS_ENV

if TYPE_CHECKING:  # not imported in the probing process, which starts once per hook and should be quick
    from ecs_bg.deploy.functions import LambdaFunction
    from ecs_bg.hooks.handler import LifecycleHook

PROBE_TIMEOUT = 60.0  # real seconds to import a hook's code
# What this process has learned already, by everything the answer depends on (``_inputs``): `ecs-bg
# simulate` judges each hook's hookDetails twice (lint, then the world's functions), each a process.
_PROBED: dict[tuple[object, ...], Probed] = {}
# What the server imports ahead: what every probe imports (the handler loader, the hooks library and
# the Powertools logger each LifecycleHook makes).
PRELOAD = ("ecs_bg.deploy.handler", "ecs_bg.hooks", "aws_lambda_powertools.logging")
# The variables PRELOAD reads as it is imported (Powertools: its user agent and debug logging), which
# a fork would see as the server saw them; a test holds this list to what the imports really read.
IMPORT_TIME_VARIABLES = ("AWS_EXECUTION_ENV", "AWS_LAMBDA_INITIALIZATION_TYPE", "POWERTOOLS_DEBUG")


@dataclass(frozen=True)
class Probed:
    ecs_bg: bool
    # check name -> its permissions: {"actions": [...], "resource": ..., "wildcardReason": ...}
    checks: dict[str, list[dict[str, Any]]]
    problems: list[list[tuple[str, str]]]  # per hookDetails given: (path, reason)


def probe(function: LambdaFunction, details: list[dict[str, Any]] | None = None) -> Probed:
    """Import ``function``'s handler in a fresh interpreter with the function's environment, as Lambda
    would (its code may read a variable as it loads); ``DefinitionError`` if it cannot."""
    environment = {**os.environ, **function.environment}
    if HOOK_DETAILS_ENV not in function.environment:  # only the function's own layer, never the caller's
        environment.pop(HOOK_DETAILS_ENV, None)
    library = _library_files()
    key = _inputs(function, details or [], environment, library)
    if key not in _PROBED:
        _PROBED[key] = _probe(function, details or [], environment, library)
    return _PROBED[key]


def _inputs(
    function: LambdaFunction,
    details: list[dict[str, Any]],
    environment: dict[str, str],
    library: tuple[object, ...],
) -> tuple[object, ...]:
    """What a probe's answer depends on: the function's code and this interpreter's ecs_bg.hooks
    (``library``) as their files are now (an edit while `ecs-bg local` runs probes again), its handler,
    environment and the hookDetails judged."""
    return (
        str(function.code),
        function.handler,
        json.dumps(details, sort_keys=True, default=str),
        frozenset(environment.items()),
        _files(function.code),
        library,
    )


def _library_files() -> tuple[object, ...]:
    """This interpreter's ecs_bg.hooks, file by file, as they are now."""
    hooks = importlib.util.find_spec("ecs_bg.hooks")  # found, not imported
    return tuple(_files(Path(folder)) for folder in (hooks and hooks.submodule_search_locations) or [])


def _files(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file below ``folder`` with its modification time and size (compiled bytecode aside)."""
    found: list[tuple[str, int, int]] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            with contextlib.suppress(OSError):  # gone since the listing: its absence is in the key
                stat = os.stat(os.path.join(root, name))
                found.append((os.path.join(root, name), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


@dataclass(frozen=True)
class Ran:
    """How a probe's process ended: its exit status (None: killed at PROBE_TIMEOUT) and its output."""

    returncode: int | None
    stdout: str
    stderr: str


def _probe(
    function: LambdaFunction,
    details: list[dict[str, Any]],
    environment: dict[str, str],
    library: tuple[object, ...],
) -> Probed:
    request = {"code": str(function.code), "handler": function.handler, "details": details}
    done = _served(request, environment, library) or _fresh(request, environment)
    if done.returncode is None:
        raise DefinitionError(
            f"{function.name}: importing {function.handler} took over {PROBE_TIMEOUT:g} s"
        ) from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        why = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        raise DefinitionError(
            f"{function.name}: cannot import {function.handler} from {function.code}: {why}"
        )
    answer = json.loads(lines[-1])
    return Probed(
        answer["ecsBg"],
        answer["checks"],
        [[(str(path), str(reason)) for path, reason in problems] for problems in answer["problems"]],
    )


def _fresh(request: dict[str, Any], environment: dict[str, str]) -> Ran:
    """The probe in an interpreter of its own."""
    try:
        done = subprocess.run(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-m", "ecs_bg.deploy.probe", request["code"], request["handler"]],
            env=environment,
            input=json.dumps(request["details"]),
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Ran(None, "", "")
    return Ran(done.returncode, done.stdout, done.stderr)


# -- the probe server ----------------------------------------------------------------------------


class _Server:
    """A probe server this process started, and what it has imported (top-level names)."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ecs_bg.deploy.probe", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment,
            text=True,
            start_new_session=True,  # a Ctrl-C is for this process, which the server ends with
        )
        self.lock = threading.Lock()  # one probe at a time: answers come back in order
        try:
            self.loaded = frozenset(self._exchange(None).get("loaded") or ())
        except (OSError, ValueError):  # it could not import ahead: it ends here, not at our exit
            self.close()
            raise

    def _exchange(self, request: dict[str, Any] | None) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        if request is not None:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise OSError("the probe server has ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, request: dict[str, Any]) -> Ran:
        with self.lock:
            return Ran(**self._exchange(request))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()  # the server ends at the end of its requests
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
            return
        self.process.kill()
        self.process.wait()


# By the variables it started with: the server of the hooks library as its files were then, or None
# where none could start.
_SERVERS: dict[frozenset[tuple[str, str]], tuple[tuple[object, ...], _Server | None]] = {}
_SERVERS_LOCK = threading.Lock()


def _served(request: dict[str, Any], environment: dict[str, str], library: tuple[object, ...]) -> Ran | None:
    """The probe forked by this process's server for ``environment``; None where a fresh interpreter
    must answer it (no server here, or one whose imports the code's folder would shadow). A server
    whose hooks library has been edited since it imported it is replaced."""
    if not SUPPORTED:
        return None
    if any(name in environment for name in ("LD_PRELOAD", "LD_LIBRARY_PATH")):
        return None  # the dynamic loader reads them as a process starts
    # The server starts with only what its imports read (HOME: where the user's site-packages are), so
    # that no function's environment stays in it for another's probe to find.
    started_with = {
        **startup_environment(environment),
        **{name: environment[name] for name in (*IMPORT_TIME_VARIABLES, "HOME") if name in environment},
    }
    key = frozenset(started_with.items())
    with _SERVERS_LOCK:
        imported, server = _SERVERS.get(key, (None, None))
        if imported != library:
            if server is not None:
                server.close()
            try:
                server = _Server(started_with)
            except (OSError, ValueError):
                server = None
            _SERVERS[key] = library, server
    if server is None:
        return None
    try:
        if shadows(request["code"], server.loaded):
            return None
    except OSError:
        return None  # no such folder: a fresh interpreter says so as Lambda's would
    try:
        return server.run({**request, "env": environment, "cwd": os.getcwd(), "timeout": PROBE_TIMEOUT})
    except (OSError, ValueError):
        server.close()  # it has gone (reaped here): fresh interpreters from now on
        with _SERVERS_LOCK:
            _SERVERS[key] = library, None
        return None


@atexit.register
def _close_servers() -> None:
    for _, server in _SERVERS.values():
        if server is not None:
            server.close()


def _serve() -> int:
    """The server: import PRELOAD, say what is imported, then fork each request's probe in turn."""
    for module in PRELOAD:
        importlib.import_module(module)
    loaded = sorted({name.partition(".")[0] for name in sys.modules})
    print(json.dumps({"loaded": loaded}), flush=True)
    gc.freeze()  # what the imports made is shared with each child, not copied by its collections
    for line in sys.stdin:
        print(json.dumps(_fork(json.loads(line)).__dict__), flush=True)
    return 0


def _fork(request: dict[str, Any]) -> Ran:
    # Memory files, not the tempfile module's: it would keep the server's temporary folder for a child
    # whose TMPDIR says otherwise.
    out, err = os.memfd_create("stdout"), os.memfd_create("stderr")
    pid = os.fork()
    if pid == 0:
        _become(request, out, err)
    pidfd = os.pidfd_open(pid)
    try:
        ended, _, _ = select.select([pidfd], [], [], request["timeout"])
        if not ended:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(pidfd)
    return Ran(os.waitstatus_to_exitcode(status) if ended else None, _read(out), _read(err))


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    with open(fd, "rb") as written:
        return written.read().decode(errors="replace")


def _become(request: dict[str, Any], out: int, err: int) -> None:
    """In the child: the fresh interpreter's probe, with the request's environment, working directory
    and details; its output to ``out`` and ``err``. It ends here, with the status a fresh one would."""
    status: int = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.path[0] = request["cwd"]  # where `python -m` put the caller's working directory
        sys.argv = [sys.argv[0], request["code"], request["handler"]]
        sys.stdin = open(os.devnull)  # noqa: SIM115 - the process's, until it ends
        status = _main(request["code"], request["handler"], request["details"])
    except SystemExit as exit_:  # as the interpreter ends on it
        if isinstance(exit_.code, int) or exit_.code is None:
            status = exit_.code or 0
        else:
            print(exit_.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - reported as the interpreter reports it, then the child ends
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.flush()
        os._exit(status)


def _main(code: str, handler: str, details: list[dict[str, Any]]) -> int:
    from ecs_bg.deploy.handler import load_handler
    from ecs_bg.hooks.checks import custom_checks
    from ecs_bg.hooks.handler import LifecycleHook

    out = sys.stdout
    sys.stdout = sys.stderr  # whatever the hook prints while importing stays off the answer
    function = load_handler(code, handler)
    hook = getattr(function, "__self__", None)
    problems = [_judged(hook, d) if isinstance(hook, LifecycleHook) else [] for d in details]
    checks = {
        name: [
            {"actions": list(p.actions), "resource": p.resource, "wildcardReason": p.wildcard_reason}
            for p in check.permissions
        ]
        for name, check in custom_checks().items()
    }
    is_ecs_bg = isinstance(hook, LifecycleHook)
    out.write(json.dumps({"ecsBg": is_ecs_bg, "checks": checks, "problems": problems}) + "\n")
    return 0


def _judged(hook: LifecycleHook, details: dict[str, Any]) -> list[list[str]]:
    """The problems of ``details`` as ``hook`` judges them when it starts: layered over its entry file's
    defaults and ECS_BG_HOOK_DETAILS (which may give a check's required settings), each problem of a
    key that ``details`` set; the other layers' keys are theirs to answer for."""
    from ecs_bg.hooks.checks import validate_hook_details
    from ecs_bg.hooks.config import ConfigError, layered_details

    try:
        layered = layered_details(hook.defaults, details)
    except ConfigError as error:  # ECS_BG_HOOK_DETAILS itself is no JSON object: every run fails so
        return [[error.path, error.reason]]
    return [
        [e.path, e.reason]
        for e in validate_hook_details(layered, hook.custom_keys)
        if any(e.path == key or e.path.startswith((f"{key}.", f"{key}[")) for key in details)
    ]


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        sys.exit(_serve())
    sys.exit(_main(Path(sys.argv[1]).as_posix(), sys.argv[2], json.loads(sys.stdin.read() or "[]")))
