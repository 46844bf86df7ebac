"""A Lambda execution environment for one function: ``python -m ecs_bg.local.lambda_.worker FD PACKAGE
HANDLER``, PACKAGE a JSON object: the folders the function imports from and the top-level modules the
runtime and its layers provide (``packages.Package``).

Like Lambda's Python bootstrap it puts the code folder first on ``sys.path`` (``/var/task``) and
imports the handler's module with ``importlib.import_module``, so the module is in ``sys.modules``
under its own name and helper modules beside it import. Nothing else of this interpreter's
environment is importable: ecs-bg's own modules are dropped once the worker is set up, and any import
that is neither the standard library, the runtime's, a layer's nor found in the function's folders
fails as on Lambda (Runtime.ImportModuleError). Invocations arrive and answers leave as
JSON lines on a private socket (file descriptor FD), never on stdout or stderr: whatever the
function prints, on either stream, is its log and cannot break the runner, which owns the file both
streams are written to.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.abc
import importlib.machinery
import json
import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from ecs_bg.deploy.handler import load_handler
from ecs_bg.local.lambda_.context import LocalLambdaContext


def lambda_logging() -> None:
    """A handler on the root logger, as Lambda's Python runtime installs one: samples that only
    ``logging.getLogger().setLevel(logging.INFO)`` see their lines in the log (tab-separated level,
    time and message, Lambda's text format without the request id)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s\t%(message)s"))
    logging.getLogger().addHandler(handler)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # the function closed or broke its own stream
            stream.flush()


class LambdaImports(importlib.abc.MetaPathFinder):
    """Lets a top-level import through only if Lambda would have it: the standard library, what the
    runtime and layers provide, or what the function's folders hold."""

    def __init__(self, folders: Sequence[str], provided: set[str]) -> None:
        self.folders, self.provided = list(folders), provided

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if "." in fullname or fullname in sys.stdlib_module_names or fullname in self.provided:
            return None  # a submodule follows its package; the rest is the usual finders' to find
        spec = importlib.machinery.PathFinder.find_spec(fullname, self.folders)
        if spec is not None:
            # From the function's folders alone: a namespace package such as ecs_bg, which this
            # interpreter's environment holds too, gets only the function's own portions.
            return spec
        raise ModuleNotFoundError(f"No module named '{fullname}'", name=fullname)


def isolate(folders: Sequence[str], provided: Sequence[str]) -> None:
    """From here on the function imports only what Lambda would give it; the worker's own modules
    (this package) are forgotten, so ``import ecs_bg`` finds the function's own copy or nothing."""
    for name in [name for name in sys.modules if name == "ecs_bg" or name.startswith("ecs_bg.")]:
        del sys.modules[name]
    sys.path = [*folders, *(p for p in sys.path if p not in ("", os.getcwd(), *folders))]
    sys.meta_path.insert(0, LambdaImports(folders, set(provided)))


def main(fd: int, package: dict[str, Any], handler: str) -> int:
    channel = socket.socket(fileno=fd)
    os.set_inheritable(fd, False)  # nothing the function starts gets the channel
    # Lambda's task root is read-only: no __pycache__ is written beside the function's code (nor into
    # a staged asset), whatever the environment that started ecs-bg sets, which no worker inherits.
    sys.dont_write_bytecode = True
    reader, writer = channel.makefile("r", encoding="utf-8"), channel.makefile("w", encoding="utf-8")

    def send(answer: dict[str, Any]) -> None:
        _flush()  # what the function printed reaches its log before the runner reads it
        try:
            text = json.dumps(answer)
        except (TypeError, ValueError) as error:  # a response Lambda could not serialize either
            text = json.dumps({"error": f"Runtime.MarshalError: {error}"})
        writer.write(text + "\n")
        writer.flush()

    lambda_logging()
    folders = [str(folder) for folder in package["folders"]]
    isolate(folders, package["provided"])
    try:
        function = load_handler(folders[0], handler)
    except Exception as error:  # noqa: BLE001 - an import error is the init error Lambda reports
        traceback.print_exc()
        send(
            {
                "ready": False,
                "error": f"Runtime.ImportModuleError: Unable to import module {handler!r}: {error}",
            }
        )
        return 1
    send({"ready": True})
    for line in reader:
        request = json.loads(line)
        context = LocalLambdaContext(**request["context"])
        began = time.perf_counter()
        try:
            answer: dict[str, Any] = {"response": function(request["event"], context)}
        except Exception as error:  # noqa: BLE001 - Lambda turns an escaped exception into a function error
            traceback.print_exc()  # Lambda logs it too
            answer = {"error": f"{type(error).__name__}: {error}"}
        answer["durationMs"] = round((time.perf_counter() - began) * 1000, 1)
        send(answer)
    return 0


def forked(request: dict[str, Any], fds: Sequence[int]) -> int:
    """The fork server's entry (``forkserver``): ``main`` with the request's package and handler."""
    return main(fds[0], request["package"], request["handler"])


if __name__ == "__main__":
    status = main(int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3])
    # Nothing is left open: at exit the interpreter's last collections would walk every object the
    # imports made (~0.2 s with boto3) only to free what the OS reclaims; frozen, they are skipped.
    gc.freeze()
    sys.exit(status)
