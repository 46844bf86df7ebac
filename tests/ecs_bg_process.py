"""``ecs-bg`` run as a user runs it: a subprocess of this environment's interpreter, in a folder of the
test's choosing, with a wide terminal so that one-line errors stay on one line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def ecs_bg(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``ecs-bg args…`` in ``cwd`` with ``env`` (default: this process's), its exit status and output."""
    return subprocess.run(
        [sys.executable, "-m", "ecs_bg.cli", *args],
        cwd=cwd,
        env={**(os.environ if env is None else env), "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
