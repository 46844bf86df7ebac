"""What a process forked from a Python interpreter that has imported ahead must match of a fresh one.

Two kinds of process are forked rather than started (Linux only): the local Lambda's workers and the
sample's tasks (``local/forkserver.py``), and the probes that import a hook's code (``probe.py``).
Each is right only where a fresh interpreter would have behaved the same: started with the same
variables it reads once, as it starts, and finding on its path no module of the name of one the
server imported already.

Standard library only: a probe server imports this before anything else.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

# Forking from a server needs Linux: pidfds, so that a signal never reaches a process that reused a pid.
SUPPORTED: Final = sys.platform.startswith("linux") and hasattr(os, "pidfd_open")


def startup_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The variables an interpreter reads once, as it starts (buffering, hash seed, locale): processes
    whose environments agree on these can be forked from one server started with them. The dynamic
    loader's LD_LIBRARY_PATH and LD_PRELOAD are read at a process's start too: a process whose
    environment sets them otherwise than the server's starts fresh."""
    return {
        name: value
        for name, value in environment.items()
        if name.startswith(("PYTHON", "LC_")) or name == "LANG"
    }


def module_names(folder: str | Path, *, regular: bool = False) -> set[str]:
    """What ``import name`` finds in ``folder``: packages, modules, extension modules. ``regular``:
    not namespace packages (folders without ``__init__.py``), which a module or package found later
    on the path takes precedence over."""
    with os.scandir(folder) as entries:
        return {
            entry.name.partition(".")[0]
            for entry in entries
            if (entry.is_dir() and (not regular or os.path.isfile(os.path.join(entry.path, "__init__.py"))))
            or (entry.is_file() and (entry.name.endswith((".py", ".pyc")) or ".so" in entry.name))
        }


def shadows(folder: str | Path, imported: Iterable[str]) -> bool:
    """Whether ``folder``, put first on a child's path, holds a module of the name of one a server has
    ``imported`` (module names, dotted or not): a fresh interpreter would import the folder's
    (wherever it is imported, even by a library), and the server's would stand in its place."""
    loaded = {name.partition(".")[0] for name in imported}
    return not loaded.isdisjoint(module_names(folder, regular=True))
