"""`ecs-bg local --runtime docker`: tasks are their task definition's containers in a real Docker engine,
driven as ECS is, through boto3: the sample image deployed and a revision whose container health
check fails rolled back; a task with an init container, a sidecar it waits for, a shared volume and a
sidecar that exits; a secret; a container over its memory; awslogs lines in CloudWatch Logs; the task
metadata and credentials endpoints from inside a container; stopTimeout; no container left after
SIGTERM, and a killed run's removed at the next start; `ecs-bg simulate --runtime docker`, run to its
end and interrupted.

Slow, and each needs a Docker engine: skipped without one, failed in CI (.ci/run starts one).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.local.runtime.docker import DockerRuntime
from tests.ecs_bg_process import diagnosis
from tests.local.docker_engine import containers_owned, owner_of, sample_image, sdk_image
from tests.sim.local_ecs_process import (
    BIN,
    CLUSTER,
    REGION,
    ROOT,
    SERVICE,
    Local,
    command_line,
    descendants,
    finished,
    local_ecs,
    newest,
    until,
)

# One worker runs these one after another (`make test` distributes with --dist loadgroup): every Docker
# run's start removes the containers of runs whose process is gone, so a start in another worker could
# remove the container the killed-run test leaves for the next start to find (seen here, with a
# `simulate` started beside it), and two runs of the sample image at once on two cores compete for
# CPU their tasks' hard quotas already cap.
pytestmark = [pytest.mark.slow, pytest.mark.docker, pytest.mark.xdist_group("docker-runtime")]

LOG_GROUP = "/ecs/ecs-bg-docker-tests"
REAPER = [b"-P", b"-m", b"ecs_bg.local.runtime.reaper"]  # a run's reaper, as the Docker runtime starts it
PARENT_ONLY = "ECS_BG_TEST_PARENT_SHELL_ONLY"  # in `ecs-bg local`'s environment, never in a task's


@pytest.fixture(scope="module")
def local() -> Iterator[Local]:
    sample_image()
    os.environ[PARENT_ONLY] = "leaked"
    try:
        with local_ecs("--runtime", "docker") as running:
            del os.environ[PARENT_ONLY]
            yield running
    finally:
        os.environ.pop(PARENT_ONLY, None)


def _awslogs(prefix: str) -> dict[str, Any]:
    return {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": LOG_GROUP,
            "awslogs-region": REGION,
            "awslogs-stream-prefix": prefix,
            "awslogs-create-group": "true",
        },
    }


def _definition(family: str, *containers: dict[str, Any], **task: Any) -> dict[str, Any]:
    return {
        "family": f"{family}-{uuid.uuid4().hex[:6]}",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{"image": "ecs-bg-app:local", "essential": True, **c} for c in containers],
        **task,
    }


def _run(local: Local, definition: dict[str, Any], **request: Any) -> str:
    ecs = local.client("ecs")
    arn = ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]
    answer = ecs.run_task(cluster="default", taskDefinition=arn, **request)
    assert answer["failures"] == []
    task_arn: str = answer["tasks"][0]["taskArn"]
    return task_arn


def _described(local: Local, task: str, cluster: str = "default") -> dict[str, Any]:
    found: dict[str, Any] = local.client("ecs").describe_tasks(cluster=cluster, tasks=[task])["tasks"][0]
    return found


def _when(
    local: Local, task: str, status: str, timeout: float = 90, cluster: str = "default"
) -> dict[str, Any]:
    found: dict[str, Any] = until(
        lambda: (d := _described(local, task, cluster))["lastStatus"] == status and d, timeout=timeout
    )
    return found


def _containers(described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in described["containers"]}


def _log(local: Local, stream: str, group: str = LOG_GROUP) -> list[str]:
    events = local.client("logs").get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    return [event["message"] for event in events["events"]]


def _logged(local: Local, stream: str, text: str, group: str = LOG_GROUP) -> list[str]:
    """The stream's lines once one holds ``text`` (lines reach CloudWatch Logs within a second)."""

    def probe() -> list[str] | None:
        try:
            lines = _log(local, stream, group)
        except local.client("logs").exceptions.ResourceNotFoundException:
            return None
        return lines if any(text in line for line in lines) else None

    found: list[str] = until(probe, timeout=30)
    return found


