"""``ecs-bg local``'s numbers, each beside the floor of its work measured in the same run.

- ready to answer: from starting ``ecs-bg local`` to its first ECS answer (goal <= 1.5 s), beside a
  bare ``import boto3`` and a bare start of the sample app (each a fresh interpreter);
- one deployment through it with boto3: CreateService (the first deployment) and an UpdateService,
  each from the call to SUCCESSFUL, the repository's own hooks and service definition;
- how the cost grows with tasks per revision (2, 10, 20): an UpdateService's wall time, and the
  most memory all processes (``local``, its tasks and hook workers) held together during it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ecs_bg.local.runtime.process import AppProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIG = ROOT / "ecspresso" / "ecspresso.yml"
REGION = "ap-northeast-1"
CLUSTER, SERVICE = "ecs-bg-dev", "ecs-bg-app"


def _seconds(command: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - began


def bare_app_start() -> float:
    async def start() -> float:
        app = AppProcess()
        began = time.perf_counter()
        await app.start()
        await app.wait_ready(timeout=30)
        ready = time.perf_counter() - began
        await app.stop()
        return ready

    return asyncio.run(start())


def _answers(url: str) -> bool:
    headers = {
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
        "Content-Type": "application/x-amz-json-1.1",
    }
    # Signed as an SDK signs (any key): the endpoint refuses an unsigned request.
    signing = AWSRequest(method="POST", url=url, data=b"{}", headers=headers)
    SigV4Auth(Credentials("local", "local"), "ecs", REGION).add_auth(signing)
    request = urllib.request.Request(url, data=b"{}", headers=dict(signing.headers.items()))
    try:
        with urllib.request.urlopen(request, timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def local(*extra: str) -> Iterator[tuple[subprocess.Popen[str], str, float]]:
    """``ecs-bg local`` started (with ``extra`` arguments), with the seconds until it answered an ECS call."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    began = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "ecs-bg"), "local", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        while not _answers(url):
            if process.poll() is not None or time.perf_counter() - began > 60:
                raise RuntimeError("ecs-bg local did not start")
            time.sleep(0.01)
        yield process, url, time.perf_counter() - began
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def _client(service: str, url: str) -> Any:
    import boto3

    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _render(what: str, url: str) -> dict[str, Any]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    done = subprocess.run(
        [str(BIN / "ecs-bg"), "render", what, "--config", str(CONFIG), "--endpoint-url", url],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    rendered: dict[str, Any] = json.loads(done.stdout)
    return rendered


def _memory_mb(pid: int) -> float:
    """Resident memory of ``pid`` and every process below it, in MB (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            parents.setdefault(parent, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += parents.get(current, [])
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total / 1024


def _deploy(ecs: Any, pid: int, call: Any) -> tuple[float, float, str]:
    """Run ``call`` (CreateService or UpdateService); seconds to a final status and peak MB."""
    before = {d["serviceDeploymentArn"] for d in _briefs(ecs)}
    began = time.perf_counter()
    call()
    peak = 0.0
    while True:
        peak = max(peak, _memory_mb(pid))
        new = [d for d in _briefs(ecs) if d["serviceDeploymentArn"] not in before]
        if new and new[0]["status"] in ("SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOPPED"):
            return time.perf_counter() - began, peak, new[0]["status"]
        time.sleep(0.05)


def _briefs(ecs: Any) -> list[dict[str, Any]]:
    try:
        briefs: list[dict[str, Any]] = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)[
            "serviceDeployments"
        ]
    except ecs.exceptions.ServiceNotFoundException:
        return []
    return briefs


def run(tasks: int) -> dict[str, Any]:
    with local() as (process, url, ready):
        ecs = _client("ecs", url)
        task, service = _render("task", url), _render("service", url)
        first = ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]
        second = ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]
        service["desiredCount"] = tasks
        create, _, created = _deploy(
            ecs,
            process.pid,
            lambda: ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=first, **service),
        )
        update, peak, updated = _deploy(
            ecs,
            process.pid,
            lambda: ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=second),
        )
    return {
        "ready": ready,
        "create": create,
        "update": update,
        "peak": peak,
        "status": f"{created}/{updated}",
    }


def main(runs: int = 3) -> None:
    boto3_import = min(_seconds([sys.executable, "-c", "import boto3"]) for _ in range(runs))
    app_start = min(bare_app_start() for _ in range(runs))
    readies = []
    for _ in range(runs):
        with local() as (_, _, ready):
            readies.append(ready)
    print(f"ecs-bg local, ready to answer (best of {runs})")
    print(f"  bare `import boto3` (floor)        {boto3_import:6.2f} s")
    print(f"  bare sample app start (floor)      {app_start:6.2f} s")
    print(f"  ecs-bg local to its first answer   {min(readies):6.2f} s  (goal <= 1.5 s)")
    print("a deployment through ecs-bg local with boto3 (the repository's hooks, 1-minute bake at 240x)")
    for tasks in (2, 10, 20):
        result = run(tasks)
        print(
            f"  {tasks:2d} tasks per revision: CreateService {result['create']:6.2f} s, "
            f"UpdateService {result['update']:6.2f} s, peak memory {result['peak']:7.0f} MB  "
            f"{result['status']}"
        )


if __name__ == "__main__":
    main()
