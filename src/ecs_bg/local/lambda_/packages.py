"""What a function's code can import, as Lambda packages it: its deployment package, its layers, the
runtime, and nothing of ecs-bg's own environment.

- The deployment package: the code folder (a CDK asset as ``cdk.out`` holds it), or, for the stack's
  hooks built from cdk.json, the folder the CDK app stages (``deploy.functions.stage_asset``: the entry
  files and ``ecs_bg.hooks``). A ``requirements.txt`` in the code folder is installed as a deployment
  package is built for Lambda, ``pip install --target`` ("Working with .zip file archives for Python
  Lambda functions", https://docs.aws.amazon.com/lambda/latest/dg/python-package.html), once per
  content: the folder is cached under its hash.
- The runtime: Lambda's Python runtimes include the AWS SDK for Python, boto3 and botocore, and what
  they depend on ("Building Lambda functions with Python",
  https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html).
- Layers: the distributions a function's layers hold (``LambdaFunction.layer_packages``).

The worker refuses to import anything else (``worker``), so a function whose dependency is missing
fails as it would on Lambda: Runtime.ImportModuleError.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import importlib.metadata
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ecs_bg.deploy.functions import LambdaFunction, stage_asset
from ecs_bg.deploy.interpreter import SUPPORTED

RUNTIME_DISTRIBUTIONS: Final = (
    "boto3",
    "botocore",
    "urllib3",
    "jmespath",
    "s3transfer",
    "python-dateutil",
    "six",
)
REQUIREMENTS = "requirements.txt"
INSTALL_TIMEOUT = 600.0  # real seconds a requirements install may take


@dataclass(frozen=True)
class Package:
    """Where a function imports from: its folders (the code folder first, then its requirements'),
    and the top-level modules the runtime and its layers provide."""

    folders: tuple[Path, ...]
    provided: frozenset[str]


class PackagingFailed(Exception):
    """The deployment package could not be built (a requirement that does not install)."""


def cache_dir() -> Path:
    """Where built packages are kept: ``$ECS_BG_CACHE_DIR``, else the user's cache folder."""
    base = os.environ.get("ECS_BG_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ecs-bg"
    )
    return Path(base)


@functools.cache
def provided_modules(distributions: tuple[str, ...]) -> frozenset[str]:
    """The top-level modules ``distributions`` install, as ``importlib.metadata.packages_distributions``
    finds them (``top_level.txt``, else the first part of each ``.py`` file they installed), read for
    these distributions alone rather than for every one installed (0.1 s of CPU and more)."""
    modules: set[str] = set()
    for name in distributions:
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        declared = (distribution.read_text("top_level.txt") or "").split()
        modules.update(
            declared
            or (
                file.parts[0] if len(file.parts) > 1 else file.with_suffix("").name
                for file in distribution.files or ()
                if file.suffix == ".py"
            )
        )
    return frozenset(modules)


async def package(function: LambdaFunction) -> Package:
    """The function's package, built (or found in the cache) first."""
    code = await asyncio.to_thread(_staged, function) if function.staged else function.code
    folders = [code]
    requirements = code / REQUIREMENTS
    if requirements.is_file():
        folders.append(await _installed(requirements))
    provided = provided_modules(RUNTIME_DISTRIBUTIONS + function.layer_packages)
    return Package(tuple(folders), provided)


def _staged(function: LambdaFunction) -> Path:
    """The stack's asset for ``function``, staged once per content."""
    with tempfile.TemporaryDirectory() as scratch:
        files = stage_asset(function.code, Path(scratch))
        digest = hashlib.sha256()
        for name in files:
            digest.update(name.encode() + b"\0" + (Path(scratch) / name).read_bytes() + b"\0")
        target = cache_dir() / "assets" / digest.hexdigest()[:32]
        if not target.is_dir():
            _publish(Path(scratch), target)
    return target


async def _installed(requirements: Path) -> Path:
    """``pip install --target`` of the requirements, for this Python, once per content."""
    key = hashlib.sha256(
        requirements.read_bytes() + f"{sys.version_info[:2]}{sys.platform}".encode()
    ).hexdigest()[:32]
    target = cache_dir() / "requirements" / key
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--target",
        str(scratch),
        "--requirement",
        str(requirements),
        "--no-input",
        "--disable-pip-version-check",
        "--quiet",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), INSTALL_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        shutil.rmtree(scratch, ignore_errors=True)
        raise PackagingFailed(f"pip install -r {requirements} took over {INSTALL_TIMEOUT:g} s") from None
    except asyncio.CancelledError:
        process.kill()
        await process.wait()
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    if process.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        last = output.decode(errors="replace").strip().splitlines()[-3:]
        raise PackagingFailed(f"pip install -r {requirements} failed: {' '.join(last)}")
    _publish(scratch, target)
    return target


def _publish(built: Path, target: Path) -> None:
    """Move a finished folder into place; another process that finished first wins."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if built.parent != target.parent:
        moved = Path(tempfile.mkdtemp(prefix=".", dir=target.parent))
        shutil.copytree(built, moved, dirs_exist_ok=True)
        built = moved
    try:
        os.rename(built, target)
    except OSError:  # it exists already: the same content, built by another process
        shutil.rmtree(built, ignore_errors=True)


def forkable(folders: Sequence[Path], runtime_modules: Iterable[str], *, loader_changed: bool) -> bool:
    """Whether a worker importing from ``folders`` may be forked from a server that has imported the
    runtime's SDK (``forkserver``): not if the function bundles its own copy of a module the server
    has imported (its copy must win, as on Lambda), holds native libraries, or changes the dynamic
    loader's variables (``loader_changed``)."""
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