def _inspect(container_id: str) -> dict[str, Any]:
    done = subprocess.run(["docker", "inspect", container_id], capture_output=True, text=True, check=True)
    found: dict[str, Any] = json.loads(done.stdout)[0]
    return found


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_sample_image_deploys_and_a_revision_failing_its_container_health_check_rolls_back(
    local: Local,
) -> None:
    ecs = local.client("ecs")
    task, service = local.render("task"), local.render("service")
    first = ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]
    create = {**service, "cluster": CLUSTER, "serviceName": SERVICE, "taskDefinition": first}
    ecs.create_service(**create)
    v1 = finished(ecs, newest(ecs), timeout=180)
    assert v1["status"] == "SUCCESSFUL", v1

    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    assert [t["lastStatus"] for t in tasks] == ["RUNNING", "RUNNING"]
    # The sample's container health check passed: HEALTHY, as ECS reports it (task and container).
    assert [t["healthStatus"] for t in tasks] == ["HEALTHY", "HEALTHY"]
    apps = [t["containers"][0] for t in tasks]
    assert all(
        c["healthStatus"] == "HEALTHY" and c["image"] == task["containerDefinitions"][0]["image"]
        for c in apps
    )
    # awsvpc: each task its own address, both serving on 8080.
    addresses = {c["networkInterfaces"][0]["privateIpv4Address"] for c in apps}
    assert len(addresses) == 2
    for address in addresses:
        assert _get(f"http://{address}:8080/health") == (200, '{"status":"ok"}')
    # The task definition's limits and read-only root are the container's.
    inspected = _inspect(apps[0]["runtimeId"])
    assert inspected["HostConfig"]["Memory"] == 512 * 1024 * 1024
    assert inspected["HostConfig"]["NanoCpus"] == 250_000_000
    assert inspected["HostConfig"]["ReadonlyRootfs"] is True
    env = dict(item.split("=", 1) for item in inspected["Config"]["Env"])
    assert env["APP_COLOUR"] == "green"
    assert PARENT_ONLY not in env  # nothing of the shell that ran `ecs-bg local`
    # Production serves through the local load balancer.
    production = local.aws("elbv2", "describe-load-balancers")["LoadBalancers"][0]
    assert production  # the stack's load balancer exists
    # The app's own lines, in the stack's log group, stream <prefix>/<container>/<task id>.
    task_id = tasks[0]["taskArn"].rsplit("/", 1)[-1]
    _logged(local, f"app/app/{task_id}", "Uvicorn running", group="/ecs/ecs-bg-app-dev")

    # A revision whose container health check never passes: its tasks are stopped by the scheduler,
    # SCALE_UP fails, and ECS rolls back to the first revision.
    broken = json.loads(json.dumps(task))
    broken["containerDefinitions"][0]["healthCheck"] = {
        "command": ["CMD-SHELL", "exit 1"],
        "interval": 5,
        "timeout": 2,
        "retries": 2,
        "startPeriod": 0,
    }
    second = ecs.register_task_definition(**broken)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=second)
    arn = until(lambda: (d := newest(ecs)) != v1["serviceDeploymentArn"] and d)
    v2 = finished(ecs, arn, timeout=180)
    assert v2["status"] == "ROLLBACK_SUCCESSFUL", v2
    assert "Task failed container health checks" in v2["rollback"]["reason"], v2["rollback"]
    stopped = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="STOPPED")["taskArns"]
    reasons = {
        (t["taskDefinitionArn"], t["stoppedReason"], t["containers"][0]["healthStatus"])
        for t in ecs.describe_tasks(cluster=CLUSTER, tasks=stopped)["tasks"]
    }
    assert (second, "Task failed container health checks", "UNHEALTHY") in reasons, reasons
    serving = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert serving["taskDefinition"] == first
    running = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
    described = [
        (
            t["taskDefinitionArn"],
            t["lastStatus"],
            t["desiredStatus"],
            t.get("stoppedReason"),
            t.get("startedBy"),
        )
        for t in ecs.describe_tasks(cluster=CLUSTER, tasks=running)["tasks"]
    ]
    assert serving["runningCount"] == 2, (described, serving["events"][:8])


