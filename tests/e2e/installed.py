"""ecs-bg as a user installs it: this repository's two wheels (ecs-bg and ecs-bg-hooks), built with
uv and installed into fresh virtual environments, away from this repository's own environment.

Dependencies are installed at the versions uv.lock pins (``uv export`` of the lock as constraints), so
a test of the installed tool runs the same libraries as the rest of the suite."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT

DISTRIBUTIONS = ("ecs-bg", "ecs-bg-hooks")


def uv(*args: str, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    found = shutil.which("uv")
    command = [found] if found else ["python3", "-m", "uv"]
    done = subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"uv {' '.join(args)} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done


def build_wheels(into: Path) -> None:
    """Both distributions' wheels, built from this repository's sources, into ``into``."""
    uv("build", "--all-packages", "--wheel", "--out-dir", str(into))


def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both wheels, built once per test session; by distribution name."""
    into = once(tmp_path_factory, "wheels", build_wheels)
    return {d: next(into.glob(f"{d.replace('-', '_')}-*.whl")) for d in DISTRIBUTIONS}


def environment(path: Path, wheels: list[Path], lock_of: str | None = None) -> Path:
    """A fresh virtual environment at ``path`` with ``wheels`` installed and what they depend on, at
    uv.lock's versions for the dependencies of ``lock_of`` (a workspace package; None: ecs-bg's);
    its bin folder."""
    constraints = path.parent / f"{path.name}-constraints.txt"
    package = ["--package", lock_of] if lock_of else []
    uv(
        "export",
        "--frozen",
        "--no-hashes",
        "--no-emit-workspace",
        "--no-default-groups",
        *package,
        "--output-file",
        str(constraints),
    )
    uv("venv", "--quiet", "--python", sys.executable, str(path))
    python = path / "bin" / "python"
    # Not compiled ahead, as `uv tool install` and `uv pip install` leave it by default: the first run
    # compiles what it imports (about 1,000 of the 8,000 files; compiling them all took 16 s of CPU)
    # and later runs read that. So the tool's runs write bytecode: see ``user_environment``.
    uv(
        "pip",
        "install",
        "--quiet",
        "--python",
        str(python),
        "--constraint",
        str(constraints),
        *map(str, wheels),
    )
    return path / "bin"


def user_environment(**extra: str) -> dict[str, str]:
    """This environment as a user's shell would have it for an installed tool: none of this repository's
    (PYTHONPATH, its virtual environment), and bytecode written, as Python does by default (this
    machine and many CI machines set PYTHONDONTWRITEBYTECODE)."""
    mine = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    return {**{k: v for k, v in os.environ.items() if k not in mine}, **extra}


def installed(bin_dir: Path) -> set[str]:
    """The distributions installed in the environment of ``bin_dir``, names normalized."""
    done = uv("pip", "list", "--python", str(bin_dir / "python"), "--format", "freeze")
    return {line.split("==")[0].lower().replace("_", "-") for line in done.stdout.splitlines() if line}


def once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]) -> Path:
    """The folder ``name``, filled by ``make`` once per test session: pytest-xdist's workers share it
    (their temporary folders have one parent per session), so the wheels, the tool's environment and a
    CDK synthesis are made once, not once per worker."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (folder / ".made").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".made").touch()
    return folder
