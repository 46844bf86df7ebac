"""`ecs-bg local` driven as CI drives ECS: the AWS CLI, a rendered service definition, a PAUSE hook,
the waiter, the hooks' logs; and SIGTERM leaves no process behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.local.lambda_.runner import PRELOADED
from tests.cloud import TEMPLATE
from tests.ecs_bg_process import ecs_bg_here
from tests.sim.local_ecs_process import (
    BIN,
    CLUSTER,
    REGION,
    ROOT,
    SERVICE,
    Local,
    adopt_orphans,
    alive,
    command_line,
    descendants,
    finished,
    local_ecs,
    parent,
    until,
)

pytestmark = pytest.mark.slow


def _newest(local: Local) -> dict[str, Any]:
    briefs = local.aws("ecs", "list-service-deployments", "--cluster", CLUSTER, "--service", SERVICE)
    newest: dict[str, Any] = max(briefs["serviceDeployments"], key=lambda brief: brief["createdAt"])
    return newest


def _describe(local: Local, arn: str) -> dict[str, Any]:
    answer = local.aws("ecs", "describe-service-deployments", "--service-deployment-arns", arn)
    assert answer["failures"] == []
    deployment: dict[str, Any] = answer["serviceDeployments"][0]
    return deployment


def _finished(local: Local, arn: str) -> dict[str, Any]:
    """The deployment once it has ended, as the AWS CLI describes it. Waited for through boto3: a look
    through the CLI is a process of its own, most of a second of CPU, and a wait looks every 0.3 s."""
    finished(local.client("ecs"), arn)
    return _describe(local, arn)


def _production_weights(local: Local) -> dict[str, int]:
    balancer = local.aws("elbv2", "describe-load-balancers")["LoadBalancers"][0]["LoadBalancerArn"]
    listener = local.aws("elbv2", "describe-listeners", "--load-balancer-arn", balancer)["Listeners"][0][
        "ListenerArn"
    ]
    rule = local.aws("elbv2", "describe-rules", "--listener-arn", listener)["Rules"][0]
    groups = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
    return {group["TargetGroupArn"].split("/")[-2]: group["Weight"] for group in groups}


def test_a_ci_script_deploys_twice_through_the_aws_cli(tmp_path: Any) -> None:
    with local_ecs() as local:
        assert local.header[1].startswith("export AWS_REGION=")
        # The runtime is said right after the exports, as a shell comment: simulation.yml's
        # containers: give host commands, so auto runs processes.
        runtime = local.header[3]
        assert runtime.startswith("# runtime: process (auto: simulation.yml's containers: give host"), runtime
        task = local.render("task")
        service = local.render("service")
        (tmp_path / "task.json").write_text(json.dumps(task))
        first = local.aws(
            "ecs", "register-task-definition", "--cli-input-json", f"file://{tmp_path}/task.json"
        )
        assert first["taskDefinition"]["revision"] == 1
        create = {**service, "cluster": CLUSTER, "serviceName": SERVICE, "taskDefinition": "ecs-bg-app"}
        (tmp_path / "create.json").write_text(json.dumps(create))
        local.aws("ecs", "create-service", "--cli-input-json", f"file://{tmp_path}/create.json")
        v1 = _finished(local, _newest(local)["serviceDeploymentArn"])
        assert v1["status"] == "SUCCESSFUL", v1
        assert v1["sourceServiceRevisions"] == []  # CreateService: a first deployment
        # Someone deletes a hook's log group: its next invocation's lines make it again, as Lambda's do.
        after_allow = "/aws/lambda/ecs-bg-after-allow-traffic-dev"
        local.aws("logs", "delete-log-group", "--log-group-name", after_allow)

        # v2: a new revision, with a PAUSE after test traffic is on it.
        second = local.aws(
            "ecs", "register-task-definition", "--cli-input-json", f"file://{tmp_path}/task.json"
        )
        configuration = service["deploymentConfiguration"]
        configuration["lifecycleHooks"].append(
            {
                "targetType": "PAUSE",
                "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                "timeoutConfiguration": {"timeoutInMinutes": 10080, "action": "ROLLBACK"},
            }
        )
        update = {
            "cluster": CLUSTER,
            "service": SERVICE,
            "taskDefinition": second["taskDefinition"]["taskDefinitionArn"],
            "deploymentConfiguration": configuration,
        }
        (tmp_path / "update.json").write_text(json.dumps(update))
        local.aws("ecs", "update-service", "--cli-input-json", f"file://{tmp_path}/update.json")
        arn = until(
            lambda: (brief := _newest(local))["serviceDeploymentArn"] != v1["serviceDeploymentArn"] and brief
        )["serviceDeploymentArn"]

        ecs = local.client("ecs")

        def awaiting() -> str | None:  # looked at through boto3, as _finished waits
            (deployment,) = ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
                "serviceDeployments"
            ]
            hooks = deployment.get("lifecycleHookDetails", [])
            return next((hook["hookId"] for hook in hooks if hook["status"] == "AWAITING_ACTION"), None)

        hook_id = until(awaiting, timeout=60)
        paused = _describe(local, arn)
        assert paused["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
        assert paused["targetServiceRevision"]["requestedTestTrafficWeight"] == 100.0
        assert paused["targetServiceRevision"]["requestedProductionTrafficWeight"] == 0.0
        local.aws("ecs", "continue-service-deployment", "--service-deployment-arn", arn, "--hook-id", hook_id)
        v2 = _finished(local, arn)
        assert v2["status"] == "SUCCESSFUL", v2
        done = local.aws(
            "ecs", "wait", "services-stable", "--cluster", CLUSTER, "--services", SERVICE, check=False
        )
        assert done.returncode == 0, done.stderr
        described = local.aws("ecs", "describe-services", "--cluster", CLUSTER, "--services", SERVICE)[
            "services"
        ][0]
        assert (described["desiredCount"], described["runningCount"], described["pendingCount"]) == (2, 2, 0)
        assert [d["taskDefinition"] for d in described["deployments"]] == [
            second["taskDefinition"]["taskDefinitionArn"]
        ]
        # ECS moved production to the alternate group: v2's tasks are in green.
        blue_arn = service["loadBalancers"][0]["targetGroupArn"]
        green_arn = service["loadBalancers"][0]["advancedConfiguration"]["alternateTargetGroupArn"]
        blue, green = blue_arn.split("/")[-2], green_arn.split("/")[-2]
        assert _production_weights(local) == {blue: 0, green: 100}
        revision = local.aws(
            "ecs", "describe-service-revisions", "--service-revision-arns", v2["targetServiceRevision"]["arn"]
        )["serviceRevisions"][0]
        balancer = revision["resolvedConfiguration"]["loadBalancers"][0]
        assert balancer["targetGroupArn"] == green_arn
        rule = service["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"]
        assert balancer["productionListenerRule"] == rule

        # Both deployments are listed and described, as ECS keeps them.
        briefs = local.aws("ecs", "list-service-deployments", "--cluster", CLUSTER, "--service", SERVICE)
        assert len(briefs["serviceDeployments"]) == 2
        assert _describe(local, v1["serviceDeploymentArn"])["status"] == "SUCCESSFUL"

        # The hooks' output is in CloudWatch Logs, where the seed's debugging step looks.
        events = local.aws(
            "logs",
            "filter-log-events",
            "--log-group-name",
            "/aws/lambda/ecs-bg-before-install-dev",
            "--filter-pattern",
            "hook decision",
        )["events"]
        assert len(events) == 2  # one PRE_SCALE_UP invocation per deployment
        again = local.aws(
            "logs", "filter-log-events", "--log-group-name", after_allow, "--filter-pattern", "hook decision"
        )["events"]
        assert len(again) == 1  # v2's, in the group made again
        # Each execution environment's init is logged first in its stream, as Lambda logs it.
        inits = local.aws(
            "logs",
            "filter-log-events",
            "--log-group-name",
            "/aws/lambda/ecs-bg-after-install-dev",
            "--filter-pattern",
            "INIT_START",
        )["events"]
        assert inits, "no INIT_START line"
        for init in inits:
            stream = local.aws(
                "logs",
                "get-log-events",
                "--log-group-name",
                "/aws/lambda/ecs-bg-after-install-dev",
                "--log-stream-name",
                init["logStreamName"],
                "--start-from-head",
            )["events"]
            assert stream[0]["message"].startswith("INIT_START Runtime Version: python:3.")


def _create_the_service(local: Local) -> None:
    task = local.render("task")
    service = local.render("service")
    local.aws("ecs", "register-task-definition", "--cli-input-json", json.dumps(task))
    create = {**service, "cluster": CLUSTER, "serviceName": SERVICE, "taskDefinition": "ecs-bg-app"}
    local.aws("ecs", "create-service", "--cli-input-json", json.dumps(create))
    ecs = local.client("ecs")  # waited on through boto3, as _finished waits

    def running() -> int:
        return int(ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["runningCount"])

    until(lambda: running() == 2)


def test_sigterm_stops_every_process_local_started() -> None:
    with local_ecs() as local:
        _create_the_service(local)
        children = descendants(local.process.pid)
        assert len(children) >= 2  # the service's two tasks, and hook workers
        os.kill(local.process.pid, signal.SIGTERM)
        assert local.process.wait(timeout=30) == 0
        until(lambda: not any(alive(pid) for pid in children), timeout=10)


def test_a_killed_local_leaves_no_task_or_worker_running() -> None:
    """SIGKILL gives ``ecs-bg local`` no chance to stop anything: its tasks (each a session of its own)
    and Lambda workers end anyway, by the kernel's parent-death signal, and moto by its own watch."""
    with local_ecs("--runtime", "process") as local:
        _create_the_service(local)
        children = descendants(local.process.pid)
        commands = {pid: command_line(pid) for pid in children}
        # The tasks and the hook workers are forked from fork servers, whose command lines they keep:
        # python -P -m ecs_bg.local.forkserver FD STARTUP PRELOAD FIRST_ON_PATH. What a server imports
        # ahead tells them apart: FastAPI for the sample's tasks, Lambda's runtime (PRELOADED) for its
        # workers.
        forked = {
            pid: command[6] for pid, command in commands.items() if b"ecs_bg.local.forkserver" in command
        }
        tasks = [pid for pid, preload in forked.items() if b'"fastapi"' in preload and parent(pid) in forked]
        assert len(tasks) == 2, commands
        runtime = json.dumps(list(PRELOADED)).encode()
        lambda_processes = [pid for pid, preload in forked.items() if preload == runtime]
        assert len(lambda_processes) >= 2, commands  # a server and its workers
        local.process.kill()
        local.process.wait(timeout=10)
        try:
            until(lambda: not [pid for pid in children if alive(pid)], timeout=15)
        finally:  # what outlived it is not left on the machine by a failing test
            for pid in children:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("started", [2, 5], ids=["while-blue-is-created", "once-deploying"])
