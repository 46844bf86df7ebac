"""The pipeline's image build, run for real: the buildspec's build command against a Docker engine.

test_buildspec runs the build phase with a stub `docker`; here the command that builds the image (as
synthesized, in bash, with the stack's variables: DOCKER_BUILDKIT=1, IMAGE_PLATFORM) runs the real
`docker build` of app/Dockerfile from the repository root, and the image it built must serve /health.
Only `aws` (the image is not in ECR yet) and `docker push` (no registry) are stubs. The base images
come from scripts/base-images: pulled, or local stand-ins where their registries cannot be reached.
Skips without an engine, except in CI (.ci/run starts one), where that fails.
"""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT

from .conftest import Synthesized
from .test_buildspec import STUB, _buildspec, _variables

pytestmark = [pytest.mark.slow, pytest.mark.docker]

# The synthesized stack whose IMAGE_PLATFORM is this machine's: the stand-ins are built for it alone.
APP_FOR_MACHINE = {"x86_64": ("stg_pipeline_app", "linux/amd64"), "aarch64": ("variant_app", "linux/arm64")}
BUILD_TIMEOUT = 600  # a cold build downloads the app group's wheels; a cached one takes seconds
HEALTHY_WITHIN = 30.0


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT)


@pytest.fixture(scope="module")
def buildkit_docker() -> str:
    """A docker CLI that builds with BuildKit, against an engine that answers and has the base images."""
    if shutil.which("docker") is None or _run(["docker", "info"], timeout=30).returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("no Docker engine answers in CI: .ci/run starts one with scripts/docker-engine")
        pytest.skip("no Docker engine answers: start one with scripts/docker-engine (as root); CI runs this")
    images = _run([str(ROOT / "scripts" / "base-images")], timeout=600)
    assert images.returncode == 0, images.stderr
    cli = _run([str(ROOT / "scripts" / "buildkit-cli")], timeout=30)
    assert cli.returncode == 0, cli.stderr
    return cli.stdout.strip()


@pytest.fixture(scope="module")
def image(
    buildkit_docker: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The image the build phase's `docker build` command built, as CodeBuild runs that command."""
    machine = platform.machine()
    if machine not in APP_FOR_MACHINE:
        pytest.skip(f"the stack builds for linux/amd64 or linux/arm64, not {machine}")
    fixture, image_platform = APP_FOR_MACHINE[machine]
    app: Synthesized = request.getfixturevalue(fixture)
    variables = _variables(app)
    assert variables["IMAGE_PLATFORM"] == image_platform
    assert variables["DOCKER_BUILDKIT"] == "1"
    [command] = [c for c in _buildspec(app)["phases"]["build"]["commands"] if "docker build" in c]

    tmp_path = tmp_path_factory.mktemp("image-build")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "aws").write_text(STUB)
    # The real CLI for everything but the push: there is no registry to push to.
    (bin_dir / "docker").write_text(
        "#!/usr/bin/env bash\n"
        'if [ "$1" = push ]; then echo "docker $*" >> "$STUB_LOG"; exit 0; fi\n'
        f'exec {shlex.quote(buildkit_docker)} "$@"\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    repository, tag = "ecs-bg-image-build-test", uuid.uuid4().hex
    log = tmp_path / "calls.log"
    env = {
        **os.environ,
        **{name: value for name, value in variables.items() if isinstance(value, str)},
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "STUB_LOG": str(log),
        "STUB_EXIT_aws_ecr_describe_images": "254",  # ImageNotFoundException: a new commit
        "ECR_REPOSITORY_NAME": repository,
        "ECR_REPOSITORY_URI": repository,
        "IMAGE_TAG": tag,
    }
    build = subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    built = f"{repository}:{tag}"
    try:
        assert build.returncode == 0, build.stderr[-4000:]
        assert log.read_text().splitlines()[-1] == f"docker push {built}"
        yield built
    finally:
        _run(["docker", "rmi", "--force", built], timeout=60)


def test_the_pipelines_build_command_builds_an_image_that_serves_health(image: str) -> None:
    name = f"ecs-bg-image-build-test-{uuid.uuid4().hex[:12]}"
    run = _run(["docker", "run", "--detach", "--name", name, "--publish", "127.0.0.1::8080", image], 60)
    assert run.returncode == 0, run.stderr
    try:
        port = _run(["docker", "port", name, "8080/tcp"], 30).stdout.split(":")[-1].strip()
        url = f"http://127.0.0.1:{port}/health"
        deadline = time.monotonic() + HEALTHY_WITHIN
        status, body = None, b""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    status, body = response.status, response.read()
                    break
            except OSError:
                time.sleep(0.1)
        logs = _run(["docker", "logs", name], 30)
        assert status == 200, f"no 200 from {url} within {HEALTHY_WITHIN} s:\n{logs.stdout}{logs.stderr}"
        assert body == b'{"status":"ok"}'
    finally:
        _run(["docker", "rm", "--force", name], 60)


def test_the_image_runs_the_service_unprivileged_with_only_what_the_ignore_file_admits(image: str) -> None:
    """BuildKit applied app/Dockerfile.dockerignore: no __pycache__ from the checkout; the Dockerfile's
    user, not root; the app's group installed, nothing of the CLI or the hooks library."""
    script = (
        "import os, pathlib, importlib.util as u;"
        "print(os.getuid());"
        "print(sorted(str(p) for p in pathlib.Path('/srv/app').rglob('__pycache__')));"
        "print([m for m in ('fastapi', 'uvicorn', 'ecs_bg', 'boto3') if u.find_spec(m)])"
    )
    run = _run(["docker", "run", "--rm", image, "python", "-c", script], 60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["10001", "[]", "['fastapi', 'uvicorn']"]
