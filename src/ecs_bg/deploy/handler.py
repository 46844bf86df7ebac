"""Lambda's handler ``module.function``, loaded from a code folder as Lambda's Python runtime loads it.

Standard library only: every hook worker imports this at its start (a cold start's cost), and so does
the probe that learns what a hook's code declares.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any


def load_handler(code: str, handler: str) -> Callable[[Any, Any], Any]:
    """Lambda's handler ``module.function`` from the code folder ``code``."""
    # `python -m` put the working directory first; Lambda's path has only the code folder (and the
    # runtime's libraries), so code that imports what sits beside it locally fails here as it would there.
    sys.path = [code, *(p for p in sys.path if p not in ("", os.getcwd(), code))]
    module_name, _, function_name = handler.rpartition(".")
    module = importlib.import_module(module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise AttributeError(f"module {module_name!r} has no callable {function_name!r}")
    return function  # type: ignore[no-any-return]
