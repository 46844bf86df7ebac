"""The pipeline's buildspec, as synthesized with pipeline=true, against the repository and in bash.

The image build is checked against the files it copies: the buildspec's `docker build` names the
context and the Dockerfile, the Dockerfile's COPY/ADD name their sources, and the ignore file Docker
applies must leave each of them in the context. The build phase itself runs in a real bash the way
CodeBuild runs it (one shell, one command at a time, the first non-zero exit fails the build), with
stub `aws`, `docker`, `ecspresso` and `ecs-bg` executables that record their calls.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.deploy.definitions import load_definitions
from ecs_bg.deploy.environments import CLUSTER_VARIABLE, SERVICE_VARIABLE, STACK_NAME_VARIABLE
from ecs_bg.deploy.outputs import OutputsFile
from tests.conftest import CONFIG, FIXTURE_OUTPUTS, ROOT

from .conftest import STACK_NAME, Synthesized

pytestmark = pytest.mark.slow


def _project(app: Synthesized) -> dict[str, Any]:
    return app.resource(app.logical_id("Pipeline/BuildAndDeploy/Resource"))["Properties"]


def _buildspec(app: Synthesized) -> dict[str, Any]:
    return json.loads(_project(app)["Source"]["BuildSpec"])  # type: ignore[no-any-return]


def _resolve(app: Synthesized, value: Any) -> Any:
    """A Ref to this stack's ECS cluster becomes the cluster's name; anything else stays."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        resource = app.resource(value["Ref"])
        if resource["Type"] == "AWS::ECS::Cluster":
            return resource["Properties"]["ClusterName"]
    return value


def _variables(app: Synthesized) -> dict[str, Any]:
    return {
        v["Name"]: _resolve(app, v["Value"]) for v in _project(app)["Environment"]["EnvironmentVariables"]
    }


# --- the image build against the repository ------------------------------------------------------


@dataclass(frozen=True)
class DockerBuild:
    context: Path
    dockerfile: Path
    options: dict[str, str]


def _docker_build(buildspec: dict[str, Any]) -> DockerBuild:
    [command] = [c for c in buildspec["phases"]["build"]["commands"] if "docker build" in c]
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    start = next(i for i, t in enumerate(tokens) if t == "docker" and tokens[i + 1] == "build") + 2
    end = next(i for i in range(start, len(tokens)) if tokens[i] in ("&&", ";", "||", "|"))
    args, options, positional = tokens[start:end], {}, []
    while args:
        arg = args.pop(0)
        if arg in ("-f", "--file", "-t", "--tag", "--platform", "--build-arg", "--target"):
            options[arg] = args.pop(0)
        elif arg.startswith("-"):
            raise AssertionError(f"an option this test does not know: {arg}")
        else:
            positional.append(arg)
    [context] = positional
    context_dir = (ROOT / context).resolve()
    # Without -f, Docker reads <context>/Dockerfile.
    dockerfile = ROOT / options.get("-f", options.get("--file", f"{context}/Dockerfile"))
    return DockerBuild(context_dir, dockerfile.resolve(), options)


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _copy_sources(dockerfile: Path) -> list[str]:
    """Sources COPY/ADD take from the build context (not --from=<stage or image>)."""
    sources = []
    for instruction, rest in _instructions(dockerfile):
        if instruction not in ("COPY", "ADD"):
            continue
        words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        flags = [w for w in words if w.startswith("--")]
        if any(flag.startswith("--from=") for flag in flags):
            continue
        sources += [w for w in words if not w.startswith("--")][:-1]
    return sources


def _images(dockerfile: Path) -> list[str]:
    """Every image the Dockerfile pulls: FROM and COPY --from=, stage names and ARGs resolved."""
    arguments: dict[str, str] = {}
    stages: set[str] = set()
    images = []

    def resolve(value: str) -> str:
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: arguments[m[1] or m[2]], value)

    for instruction, rest in _instructions(dockerfile):
        if instruction == "ARG" and not images and "=" in rest:
            name, default = rest.split("=", 1)
            # A default may use the ARGs declared before it, as FROM may.
            arguments[name.strip()] = resolve(default.strip())
        elif instruction == "FROM":
            words = rest.split()
            image = resolve(words[0])
            if image not in stages:
                images.append(image)
            if len(words) == 3 and words[1].upper() == "AS":
                stages.add(words[2])
        elif instruction == "COPY":
            for flag in re.findall(r"--from=(\S+)", rest):
                if flag not in stages:
                    images.append(flag)
    return images


