"""What the Docker runtime's tests need: an engine (skipped without one, failed in CI, where .ci/run
starts one), the sample image (`make image` builds it when missing), an image that also holds the
AWS SDK for Python (the sample image's, with this environment's boto3 copied in: no download), and a
look at the containers an `ecs-bg local` run labelled as its own."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

SAMPLE_IMAGE = "ecs-bg-app:local"  # what `make image` builds; ecspresso/simulation.yml's images: maps to it
SDK_PACKAGES = ("boto3", "botocore", "jmespath", "dateutil", "s3transfer", "urllib3", "six.py")
BUILD_TIMEOUT = 900


def _docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


@functools.cache
def _engine_answers() -> bool:
    return shutil.which("docker") is not None and _docker("info", timeout=30).returncode == 0


def require_engine() -> None:
    if not _engine_answers():
        if os.environ.get("CI"):
            pytest.fail("no Docker engine answers in CI: .ci/run starts one with scripts/docker-engine")
        pytest.skip("no Docker engine answers: start one with scripts/docker-engine (as root); CI runs this")


def sample_image() -> str:
    """The sample service's image, built with `make image` when this engine has none."""
    require_engine()
    if _docker("image", "inspect", SAMPLE_IMAGE).returncode != 0:
        built = subprocess.run(
            ["make", "image"], cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
        )
        assert built.returncode == 0, f"make image failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}"
    return SAMPLE_IMAGE


def sdk_image(tmp_path: Path) -> str:
    """The sample image with this environment's boto3 and its dependencies on PYTHONPATH (pure Python,
    and the same Python minor version), tagged by what it holds."""
    base = sample_image()
    site = Path(next(p for p in sys.path if p.endswith("site-packages") and (Path(p) / "boto3").is_dir()))
    versions = sorted(
        p.name for p in site.glob("*.dist-info") if p.name.split("-")[0] in ("boto3", "botocore")
    )
    tag = "ecs-bg-test-sdk:" + hashlib.sha256("/".join(versions).encode()).hexdigest()[:12]
    if _docker("image", "inspect", tag).returncode == 0:
        return tag
    context = tmp_path / "sdk-image"
    (context / "sdk").mkdir(parents=True)
    for name in SDK_PACKAGES:
        source = site / name
        if source.is_dir():
            shutil.copytree(source, context / "sdk" / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, context / "sdk" / name)
    (context / "Dockerfile").write_text(
        f"FROM {base}\nCOPY sdk /opt/sdk\nENV PYTHONPATH=/opt/sdk\nLABEL io.ecs-bg.test-image=sdk\n"
    )
    built = subprocess.run(
        ["docker", "build", "-q", "-t", tag, str(context)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return tag


def owner_of(pid: int) -> str:
    """The owner label an `ecs-bg local` process ``pid`` puts on what it makes (while it runs)."""
    import socket

    started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    return f"{socket.gethostname()}/{pid}/{started}"


def containers_owned(owner: str) -> list[dict[str, Any]]:
    """Every container (running or not) labelled as made by ``owner``."""
    done = _docker("ps", "-a", "--filter", f"label=io.ecs-bg.owner={owner}", "--format", "{{json .}}")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