def test_a_task_with_an_init_container_a_sidecar_a_shared_volume_and_a_sidecar_that_exits(
    local: Local,
) -> None:
    app = """
import time, urllib.request
shared = open('/shared/ready').read()
answer = urllib.request.urlopen('http://127.0.0.1:9000/', timeout=3).status
print(f'app: init wrote {shared}, sidecar answered {answer} on localhost', flush=True)
time.sleep(1)
"""
    definition = _definition(
        "sidecars",
        {
            "name": "init",
            "essential": False,
            # As on Fargate, a task's own volume is root's: the image's user 10001 could not write it.
            "user": "0",
            "command": ["python", "-c", "open('/shared/ready', 'w').write('ready'); print('init: done')"],
            "mountPoints": [{"sourceVolume": "shared", "containerPath": "/shared"}],
            "logConfiguration": _awslogs("sidecars"),
        },
        {
            "name": "web",
            "essential": False,
            "command": ["python", "-m", "http.server", "9000", "--bind", "127.0.0.1"],
            "workingDirectory": "/tmp",
            # As PID 1 with no handler it ignores SIGTERM (a namespace's init gets only the signals it
            # handles: pid_namespaces(7)), so the task's stop waits out this before SIGKILL: Fargate's
            # 30 s default (stopTimeout, ContainerDefinition in the ECS API reference), 2 s here.
            "stopTimeout": 2,
            "healthCheck": {
                "command": [
                    "CMD",
                    "python",
                    "-c",
                    "import urllib.request as u; u.urlopen('http://127.0.0.1:9000/')",
                ],
                "interval": 5,
                "retries": 3,
            },
        },
        {"name": "quitter", "essential": False, "command": ["python", "-c", "raise SystemExit(3)"]},
        {
            "name": "app",
            "command": ["python", "-c", app],
            "dependsOn": [
                {"containerName": "init", "condition": "SUCCESS"},
                {"containerName": "web", "condition": "HEALTHY"},
            ],
            "mountPoints": [{"sourceVolume": "shared", "containerPath": "/shared", "readOnly": True}],
            "logConfiguration": _awslogs("sidecars"),
        },
        volumes=[{"name": "shared"}],
    )
    arn = _run(local, definition)
    done = _when(local, arn, "STOPPED")
    containers = _containers(done)
    # The essential container ran to its end: the task stops as ECS stops it; the sidecar that exited
    # on its own did not stop it.
    assert (done["stopCode"], done["stoppedReason"]) == (
        "EssentialContainerExited",
        "Essential container in task exited",
    )
    assert {name: c.get("exitCode") for name, c in containers.items() if name != "web"} == {
        "init": 0,
        "quitter": 3,
        "app": 0,
    }
    assert containers["web"]["lastStatus"] == "STOPPED"
    task_id = arn.rsplit("/", 1)[-1]
    lines = _logged(
        local, f"sidecars/app/{task_id}", "app: init wrote ready, sidecar answered 200 on localhost"
    )
    assert lines == ["app: init wrote ready, sidecar answered 200 on localhost"]
    assert _log(local, f"sidecars/init/{task_id}") == ["init: done"]


