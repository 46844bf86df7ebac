"""fabfuel's ``ecs-deploy`` (PyPI ecs-deploy, the ``ecs`` command; pinned in the dev group) against
``ecs-bg local``: it deploys a new image blue/green, scales, and meets a rolled-back update under
each reading of what DescribeServices lists afterwards (``--rolled-back-deployment``, UNCONFIRMED;
docs/local.md, "A rolled-back update: which tools each reading breaks").

How it decides (ecs_deploy/ecs.py 1.17.0, ``EcsAction.is_deployed``, polled every ``--sleep-time``
until ``--timeout``): a PRIMARY entry of ``deployments`` with ``rolloutState`` FAILED is a failure
("Deployment Failed! <rolloutStateReason>"); otherwise it waits until ``deployments`` has one entry
and ``desiredCount`` tasks of the service's ``taskDefinition`` are RUNNING. It never looks at the
service deployment, nor at an ACTIVE entry's rolloutState. What follows from that is what these
tests show, and docs/local.md records."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest

from tests.clients.service import definitions
from tests.sim.local_ecs_process import BIN, CLUSTER, SERVICE, Local, finished, local_ecs, newest

pytestmark = [pytest.mark.slow, pytest.mark.waits]


def _ecs(local: Local, command: str) -> subprocess.CompletedProcess[str]:
    """ecs-deploy's command line (no argument holds a space), with the endpoint and credentials of
    ``local`` from the environment."""
    return subprocess.run(
        [str(BIN / "ecs"), *command.split()],
        env=local.env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _service_with_one_revision(local: Local) -> tuple[Any, str]:
    """A boto3 ECS client and the task definition of a service created (no hooks) and deployed."""
    ecs = local.client("ecs")
    task, create = definitions(local, SERVICE, [])
    v1 = ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(**{**create, "taskDefinition": v1})
    assert finished(ecs, newest(ecs))["status"] == "SUCCESSFUL"
    return ecs, v1


def _service(ecs: Any) -> dict[str, Any]:
    found: dict[str, Any] = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    return found


def _definition(ecs: Any, arn: str) -> dict[str, Any]:
    found: dict[str, Any] = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    return found


def _deployments(ecs: Any) -> int:
    return len(ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"])


def test_ecs_deploy_deploys_new_images_blue_green_and_scales() -> None:
    with local_ecs() as local:
        ecs, v1 = _service_with_one_revision(local)
        repository = _definition(ecs, v1)["containerDefinitions"][0]["image"].rsplit(":", 1)[0]

        tagged = _ecs(local, f"deploy {CLUSTER} {SERVICE} --tag v2 --timeout 120")
        assert tagged.returncode == 0, tagged.stdout + tagged.stderr
        assert "Deployment successful" in tagged.stdout, tagged.stdout
        deployment = finished(ecs, newest(ecs))
        assert deployment["status"] == "SUCCESSFUL", deployment
        assert len(deployment["sourceServiceRevisions"]) == 1, deployment  # blue/green: v1 was the source
        assert deployment["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
        v2 = _service(ecs)["taskDefinition"]
        assert v2.endswith(":2"), v2
        assert _definition(ecs, v2)["containerDefinitions"][0]["image"] == f"{repository}:v2"
        # ecs-deploy deregisters the revision it deployed from (--deregister, its default).
        assert _definition(ecs, v1)["status"] == "INACTIVE"

        imaged = _ecs(local, f"deploy {CLUSTER} {SERVICE} --image app {repository}:v3 --timeout 120")
        assert imaged.returncode == 0, imaged.stdout + imaged.stderr
        v3 = _service(ecs)["taskDefinition"]
        assert _definition(ecs, v3)["containerDefinitions"][0]["image"] == f"{repository}:v3"
        tasks = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
        running = ecs.describe_tasks(cluster=CLUSTER, tasks=tasks)["tasks"]
        assert [task["taskDefinitionArn"] for task in running] == [v3]

        # Scaling changes desiredCount only: no new service deployment, one more task of v3.
        before = _deployments(ecs)
        scaled = _ecs(local, f"scale {CLUSTER} {SERVICE} 2 --timeout 120")
        assert scaled.returncode == 0, scaled.stdout + scaled.stderr
        assert "Scaling successful" in scaled.stdout, scaled.stdout
        service = _service(ecs)
        assert (service["desiredCount"], service["runningCount"], service["taskDefinition"]) == (2, 2, v3)
        assert _deployments(ecs) == before


@pytest.mark.parametrize(
    ("reading", "speed", "deploy_timeout"),
    [
        # The rolled-back revision gone from deployments: ecs-deploy reports success at once.
        ("gone", "240", "120"),
        # Listed (ACTIVE, FAILED) for 5 simulated minutes, 1.25 s here: success once it is gone.
        ("listed", "240", "120"),
        # Listed for longer than ecs-deploy waits (5 simulated minutes are 15 s at --speed 20; it
        # waits 13, of which the rollback takes 2 to 4, up to 8 on a busy machine): "Deployment failed
        # due to timeout", the only failure either reading gives it.
        pytest.param("listed", "20", "13", marks=pytest.mark.waits(seconds=25)),
    ],
    ids=["gone", "listed-briefly", "listed-past-its-timeout"],
)
def test_ecs_deploy_meets_a_rolled_back_update(reading: str, speed: str, deploy_timeout: str) -> None:
    with local_ecs("--rolled-back-deployment", reading, "--speed", speed) as local:
        ecs, v1 = _service_with_one_revision(local)
        # v2's container answers /health with 503: green fails its health checks at SCALE_UP.
        failing = "-e app APP_FAIL_HEALTH true"
        done = _ecs(local, f"deploy {CLUSTER} {SERVICE} {failing} --timeout {deploy_timeout}")
        gave_up = time.time()
        deployment = finished(ecs, newest(ecs))
        assert deployment["status"] == "ROLLBACK_SUCCESSFUL", deployment
        assert "failed its health checks" in deployment["statusReason"], deployment
        service = _service(ecs)
        assert service["taskDefinition"] == v1, service  # back on the source revision
        output = done.stdout + done.stderr
        if deploy_timeout == "120":
            # Reported as a success; and, as after any success, it deregisters the revision it deployed
            # from, which is the one the service was rolled back to and runs.
            assert done.returncode == 0, output
            assert "Deployment successful" in done.stdout, output
            assert "Successfully deregistered revision: 1" in done.stdout, output
            assert _definition(ecs, v1)["status"] == "INACTIVE"
        else:
            # It waited on the rolled-back revision's entry, long after the rollback had ended.
            assert done.returncode == 1, output
            assert "Deployment failed due to timeout" in done.stderr, output
            assert gave_up - deployment["finishedAt"].timestamp() > 5, (gave_up, deployment["finishedAt"])
            listed = [(d["status"], d["rolloutState"]) for d in service["deployments"]]
            assert listed == [("PRIMARY", "COMPLETED"), ("ACTIVE", "FAILED")], listed
            assert _definition(ecs, v1)["status"] == "ACTIVE"
        assert "rolled back" not in output.lower(), output  # it never says what happened
        # botocore's ServicesStable waiter (as `aws ecs wait services-stable` runs it) calls the service
        # stable too, once the entry has gone under "listed".
        ecs.get_waiter("services_stable").wait(
            cluster=CLUSTER, services=[SERVICE], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