def test_sigterm_stops_every_process_simulate_started(started: int) -> None:
    """SIGTERM early (hook workers starting, blue's creation under way: a CreateService in flight) and
    later: no process simulate started is left, found below this process, which adopts orphans (a
    task's process is a session of its own, and outlives simulate if simulate fails to stop it)."""
    adopt_orphans()
    before = descendants(os.getpid())
    process = subprocess.Popen(
        [str(BIN / "ecs-bg"), "simulate", "--quiet", "--speed", "5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )

    def left() -> list[int]:
        return [pid for pid in descendants(os.getpid()) - before - {process.pid} if alive(pid)]

    try:
        until(lambda: len(descendants(process.pid)) >= started, timeout=60)
        os.kill(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 128 + signal.SIGTERM, output
        assert "stopped by SIGTERM" in output
        # Whatever was starting as the signal came must be gone too, not just what had started.
        until(lambda: not left(), timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _ecspresso_with(tmp_path: Path, simulation_yml: str) -> Path:
    """A copy of the repository's ecspresso files with this simulation.yml beside them."""
    folder = tmp_path / "ecspresso"
    shutil.copytree(ROOT / "ecspresso", folder)
    # The sample's synthesized stack, which the copy's own simulation.yml would name relative to it.
    (folder / "simulation.yml").write_text(f"template: {TEMPLATE}\n{simulation_yml}")
    return folder / "ecspresso.yml"


@pytest.mark.parametrize(
    ("content", "names"),
    [
        ("functionTimeoutSeconds: -1\n", "functionTimeoutSeconds"),
        ("functions:\n  nowhere:\n    handler: app.handler\n", "functions.nowhere"),
        ("containers:\n  app: {command: []}\n", "containers.app.command"),
        ("lambdaDir: missing\n", "lambdaDir 'missing'"),
        (
            "firstDeploymentStable: soon\n",
            "firstDeploymentStable must be tasks-running or deployment-complete,",
        ),
        ("runtime: podman\n", "runtime must be docker, process or auto, got 'podman'"),
        ("images: {app: 3}\n", "images.app must be a string"),
    ],
)
def test_a_bad_simulation_yml_stops_local_before_it_serves(tmp_path: Path, content: str, names: str) -> None:
    config = _ecspresso_with(tmp_path, content)
    # In this process: a refusal; the two tests below see one from a process.
    done = ecs_bg_here("local", "--port", "1", "--config", str(config), cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""  # nothing served, no shell lines
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: {config.parent / 'simulation.yml'}: "), line
    assert names in line, line


def test_an_unknown_first_deployment_reading_stops_local_before_it_serves() -> None:
    done = subprocess.run(
        [str(BIN / "ecs-bg"), "local", "--port", "1", "--first-deployment-stable", "soon"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: --first-deployment-stable must be tasks-running or deployment-complete, got 'soon'"
    ]


def test_the_docker_runtime_without_an_engine_stops_local_before_it_serves() -> None:
    done = subprocess.run(
        [str(BIN / "ecs-bg"), "local", "--port", "1", "--runtime", "docker"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"},
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: --runtime docker: no Docker engine answers at unix:///nonexistent/docker.sock (No such file "
        "or directory); start one with scripts/docker-engine (as root)"
    ]


def test_a_container_without_a_command_fails_the_deployment_saying_so(tmp_path: Path) -> None:
    # simulation.yml's containers name only "web"; the service's load balancer routes to "app".
    config = _ecspresso_with(tmp_path, "containers:\n  web:\n    command: [python, -m, app]\n")
    with local_ecs("--config", str(config)) as local:
        task, service = local.render("task"), local.render("service")
        (tmp_path / "task.json").write_text(json.dumps(task))
        local.aws("ecs", "register-task-definition", "--cli-input-json", f"file://{tmp_path}/task.json")
        create = {**service, "cluster": CLUSTER, "serviceName": SERVICE, "taskDefinition": "ecs-bg-app"}
        (tmp_path / "create.json").write_text(json.dumps(create))
        local.aws("ecs", "create-service", "--cli-input-json", f"file://{tmp_path}/create.json")
        deployment = _finished(local, _newest(local)["serviceDeploymentArn"])
        assert deployment["status"] != "SUCCESSFUL", deployment
        stopped = local.aws("ecs", "list-tasks", "--cluster", CLUSTER, "--desired-status", "STOPPED")
        tasks = local.aws("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", *stopped["taskArns"])
        reason = tasks["tasks"][0]["stoppedReason"]
        assert "containers has no command for 'app'" in reason, reason
        assert "(configured: web)" in reason, reason


def test_cfn_export_resolves_against_the_local_stacks_exports(tmp_path: Path) -> None:
    # The stack exports nothing (tests/infra/test_outputs.py), so ListExports answers no export and a
    # template reading one fails to render, naming it, as it would against the real stack.
    config = _ecspresso_with(tmp_path, "")
    task = config.parent / "ecs-task-def.json"
    document = json.loads(task.read_text())
    document["family"] = "{{ cfn_export `ecs-bg-dev-TaskFamily` }}"
    task.write_text(json.dumps(document))
    with local_ecs() as local:
        assert local.aws("cloudformation", "list-exports") == {"Exports": []}
        done = subprocess.run(
            [str(BIN / "ecs-bg"), "render", "task", "--config", str(config), "--endpoint-url", local.url],
            env=local.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2, done.stdout
    (line,) = done.stderr.splitlines()
    assert "no CloudFormation export named ecs-bg-dev-TaskFamily" in line, line


def test_a_create_service_that_arrives_while_the_server_stops_starts_nothing() -> None:
    """A client's call in flight when ``ecs-bg local`` (or simulate) begins to stop still reaches the
    API: the service is created, but no deployment starts a task that nobody would stop."""
    import asyncio

    import boto3

    from ecs_bg.local.options import LocalOptions
    from ecs_bg.local.server import LocalEcsServer

    async def scenario() -> tuple[int, list[str]]:
        options = LocalOptions(config=None, clusters=(CLUSTER,), template=TEMPLATE)
        async with LocalEcsServer(options) as server:
            await server.driver.close()  # stopping: what follows comes too late

            def create() -> None:
                ecs = boto3.client(
                    "ecs", region_name=REGION, endpoint_url=server.url,
                    aws_access_key_id="local", aws_secret_access_key="local",
                )  # fmt: skip
                family = ecs.register_task_definition(
                    family="late", containerDefinitions=[{"name": "app", "image": "app"}]
                )["taskDefinition"]["taskDefinitionArn"]
                ecs.create_service(cluster=CLUSTER, serviceName="late", taskDefinition=family, desiredCount=2)

            await asyncio.to_thread(create)
            await asyncio.sleep(0.5)  # time enough for a deployment to have started its tasks
            service = server.ecs.clusters[CLUSTER].services["late"]
            return len(server.world.tasks.processes), [task.arn for task in service.tasks]

    processes, tasks = asyncio.run(scenario())
    assert (processes, tasks) == (0, [])