def test_a_secret_from_secrets_manager_a_parameter_and_an_environment_file_reach_the_container(
    local: Local,
) -> None:
    password = uuid.uuid4().hex
    secret = local.client("secretsmanager").create_secret(
        Name=f"docker-test/db-{uuid.uuid4().hex[:6]}", SecretString=json.dumps({"password": password})
    )
    name = f"/docker-test/{uuid.uuid4().hex[:6]}/token"
    local.client("ssm").put_parameter(Name=name, Value="ssm-" + password, Type="SecureString")
    bucket = f"docker-test-{uuid.uuid4().hex[:8]}"
    s3 = local.client("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(
        Bucket=bucket, Key="app.env", Body=b"# from S3\nFROM_FILE=file-value\nEXPECTED=the-environment-wins\n"
    )
    # The container checks the values itself and says only whether they match: no secret is printed.
    check = """
import hashlib, os
expected = os.environ['EXPECTED']
ok = hashlib.sha256(os.environ['DB_PASSWORD'].encode()).hexdigest() == expected
ok = ok and hashlib.sha256(os.environ['TOKEN'].removeprefix('ssm-').encode()).hexdigest() == expected
ok = ok and os.environ['FROM_FILE'] == 'file-value'
raise SystemExit(0 if ok else 1)
"""
    definition = _definition(
        "secrets",
        {
            "name": "app",
            "command": ["python", "-c", check],
            "environment": [{"name": "EXPECTED", "value": hashlib.sha256(password.encode()).hexdigest()}],
            "environmentFiles": [{"type": "s3", "value": f"arn:aws:s3:::{bucket}/app.env"}],
            "secrets": [
                {"name": "DB_PASSWORD", "valueFrom": f"{secret['ARN']}:password::"},
                {"name": "TOKEN", "valueFrom": f"arn:aws:ssm:{REGION}:123456789012:parameter{name}"},
            ],
        },
    )
    done = _when(local, _run(local, definition), "STOPPED")
    assert done["containers"][0]["exitCode"] == 0, done
    # The values are in the container's environment, and only there: not in its task's description.
    assert password not in json.dumps(done, default=str)

    missing = _definition(
        "secrets",
        {"name": "app", "secrets": [{"name": "X", "valueFrom": f"{secret['ARN'][:-7]}-nope00"}]},
    )
    failed = _when(local, _run(local, missing), "STOPPED")
    assert failed["stopCode"] == "TaskFailedToStart"
    assert failed["stoppedReason"].startswith(
        "ResourceInitializationError: unable to pull secrets or registry auth"
    ), failed["stoppedReason"]


def test_a_container_over_its_memory_is_stopped_as_ecs_stops_it(local: Local) -> None:
    definition = _definition(
        "memory",
        {
            "name": "app",
            "memory": 64,
            "command": ["python", "-c", "chunks = [bytearray(8 * 1024 * 1024) for _ in range(64)]"],
        },
        memory="512",
    )
    done = _when(local, _run(local, definition), "STOPPED")
    # "OutOfMemoryError: Container killed due to memory usage" (ECS's stopped task error messages).
    assert done["stopCode"] == "EssentialContainerExited"
    assert done["stoppedReason"] == "OutOfMemoryError: Container killed due to memory usage"
    app = done["containers"][0]
    assert (app["exitCode"], app["reason"]) == (137, "OutOfMemoryError: Container killed due to memory usage")