def _docker_hub(image: str) -> bool:
    """Docker's rule: a first component without "." or ":" (and not localhost) is no registry host."""
    first, _, rest = image.partition("/")
    implicit = not rest or not ("." in first or ":" in first or first == "localhost")
    return implicit or first in ("docker.io", "index.docker.io", "registry-1.docker.io")


def _ignore_file(build: DockerBuild) -> Path | None:
    """BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile first, else the context's
    .dockerignore (docs.docker.com/build/concepts/context/#filename-and-location)."""
    for candidate in (Path(f"{build.dockerfile}.dockerignore"), build.context / ".dockerignore"):
        if candidate.is_file():
            return candidate
    return None


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go's filepath.Match per segment, `**` for any directories) as a regex."""
    segments = pattern.strip("/").split("/")
    regex = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == "**":
            regex.append(".*" if last else "(?:[^/]+/)*")
            continue
        characters = ("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in segment)
        regex.append("".join(characters) + ("" if last else "/"))
    return re.compile("".join(regex) + r"\Z")


def _excluded(relative: str, ignore_lines: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = relative.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for line in ignore_lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        regex = _pattern(os.path.normpath(line[1:] if negated else line))
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def test_ignore_patterns_follow_docker() -> None:
    rules = ["*", "!pyproject.toml", "!app/", "app/**/__pycache__"]
    assert _excluded("README.md", rules)
    assert _excluded("src/ecs_bg/__init__.py", rules)
    assert not _excluded("pyproject.toml", rules)
    assert not _excluded("app/main.py", rules)
    assert _excluded("app/__pycache__/main.cpython-311.pyc", rules)
    assert _excluded("app/sub/__pycache__", rules)


@pytest.mark.parametrize("app_fixture", ["variant_app", "stg_pipeline_app"])
def test_every_copy_source_is_in_the_build_context(app_fixture: str, request: pytest.FixtureRequest) -> None:
    app: Synthesized = request.getfixturevalue(app_fixture)
    build = _docker_build(_buildspec(app))
    assert build.dockerfile.is_file(), build.dockerfile
    assert build.options["--platform"] == "$IMAGE_PLATFORM"
    ignore = _ignore_file(build)
    ignore_lines = ignore.read_text().splitlines() if ignore else []
    sources = _copy_sources(build.dockerfile)
    assert sources, "the Dockerfile copies the service from the context"
    for source in sources:
        path = (build.context / source).resolve()
        assert path.is_relative_to(build.context), f"{source} is outside the context {build.context}"
        assert path.exists(), f"COPY {source}: not in the build context {build.context}"
        relative = path.relative_to(build.context).as_posix()
        assert not _excluded(relative, ignore_lines), f"COPY {source}: excluded by {ignore}"
        if path.is_dir():
            files = [f.relative_to(build.context).as_posix() for f in path.rglob("*") if f.is_file()]
            kept = [f for f in files if not _excluded(f, ignore_lines)]
            assert kept, f"COPY {source}: every file under it is excluded by {ignore}"
    # What the image runs (`python -m app`) and installs from reaches it.
    for needed in ("app/__main__.py", "pyproject.toml", "uv.lock"):
        assert (build.context / needed).is_file()
        assert not _excluded(needed, ignore_lines), needed


def test_base_images_name_their_registry_and_none_is_docker_hub(variant_app: Synthesized) -> None:
    images = _images(_docker_build(_buildspec(variant_app)).dockerfile)
    assert images, "the Dockerfile has a base image"
    assert [image for image in images if _docker_hub(image)] == []
    # Docker's official python image through ECR Public's mirror, a pinned tag, multi-arch.
    assert "public.ecr.aws/docker/library/python:3.11-slim" in images
    assert all(re.search(r":[\w.-]+$|@sha256:[0-9a-f]{64}$", image) for image in images), images


def test_docker_hub_detection() -> None:
    assert _docker_hub("python:3.11-slim")
    assert _docker_hub("library/python:3.11")
    assert _docker_hub("docker.io/library/python:3.11")
    assert not _docker_hub("public.ecr.aws/docker/library/python:3.11-slim")
    assert not _docker_hub("ghcr.io/astral-sh/uv:0.13.9")


def test_the_build_installs_the_repository_uv(variant_app: Synthesized) -> None:
    commands = _buildspec(variant_app)["phases"]["install"]["commands"]
    [pinned] = re.findall(r'"uv==([\d.]+)"', " ".join(commands))
    makefile = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    dockerfile = re.search(r"ghcr.io/astral-sh/uv:(\S+)", (ROOT / "app" / "Dockerfile").read_text())
    assert makefile
    assert dockerfile
    assert pinned == makefile[1] == dockerfile[1]


# --- the environment's stack and cluster ----------------------------------------------------------


def test_the_build_names_its_environments_stack_and_cluster(stg_pipeline_app: Synthesized) -> None:
    assert stg_pipeline_app.config.stack_name == "zenn-ecs-cdk-ecspresso-stg"
    assert stg_pipeline_app.template_file.name == "zenn-ecs-cdk-ecspresso-stg.template.json"
    variables = _variables(stg_pipeline_app)
    assert variables[STACK_NAME_VARIABLE] == "zenn-ecs-cdk-ecspresso-stg"
    assert variables[CLUSTER_VARIABLE] == "ecs-bg-stg"
    assert variables[SERVICE_VARIABLE] == "ecs-bg-app"
    assert variables["IMAGE_PLATFORM"] == "linux/amd64"
    assert _project(stg_pipeline_app)["Name"] == "ecs-bg-deploy-stg"


def test_dev_keeps_the_seeds_stack(variant_app: Synthesized) -> None:
    variables = _variables(variant_app)
    assert (variables[STACK_NAME_VARIABLE], variables[CLUSTER_VARIABLE]) == (STACK_NAME, "ecs-bg-dev")


def test_with_the_builds_variables_the_ecspresso_files_read_the_environments_stack(
    stg_pipeline_app: Synthesized, tmp_path: Path
) -> None:
    """What ecspresso and ecs-bg watch would read in the stg build: the stg stack, the stg cluster."""
    stack = stg_pipeline_app.config.stack_name
    fixture = json.loads(FIXTURE_OUTPUTS.read_text())[STACK_NAME]
    values = {
        key: _resolve(stg_pipeline_app, output["Value"]) for key, output in stg_pipeline_app.outputs().items()
    }
    values = {key: value if isinstance(value, str) else fixture[key] for key, value in values.items()}
    outputs_file = tmp_path / "cdk-outputs.json"
    # Only the stg stack: a template that read dev's would fail to render.
    outputs_file.write_text(json.dumps({stack: values}))
    environ = {k: str(v) for k, v in _variables(stg_pipeline_app).items()}
    definitions = load_definitions(CONFIG, environ, lambda _region: OutputsFile(outputs_file))
    assert definitions.config.cluster == values["ClusterName"] == "ecs-bg-stg"
    assert definitions.config.service == values["ServiceName"]
    task = definitions.task
    assert task["containerDefinitions"][0]["environment"][-1] == {"name": "APP_ENVIRONMENT", "value": "stg"}
    assert task["runtimePlatform"]["cpuArchitecture"] == "X86_64"


# --- the build phase in bash, with stub tools ------------------------------------------------------

STUB = r"""#!/usr/bin/env bash
name=$(basename "$0")
echo "$name $* | IMAGE_TAG=${IMAGE_TAG-} STACK=${ECS_BG_STACK_NAME-} CLUSTER=${ECS_CLUSTER-}" >> "$STUB_LOG"
if [ "$name $1 $2" = "aws ecr get-login-password" ]; then echo password; fi
# STUB_EXIT_aws_ecr_describe_images=254 makes `aws ecr describe-images ...` exit 254.
for words in "$name $1 $2" "$name $1"; do
  var="STUB_EXIT_$(printf '%s' "$words" | tr -c 'A-Za-z0-9' '_')"
  if [ -n "${!var-}" ]; then exit "${!var}"; fi
done
exit 0
"""

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPOSITORY_URI = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/ecs-bg-app-dev"


def _codebuild_script(buildspec: dict[str, Any], phases: tuple[str, ...]) -> str:
    """The phases' commands as CodeBuild runs them: in one bash, in order, stopping at the first
    command that exits non-zero with that status (the phase fails, and with it the build)."""
    assert buildspec["version"] == "0.2"
    assert buildspec["env"]["shell"] == "bash"
    lines = ["set +e"]
    for phase in phases:
        assert "on-failure" not in buildspec["phases"][phase]  # ABORT, the default
        for command in buildspec["phases"][phase]["commands"]:
            lines.append(f"eval {shlex.quote(command)}")
            lines.append(f'status=$?; if [ $status -ne 0 ]; then echo "{phase} failed" >&2; exit $status; fi')
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Run:
    status: int
    calls: list[str]
    stderr: str

    def called(self, prefix: str) -> list[str]:
        return [call for call in self.calls if call.startswith(prefix)]


@pytest.fixture
def run_build(variant_app: Synthesized, tmp_path: Path) -> Any:
    buildspec = _buildspec(variant_app)
    variables = {
        name: value if isinstance(value, str) else REPOSITORY_URI
        for name, value in _variables(variant_app).items()
    }
    variables["ECR_REPOSITORY_NAME"] = "ecs-bg-app-dev"
    bin_dir, work = tmp_path / "bin", tmp_path / "source"
    (work / ".venv" / "bin").mkdir(parents=True)
    bin_dir.mkdir()
    for stub in (bin_dir / "aws", bin_dir / "docker", bin_dir / "ecspresso", work / ".venv/bin/ecs-bg"):
        stub.write_text(STUB)
        stub.chmod(0o755)
    script = _codebuild_script(buildspec, ("pre_build", "build"))

    def run(**exits: int) -> Run:
        log = tmp_path / "calls.log"
        log.write_text("")
        env = {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "STUB_LOG": str(log),
            "CODEBUILD_RESOLVED_SOURCE_VERSION": COMMIT,
            **variables,
            **{f"STUB_EXIT_{name}": str(code) for name, code in exits.items()},
        }
        done = subprocess.run(
            ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        calls = [line.split(" | ")[0] for line in log.read_text().splitlines()]
        return Run(done.returncode, calls, done.stderr)

    return run


def test_a_new_commit_is_built_pushed_deployed_and_watched(run_build: Any) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    run = run_build(aws_ecr_describe_images=254)  # ImageNotFoundException
    image = f"{REPOSITORY_URI}:{COMMIT}"
    # The watch follows only a deployment created since a minute before the deploy (clock slack).
    watch, started_after = run.calls[-1].split(" --started-after ")
    run.calls[-1] = watch
    assert timedelta(seconds=55) <= before - datetime.fromisoformat(started_after) <= timedelta(seconds=65)
    assert run.status == 0, run.stderr
    # The login is one pipeline: its two commands run at once, in either order.
    assert sorted(run.calls[:2]) == [
        "aws ecr get-login-password",
        "docker login --username AWS --password-stdin 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com",
    ]
    assert run.calls[2:] == [
        f"aws ecr describe-images --repository-name ecs-bg-app-dev --image-ids imageTag={COMMIT}",
        f"docker build --platform linux/arm64 -f app/Dockerfile -t {image} .",
        f"docker push {image}",
        "ecspresso deploy --config ecspresso/ecspresso.yml --no-wait",
        "ecs-bg watch --config ecspresso/ecspresso.yml --plain --timeout 5400",
    ]


def test_ecspresso_and_the_watch_get_the_tag_and_the_environment(run_build: Any, tmp_path: Path) -> None:
    assert run_build().status == 0
    log = (tmp_path / "calls.log").read_text().splitlines()
    environment = f"IMAGE_TAG={COMMIT} STACK={STACK_NAME} CLUSTER=ecs-bg-dev"
    for tool in ("ecspresso deploy", "ecs-bg watch"):
        [line] = [line for line in log if line.startswith(tool)]
        assert line.endswith(environment), line


def test_a_retry_of_a_pushed_commit_deploys_its_image_without_pushing(run_build: Any) -> None:
    run = run_build(aws_ecr_describe_images=0)
    assert run.status == 0, run.stderr
    assert run.called("docker build") == run.called("docker push") == []
    assert run.called("ecspresso deploy")
    assert run.called("ecs-bg watch")


@pytest.mark.parametrize(
    ("exit_code", "meaning"), [(1, "ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED or STOPPED"), (3, "timed out")]
)
def test_a_deployment_that_does_not_end_successful_fails_the_build(
    run_build: Any, exit_code: int, meaning: str
) -> None:
    run = run_build(aws_ecr_describe_images=254, ecs_bg_watch=exit_code)
    assert run.status == exit_code, meaning
    assert run.called("ecs-bg watch")


@pytest.mark.parametrize(
    ("failing", "not_run"),
    [
        ("docker_build", ["docker push", "ecspresso", "ecs-bg"]),
        ("docker_push", ["ecspresso", "ecs-bg"]),
        ("ecspresso_deploy", ["ecs-bg"]),
        ("docker_login", ["aws ecr describe-images", "docker build", "ecspresso"]),
    ],
)
def test_a_failing_step_fails_the_build_before_the_next(
    run_build: Any, failing: str, not_run: list[str]
) -> None:
    run = run_build(aws_ecr_describe_images=254, **{failing: 1})
    assert run.status != 0
    assert [call for prefix in not_run for call in run.called(prefix)] == []
