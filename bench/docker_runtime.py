"""The Docker runtime beside the process runtime, in the same run: ``python -m bench.docker_runtime``.

A default deployment (the repository's service definition and hooks, 2 tasks per revision, the
1-minute bake at 240x) through ``ecs-bg local`` with boto3, with ``--runtime process`` (the baseline),
``--runtime docker`` (the sample image, ``make image``; the task's cpu a hard limit, 0.25 vCPU, as on
Fargate) and ``--runtime docker --task-cpu shares``: CreateService (the first deployment) and
UpdateService, each from the call to SUCCESSFUL, best of ``runs``, and each ratio to the baseline
(goal: UpdateService <= 2x). Beside them, floors of the Docker runtime's work measured here too: a
bare ``docker run -d`` of the image, its first answer on /health, and that answer with the sample
task's 0.25 vCPU. Needs a Docker engine and the image; says so and stops otherwise.

Read the ratios beside the machine's load: with cgroup v1 every container sits under one ``docker``
group that the kernel weighs as a single process against the host's, so on a machine busy with other
host processes the containers share one process's CPU while the process runtime's tasks each get
their own; on a quiet machine that difference is gone and only the task's own cpu limit remains.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid

from bench.local import _client, _deploy, _render, local
from ecs_bg.local.runtime.engine import EngineAddress, probe

CLUSTER, SERVICE = "ecs-bg-dev", "ecs-bg-app"
IMAGE = "ecs-bg-app:local"


RUNS = {  # what each measured run passes to `ecs-bg local`
    "process": ("--runtime", "process"),
    "docker": ("--runtime", "docker"),
    "docker, task cpu as shares": ("--runtime", "docker", "--task-cpu", "shares"),
}


def deploy(*arguments: str) -> dict[str, float | str]:
    with local(*arguments) as (process, url, ready):
        ecs = _client("ecs", url)
        task, service = _render("task", url), _render("service", url)
        first = ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]
        second = ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]
        service["desiredCount"] = 2
        create, _, created = _deploy(
            ecs,
            process.pid,
            lambda: ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=first, **service),
        )
        update, _, updated = _deploy(
            ecs,
            process.pid,
            lambda: ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=second),
        )
    return {"ready": ready, "create": create, "update": update, "status": f"{created}/{updated}"}


def bare_container(*flags: str) -> tuple[float, float]:
    """Seconds of `docker run -d` of the image (with ``flags``), and from the run to its first 200 on
    /health."""
    name = f"ecs-bg-bench-{uuid.uuid4().hex[:8]}"
    began = time.perf_counter()
    subprocess.run(["docker", "run", "-d", "--name", name, *flags, IMAGE], check=True, capture_output=True)
    run = time.perf_counter() - began
    try:
        found = subprocess.run(["docker", "inspect", name], check=True, capture_output=True, text=True)
        address = json.loads(found.stdout)[0]["NetworkSettings"]["IPAddress"]
        while True:
            try:
                with urllib.request.urlopen(f"http://{address}:8080/health", timeout=1):
                    return run, time.perf_counter() - began
            except OSError:
                time.sleep(0.02)
    finally:
        subprocess.run(["docker", "rm", "-f", name], check=True, capture_output=True)


def main(runs: int = 3) -> None:
    version, said = probe(EngineAddress.from_environ())
    if version is None:
        print(f"docker runtime: skipped: {said} (scripts/docker-engine starts one)")
        return
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        print(f"docker runtime: skipped: no image {IMAGE} (make image builds it)")
        return
    floors = [bare_container() for _ in range(runs)]
    limited = [bare_container("--cpus", "0.25") for _ in range(runs)]
    results: dict[str, list[dict[str, float | str]]] = {name: [] for name in RUNS}
    for _ in range(runs):  # interleaved, so that a busy moment weighs on each alike
        for name, arguments in RUNS.items():
            results[name].append(deploy(*arguments))
    best = {
        name: {key: min(float(r[key]) for r in done) for key in ("ready", "create", "update")}
        for name, done in results.items()
    }
    print(f"the docker runtime beside the process runtime ({said}; best of {runs}, 2 tasks per revision)")
    print(f"  bare `docker run -d` of {IMAGE} (floor)              {min(f[0] for f in floors):6.2f} s")
    print(f"  bare container to its first /health 200 (floor)       {min(f[1] for f in floors):6.2f} s")
    print(f"  the same with --cpus 0.25, the sample's task cpu      {min(f[1] for f in limited):6.2f} s")
    baseline = best["process"]
    for key, what in (("ready", "ready to answer"), ("create", "CreateService"), ("update", "UpdateService")):
        line = f"  {what:16s} process {baseline[key]:6.2f} s"
        for name in list(RUNS)[1:]:
            line += f"; {name} {best[name][key]:6.2f} s (x{best[name][key] / baseline[key]:.2f})"
        print(line)
    statuses = sorted({str(r["status"]) for done in results.values() for r in done})
    print(f"  (goal: UpdateService in docker <= x2.00 of process)  final statuses: {', '.join(statuses)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
