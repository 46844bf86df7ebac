"""boto3's ``services_stable`` waiter against `ecs-bg local`, on what DescribeServices lists as ECS does:
a first deployment that was rolled back stays listed (PRIMARY, FAILED, no task running), so the waiter
never reports the service stable; during an update blue is ACTIVE beside green (PRIMARY), so the
waiter waits until blue has gone. While a first deployment's hooks run, what ECS reports is
UNCONFIRMED: each reading `--first-deployment-stable` names is played. The waiter's acceptors are
botocore's (waiters-2.json)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import WaiterError

from tests.sim.local_ecs_process import CLUSTER, SERVICE, Local, finished, local_ecs, newest, until

pytestmark = pytest.mark.slow

UNKNOWN_FUNCTION = "arn:aws:lambda:ap-northeast-1:123456789012:function:no-such-function"
PAUSE = {
    "targetType": "PAUSE",
    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    "timeoutConfiguration": {"timeoutInMinutes": 10080, "action": "ROLLBACK"},
}


@pytest.fixture(scope="module")
def local() -> Iterator[Local]:
    with local_ecs() as running:
        yield running


def ecs_client(local: Local) -> Any:
    return local.client("ecs")


def wait_stable(ecs: Any, attempts: int) -> None:
    ecs.get_waiter("services_stable").wait(
        cluster=CLUSTER, services=[SERVICE], WaiterConfig={"Delay": 1, "MaxAttempts": attempts}
    )


def deployments(ecs: Any) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0][
        "deployments"
    ]
    return listed


def paused_hook(ecs: Any, arn: str) -> str | None:
    """The hookId of the deployment's PAUSE hook once it awaits action."""
    found = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]
    hooks = found.get("lifecycleHookDetails", [])
    return next((hook["hookId"] for hook in hooks if hook["status"] == "AWAITING_ACTION"), None)


def status(ecs: Any, arn: str) -> str:
    found: str = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0][
        "status"
    ]
    return found


def test_the_waiter_as_ecs_lists_deployments(local: Local) -> None:
    ecs = ecs_client(local)
    task, service = local.render("task"), local.render("service")
    revisions = [
        ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"] for _ in range(3)
    ]
    configuration = service["deploymentConfiguration"]

    # A first deployment whose hook names no function: FAILED, rolled back, green scaled down.
    failing = copy.deepcopy(service)
    failing["deploymentConfiguration"]["lifecycleHooks"][0]["hookTargetArn"] = UNKNOWN_FUNCTION
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=revisions[0], **failing)
    first = finished(ecs, newest(ecs))
    assert first["status"] == "ROLLBACK_SUCCESSFUL", first
    (listed,) = deployments(ecs)
    assert (listed["status"], listed["rolloutState"], listed["taskDefinition"]) == (
        "PRIMARY",
        "FAILED",
        revisions[0],
    )
    assert (listed["runningCount"], listed["desiredCount"]) == (0, 2)
    # One deployment but no task running: no acceptor matches, the waiter runs out of attempts.
    with pytest.raises(WaiterError, match="Max attempts exceeded"):
        wait_stable(ecs, attempts=2)

    # The next deployment (again with nothing serving before it) succeeds; the service is stable.
    ecs.update_service(
        cluster=CLUSTER, service=SERVICE, taskDefinition=revisions[1], deploymentConfiguration=configuration
    )
    second_arn = until(lambda: (arn := newest(ecs)) != first["serviceDeploymentArn"] and arn)
    assert finished(ecs, second_arn)["status"] == "SUCCESSFUL"
    wait_stable(ecs, attempts=60)

    # An update held at a PAUSE: green PRIMARY and IN_PROGRESS, blue ACTIVE; the waiter waits.
    paused = copy.deepcopy(configuration)
    paused["lifecycleHooks"].append(PAUSE)
    ecs.update_service(
        cluster=CLUSTER, service=SERVICE, taskDefinition=revisions[2], deploymentConfiguration=paused
    )
    third_arn = until(lambda: (arn := newest(ecs)) != second_arn and arn)
    hook_id = until(lambda: paused_hook(ecs, third_arn), timeout=60)
    during = {(d["status"], d["rolloutState"], d["taskDefinition"]) for d in deployments(ecs)}
    assert during == {("PRIMARY", "IN_PROGRESS", revisions[2]), ("ACTIVE", "COMPLETED", revisions[1])}
    with pytest.raises(WaiterError, match="Max attempts exceeded"):
        wait_stable(ecs, attempts=2)
    ecs.continue_service_deployment(serviceDeploymentArn=third_arn, hookId=hook_id, action="CONTINUE")
    wait_stable(ecs, attempts=60)  # returns once blue has gone: by then the deployment has ended
    assert finished(ecs, third_arn)["status"] == "SUCCESSFUL"
    (after,) = deployments(ecs)
    assert (after["status"], after["rolloutState"], after["runningCount"]) == ("PRIMARY", "COMPLETED", 2)


@pytest.mark.parametrize("reading", ["tasks-running", "deployment-complete"])
def test_the_waiter_during_a_first_deployment_under_each_reading(reading: str) -> None:
    with local_ecs("--first-deployment-stable", reading) as local:
        ecs = ecs_client(local)
        task, service = local.render("task"), local.render("service")
        revision = ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"]
        held = copy.deepcopy(service)
        held["deploymentConfiguration"]["lifecycleHooks"].append(PAUSE)
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=revision, **held)
        arn = newest(ecs)
        hook_id = until(lambda: paused_hook(ecs, arn), timeout=60)  # green runs, held at the PAUSE
        desired = held["desiredCount"]

        # Either way the tasks run (DescribeTasks, the deployment's own view) and the one deployment is
        # PRIMARY and IN_PROGRESS; the readings differ in whether DescribeServices counts them yet.
        running = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
        described = ecs.describe_tasks(cluster=CLUSTER, tasks=running)["tasks"]
        assert [t["lastStatus"] for t in described] == ["RUNNING"] * desired
        target = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]
        assert target["targetServiceRevision"]["runningTaskCount"] == desired
        found = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        (primary,) = found["deployments"]
        (current,) = found["currentServiceRevisions"]
        assert (primary["status"], primary["rolloutState"]) == ("PRIMARY", "IN_PROGRESS")
        counted = desired if reading == "tasks-running" else 0
        for counts in (
            (found["runningCount"], found["pendingCount"]),
            (primary["runningCount"], primary["pendingCount"]),
            (current["runningTaskCount"], current["pendingTaskCount"]),
        ):
            assert counts == (counted, desired - counted), found

        if reading == "tasks-running":
            wait_stable(ecs, attempts=30)  # returns with the deployment held at its PAUSE hook
            assert status(ecs, arn) == "IN_PROGRESS"
            assert paused_hook(ecs, arn) == hook_id
        else:
            with pytest.raises(WaiterError, match="Max attempts exceeded"):
                wait_stable(ecs, attempts=3)
            assert status(ecs, arn) == "IN_PROGRESS"

        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook_id, action="CONTINUE")
        if reading == "deployment-complete":
            wait_stable(ecs, attempts=60)
            assert status(ecs, arn) == "SUCCESSFUL"  # the waiter returned only once it had ended
        assert finished(ecs, arn)["status"] == "SUCCESSFUL"
        wait_stable(ecs, attempts=60)
        found = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        assert (found["runningCount"], found["pendingCount"]) == (desired, 0)
        assert found["deployments"][0]["rolloutState"] == "COMPLETED"
