"""A process-runtime task's command as a program this interpreter runs (``python -m module``, ``python
script.py``), forked from a server that has imported the libraries its own code imports at the top
(``forkserver``): the sample service's tasks import FastAPI once per revision, not once each.

A task forked so is the process a fresh interpreter would be, as far as its code can tell:
- its environment, working directory, ``sys.argv`` and ``sys.path[0]`` are the command's;
- the server it forks from was started with the task's whole environment but its PORT (one server per
  revision and container), so a library that reads its environment at import reads the task's;
- what the libraries print as they are imported is the first thing in its output;
- nothing in ``sys.path[0]`` shadows a module the server has imported (else the server ends at once
  and the task starts fresh: ``ServerKind.first_on_path``).
What differs: ``sys.orig_argv`` and ``/proc/self/cmdline`` name the server, and ``sys.flags.safe_path``
is set. A command that is not such a program, or whose code imports only the standard library, starts
as a fresh process, as before.
"""

from __future__ import annotations

import ast
import functools
import runpy
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_bg.deploy.interpreter import module_names

ENTRY = "ecs_bg.local.runtime.program:run"  # what the fork server runs in the child


@dataclass(frozen=True)
class Program:
    argv: tuple[str, ...]  # what follows the interpreter: ("-m", module, ...) or (script, ...)
    path0: Path  # sys.path[0], as the interpreter sets it for that command
    preload: tuple[str, ...]  # what its own code imports at the top, from outside its own folder


def program(command: Sequence[str], cwd: Path) -> Program | None:
    """``command``, run in ``cwd``, as a program worth forking; None: it starts as a fresh process."""
    return _program(tuple(command), cwd)


# Read once per command: a revision's tasks start alike, and its code is parsed, not run (what it
# imports ahead is only that: a task imports what its code needs, whatever was read here).
@functools.lru_cache(maxsize=64)
def _program(command: tuple[str, ...], cwd: Path) -> Program | None:
    if len(command) < 2 or command[0] != sys.executable:
        return None
    argv = command[1:]
    if argv[0] == "-m" and len(argv) >= 2:
        path0 = cwd.resolve()
        root = argv[1].split(".")[0]
        package, module = path0 / root, path0 / f"{root}.py"
        sources = sorted(package.rglob("*.py")) if package.is_dir() else [module] if module.is_file() else []
    elif not argv[0].startswith("-"):
        script = (cwd / argv[0]).resolve()  # the interpreter resolves symbolic links for sys.path[0]
        path0, sources = script.parent, [script] if script.is_file() else []
    else:
        return None  # interpreter options: left to the interpreter
    if not sources:
        return None  # not found: the interpreter says so, as it would
    own = module_names(path0)  # namespace packages too: its own code imports them
    preload = sorted({name for name in _imports(sources) if name.split(".")[0] not in own})
    if not any(name.split(".")[0] not in sys.stdlib_module_names for name in preload):
        return None  # the standard library alone: a fresh interpreter starts as fast
    return Program(argv, path0, tuple(preload))


def _imports(sources: Sequence[Path]) -> set[str]:
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source.read_bytes(), str(source))
        except (OSError, SyntaxError, ValueError):
            continue  # the interpreter reports it, as it would
        names.update(_top_level_imports(tree.body))
    names.discard("__future__")
    return names


def _top_level_imports(body: list[ast.stmt]) -> Iterator[str]:
    """The absolute imports a module's top level runs: not those in functions (imported when called)
    nor those under ``if TYPE_CHECKING:`` (never at run time)."""
    for node in body:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.module
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _top_level_imports(node.orelse)
        elif isinstance(node, ast.If | ast.Try | ast.With | ast.ClassDef):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, ()):
                    yield from _top_level_imports(
                        child.body if isinstance(child, ast.ExceptHandler) else [child]
                    )


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def request(program: Program, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """The fork server's request for a task running ``program``."""
    return {
        "entry": ENTRY,
        "env": env,
        "cwd": str(cwd),
        "session": True,  # as start_new_session: a Ctrl-C in the terminal reaches ecs-bg, which stops it
        "argv": list(program.argv),
        "path0": str(program.path0),
    }


def run(request: dict[str, Any], fds: Sequence[int]) -> int:
    """In the forked child: run the program as the interpreter runs ``python ARGV``. An exception it
    lets escape ends the process as it ends an interpreter: a traceback and status 1."""
    argv = request["argv"]
    sys.path.insert(0, request["path0"])
    if argv[0] == "-m":
        sys.argv = ["-m", *argv[2:]]  # argv[0] becomes the module's file, as with python -m
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(argv)
        runpy.run_path(argv[0], run_name="__main__")
    return 0
