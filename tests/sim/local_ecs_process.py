"""``ecs-bg local`` as a real subprocess for tests, and the AWS CLI against it.

The AWS CLI runs in its own environment (``uv tool run --from awscli==…``), not the dev group: awscli
1.x pins botocore exactly, and every awscli release whose s3transfer range fits boto3==1.43.11 (up to
awscli 1.45.16) pins a botocore older than the 1.43.127 the project locks, which the hooks' tests need
(``AWSPreparedRequest.context``, checked 2026-12-01 with ``uv add --dev awscli==…``).
"""

from __future__ import annotations

import ctypes
import functools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_bg.hooks.ecs import FINAL_DEPLOYMENT_STATUSES
from ecs_bg.local.ports import free_port
from tests.ecs_bg_process import ecs_bg_here

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CONFIG = ROOT / "ecspresso" / "ecspresso.yml"
REGION = "ap-northeast-1"
CLUSTER, SERVICE = "ecs-bg-dev", "ecs-bg-app"  # the stack's dev cluster and the service it names
AWSCLI = "awscli==1.45.11"
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


# Compiles the environment's modules, then names its `aws`. uv makes a tool environment without
# bytecode, and where PYTHONDONTWRITEBYTECODE is set (this machine, many CI machines) every `aws` run
# compiled awscli and botocore from source again: 1.7 s of CPU each instead of 0.45 s. The
# compilation is once per environment (a few seconds), marked done in it: looking at each file again
# cost each pytest worker a second of CPU.
FIND_AWS = (
    "import compileall, pathlib, shutil, sysconfig; "
    "done = pathlib.Path(sysconfig.get_paths()['purelib'], '.ecs-bg-compiled'); "
    "done.exists() or compileall.compile_dir(done.parent, quiet=1, workers=0) and done.touch(); "
    "print(shutil.which('aws'))"
)


@functools.cache
def aws_cli() -> str:
    """The ``aws`` executable of AWSCLI's tool environment (made, and cached by uv, once), compiled."""
    uv = shutil.which("uv")
    command = [uv] if uv else ["python3", "-m", "uv"]
    done = subprocess.run(
        [*command, "tool", "run", "--from", AWSCLI, "python", "-c", FIND_AWS],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]  # after anything compileall had to say


@dataclass
class Local:
    process: subprocess.Popen[str]
    url: str
    header: list[str]  # the lines printed before serving

    def listener(self, name: str) -> str:
        """The URL of the listener ``name`` (production, test) the header's last line names."""
        # "# production listener URL, test listener URL; Ctrl-C stops"
        listeners = self.header[-1].lstrip("# ").split("; ")[0]
        return dict(part.split(" listener ") for part in listeners.split(", "))[name]

    @property
    def variables(self) -> dict[str, str]:
        """The AWS variables a client of this endpoint runs with (what ``env`` adds)."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_PAGER": "",
        }

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **self.variables}

    def aws(self, *args: str, check: bool = True) -> Any:
        """One AWS CLI command; its JSON answer (None when it prints nothing)."""
        done = subprocess.run(
            [aws_cli(), *args, "--output", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {done.stderr}")
        if not check:
            return done
        return json.loads(done.stdout) if done.stdout.strip() else None

    def client(self, service: str) -> Any:
        """A boto3 client of this local endpoint."""
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def render(self, what: str) -> dict[str, Any]:
        """``ecs-bg render`` with cfn_output answered by the local CloudFormation, in this process (a
        definition to deploy, not what is tested: an interpreter for it cost 0.3 s of CPU each)."""
        command = ("render", what, "--config", str(CONFIG), "--endpoint-url", self.url)
        done = ecs_bg_here(*command, cwd=ROOT, env=self.variables)
        assert done.returncode == 0, done.stdout + done.stderr
        rendered: dict[str, Any] = json.loads(done.stdout)
        return rendered


@contextmanager
def local_ecs(
    *extra: str, executable: Path = BIN / "ecs-bg", cwd: Path = ROOT, env: dict[str, str] | None = None
) -> Iterator[Local]:
    """``ecs-bg local`` (this environment's, unless ``executable`` names another, such as an installed
    tool's) in ``cwd``, where it finds its files; in ``env`` (default: this process's environment)."""
    port = free_port()
    process = subprocess.Popen(
        [str(executable), "local", "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=env,
    )
    try:
        assert process.stdout is not None
        # Three export lines, the runtime line, the listeners line.
        header = [process.stdout.readline().rstrip("\n") for _ in range(5)]
        if not header[0].startswith("export AWS_ENDPOINT_URL="):
            raise AssertionError(
                f"ecs-bg local did not start: {header} {process.stderr.read() if process.stderr else ''}"
            )
        yield Local(process, header[0].split("=", 1)[1], header)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def until(probe: Callable[[], Any], timeout: float = 60.0, every: float = 0.3) -> Any:
    """Poll ``probe`` until it returns something truthy; its last answer in the assertion if not."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"not reached within {timeout:g} s; last: {last!r}")


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc), however deep."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def adopt_orphans() -> None:
    """Make this process the subreaper of everything below it (Linux's PR_SET_CHILD_SUBREAPER): a
    process whose parent has exited is re-parented here rather than to init, so that
    ``descendants(os.getpid())`` still finds whatever a stopped command left behind, in a session of
    its own or not. (Its environment cannot tell: a task or hook worker inherits nothing.)"""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def command_line(pid: int) -> list[bytes]:
    """The process's arguments, as it was started (none once it has gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    except OSError:
        return []


def parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def newest(ecs: Any) -> str:
    """The ARN of the service's newest service deployment."""
    briefs = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"]
    arn: str = max(briefs, key=lambda brief: brief["createdAt"])["serviceDeploymentArn"]
    return arn


def finished(ecs: Any, arn: str, timeout: float = 90) -> dict[str, Any]:
    """The service deployment ``arn`` once it has ended (a final status)."""

    def probe() -> dict[str, Any] | None:
        found: dict[str, Any] = ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
            "serviceDeployments"
        ][0]
        return found if found["status"] in FINAL_DEPLOYMENT_STATUSES else None

    found: dict[str, Any] = until(probe, timeout=timeout)
    return found