def test_the_metadata_and_credentials_endpoints_from_inside_a_container(local: Local, tmp_path: Path) -> None:
    image = sdk_image(tmp_path)
    parameter = f"/docker-test/{uuid.uuid4().hex[:6]}/plain"
    local.client("ssm").put_parameter(Name=parameter, Value="from-the-local-endpoint", Type="String")
    script = f"""
import errno, json, os, urllib.request
import boto3
metadata = os.environ['ECS_CONTAINER_METADATA_URI_V4']
task = json.load(urllib.request.urlopen(metadata + '/task', timeout=5))
me = json.load(urllib.request.urlopen(metadata, timeout=5))
identity = boto3.client('sts').get_caller_identity()
value = boto3.client('ssm').get_parameter(Name={parameter!r})['Parameter']['Value']
try:
    open('/written-on-the-root', 'w')
    root = 'writable'
except OSError as error:
    root = errno.errorcode[error.errno]
print(json.dumps({{
    'metadata': metadata, 'taskArn': task['TaskARN'], 'family': task['Family'],
    'limits': task['Limits'], 'containers': [c['Name'] for c in task['Containers']],
    'name': me['Name'], 'knownStatus': me['KnownStatus'],
    'address': me['Networks'][0]['IPv4Addresses'][0], 'logStream': me['LogOptions']['awslogs-stream'],
    'arn': identity['Arn'], 'parameter': value, 'root': root, 'greeting': os.environ.get('GREETING'),
    'credentialsUri': os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI'],
    'endpoint': os.environ['AWS_ENDPOINT_URL'],
    'parentShell': os.environ.get({PARENT_ONLY!r}),
}}), flush=True)
"""
    definition = _definition(
        "endpoints",
        {
            "name": "app",
            "image": image,
            "readonlyRootFilesystem": True,
            "logConfiguration": _awslogs("endpoints"),
        },
        taskRoleArn="arn:aws:iam::123456789012:role/docker-test-task",
    )
    # RunTask's overrides reach the container: its command and an environment variable.
    overrides = {
        "containerOverrides": [
            {
                "name": "app",
                "command": ["python", "-c", script],
                "environment": [{"name": "GREETING", "value": "hi"}],
            }
        ]
    }
    arn = _run(local, definition, overrides=overrides)
    done = _when(local, arn, "STOPPED")
    assert done["containers"][0]["exitCode"] == 0, done
    task_id = arn.rsplit("/", 1)[-1]
    [line] = _logged(local, f"endpoints/app/{task_id}", "taskArn")
    seen = json.loads(line)
    assert seen["taskArn"] == arn
    assert seen["family"] == definition["family"]
    assert seen["limits"] == {"CPU": 0.25, "Memory": 512}
    assert (seen["containers"], seen["name"], seen["knownStatus"]) == (["app"], "app", "RUNNING")
    assert seen["address"] == done["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    assert seen["logStream"] == f"endpoints/app/{task_id}"
    # The SDK took the task role's credentials from the credentials endpoint (169.254.170.2, which
    # every SDK accepts over HTTP) and reached the local endpoint with them.
    assert seen["credentialsUri"].startswith("http://169.254.170.2:")
    assert seen["endpoint"].startswith("http://169.254.170.2:")
    assert seen["arn"] == f"arn:aws:sts::123456789012:assumed-role/docker-test-task/{task_id}"
    assert seen["parameter"] == "from-the-local-endpoint"
    assert seen["root"] == "EROFS"  # readonlyRootFilesystem
    assert seen["greeting"] == "hi"
    assert seen["parentShell"] is None
    # The endpoints answer their own task alone: not this machine's other callers.
    assert _get(seen["metadata"] + "/task")[0] in (403, 404)
    assert _get(seen["credentialsUri"])[0] in (403, 404)


def test_stop_timeout_sigterm_then_sigkill(local: Local) -> None:
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); "
        "time.sleep(600)"
    )
    definition = _definition(
        "stop-timeout",
        {
            "name": "app",
            "command": ["python", "-c", stubborn],
            "stopTimeout": 2,
            "logConfiguration": _awslogs("stop"),
        },
    )
    arn = _run(local, definition)
    _when(local, arn, "RUNNING")
    _logged(local, f"stop/app/{arn.rsplit('/', 1)[-1]}", "up")
    began = time.monotonic()
    local.client("ecs").stop_task(cluster="default", task=arn, reason="test says stop")
    done = _when(local, arn, "STOPPED", timeout=30)
    took = time.monotonic() - began
    assert (done["stopCode"], done["stoppedReason"]) == ("UserInitiated", "test says stop")
    assert done["containers"][0]["exitCode"] == 137  # SIGKILL: it ignored SIGTERM
    assert 2.0 <= took < 15, took


