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
from collections.abc import Mapping
from pathlib import Path


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