def test_sigterm_leaves_no_container_and_a_killed_run_s_are_removed_at_the_next_start() -> None:
    """A run that ends by SIGTERM removes its containers itself. One killed outright cannot: its reaper
    (runtime.reaper) removes them once it has gone; and should the reaper be killed with it, the next
    start sweeps them."""
    sample_image()
    forever = {"name": "app", "command": ["python", "-c", "import time; time.sleep(600)"]}
    with local_ecs("--runtime", "docker") as first:
        owner = owner_of(first.process.pid)
        arn = _run(first, _definition("sigterm", forever), count=2)
        _when(first, arn, "RUNNING")
        assert len(containers_owned(owner)) == 2
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(timeout=60) == 0
    assert containers_owned(owner) == []
    running = (command_line(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit())
    parent = str(first.process.pid).encode()
    assert not [argv for argv in running if argv[1:4] == REAPER and argv[-1] == parent]  # ended with the run

    with local_ecs("--runtime", "docker") as killed:
        owner = owner_of(killed.process.pid)
        arn = _run(killed, _definition("sigkill", forever))
        _when(killed, arn, "RUNNING")
        assert len(containers_owned(owner)) == 1
        killed.process.kill()  # no clean-up of its own
        killed.process.wait(timeout=30)
        until(lambda: containers_owned(owner) == [], timeout=60)  # the reaper's

    with local_ecs("--runtime", "docker") as killed:
        owner = owner_of(killed.process.pid)
        arn = _run(killed, _definition("sigkill", forever))
        _when(killed, arn, "RUNNING")
        (reaper,) = [pid for pid in descendants(killed.process.pid) if command_line(pid)[1:4] == REAPER]
        os.kill(reaper, signal.SIGKILL)
        killed.process.kill()
        killed.process.wait(timeout=30)
        time.sleep(2)
        assert len(containers_owned(owner)) == 1  # nobody left to remove it
    with local_ecs("--runtime", "docker") as next_run:
        assert "removed 1 container(s) an earlier killed run left" in next_run.header[3], next_run.header
        assert containers_owned(owner) == []


@pytest.mark.parametrize("after", [0.0, 0.002, 0.01, 0.05])
def test_a_container_asked_for_as_its_start_is_cancelled_does_not_outlive_the_run(after: float) -> None:
    """A Ctrl-C while the engine creates a task's container: the engine makes it whether or not its
    answer is read (CI once found one left in state created after an interrupted simulate). Cancelled
    at several moments of the request, the run's close leaves none of its containers."""
    image = sample_image()

    async def interrupted() -> str:
        runtime = DockerRuntime(speed=1.0)
        config = {"Image": image, "Cmd": ["true"], "Labels": runtime.labels}
        creating = asyncio.ensure_future(runtime._create_container(f"ecs-bg-{runtime.run_id}-app", config))
        await asyncio.sleep(after)
        creating.cancel()
        await asyncio.gather(creating, return_exceptions=True)
        await runtime.close()
        return runtime.owner

    owner = asyncio.run(interrupted())
    time.sleep(0.5)  # a container the engine was still making would be listed by now
    assert containers_owned(owner) == []


def test_simulate_deploys_the_sample_image_and_sigint_leaves_no_container(tmp_path: Path) -> None:
    sample_image()
    report = tmp_path / "report.json"
    command = [str(BIN / "ecs-bg"), "simulate", "--quiet", "--runtime", "docker", "--report", str(report)]
    done = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    owner = until(lambda: _alive_owner(done.pid), timeout=30)
    output, _ = done.communicate(timeout=300)
    outcome = json.loads(report.read_text())
    assert done.returncode == 0, output + diagnosis(outcome)
    assert output.startswith("tasks: docker (--runtime docker: Docker "), output
    assert outcome["status"] == "SUCCESSFUL"
    assert outcome["traffic"]["production"]["errors"] == 0, outcome["traffic"]
    assert outcome["traffic"]["production"]["requests"] > 0
    assert containers_owned(owner) == []

    # Ctrl-C while blue's tasks run: what simulate started is stopped, every container removed.
    interrupted = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        owner = until(lambda: _alive_owner(interrupted.pid), timeout=30)
        until(lambda: len(containers_owned(owner)) >= 2, timeout=120)
        interrupted.send_signal(signal.SIGINT)
        output, _ = interrupted.communicate(timeout=60)
        assert interrupted.returncode == 128 + signal.SIGINT, output
        assert containers_owned(owner) == []
    finally:
        if interrupted.poll() is None:
            interrupted.kill()
            interrupted.wait()


def _alive_owner(pid: int) -> str | None:
    try:
        return owner_of(pid)
    except OSError:
        return None
