"""`ecs-bg local` through boto3: ECS's error codes, pagination, the waiters, consecutive deployments
with a rollback between them, tasks; every answer is checked against botocore's output shape."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

from tests.sim.local_ecs_process import CLUSTER, SERVICE, Local, finished, local_ecs, newest, until

pytestmark = pytest.mark.slow

PAUSE = {
    "targetType": "PAUSE",
    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    "timeoutConfiguration": {"timeoutInMinutes": 10080, "action": "ROLLBACK"},
}


class ShapeChecker:
    """Validates each parsed answer against its operation's output shape (unknown or mistyped
    members are errors), as the client receives it."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked: set[str] = set()

    def __call__(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.output_shape is None or "Error" in parsed:
            return
        answer = {key: value for key, value in parsed.items() if key != "ResponseMetadata"}
        report = ParamValidator().validate(answer, model.output_shape)
        self.checked.add(model.name)
        if report.has_errors():
            self.problems.append(f"{model.name}: {report.generate_report()}")


@pytest.fixture(scope="module")
def local() -> Iterator[Local]:
    with local_ecs() as running:
        yield running


@pytest.fixture(scope="module")
def shapes() -> ShapeChecker:
    return ShapeChecker()


def client(local: Local, shapes: ShapeChecker, service: str) -> Any:
    made = local.client(service)
    made.meta.events.register("after-call", shapes)
    return made


def _code(error: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return error.value.response["Error"]["Code"], error.value.response["Error"]["Message"]


def test_ecs_errors_are_ecs_s_own(local: Local, shapes: ShapeChecker) -> None:
    ecs = client(local, shapes, "ecs")
    with pytest.raises(ClientError) as error:
        ecs.describe_services(cluster="nope", services=[SERVICE])
    assert _code(error) == ("ClusterNotFoundException", "Cluster not found.")
    with pytest.raises(ClientError) as error:
        ecs.update_service(cluster=CLUSTER, service="nope", desiredCount=1)
    assert _code(error) == ("ServiceNotFoundException", "Service not found.")
    missing = ecs.describe_services(cluster=CLUSTER, services=["nope"])
    assert missing["failures"][0]["reason"] == "MISSING"
    with pytest.raises(ClientError) as error:
        ecs.create_service(cluster=CLUSTER, serviceName="x", taskDefinition="never-registered:1")
    assert error.value.response["Error"]["Code"] == "ClientException"
    with pytest.raises(ClientError) as error:
        ecs.describe_task_definition(taskDefinition="never-registered")
    assert error.value.response["Error"]["Code"] == "ClientException"
    # ECS is the control plane's alone: what it does not implement is refused, never moto's ECS.
    with pytest.raises(ClientError) as error:
        ecs.list_account_settings()
    assert error.value.response["Error"]["Code"] == "UnknownOperationException"
    arn = ecs.register_task_definition(
        family="tagged",
        containerDefinitions=[{"name": "app", "image": "x"}],
        tags=[{"key": "a", "value": "1"}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]


def test_consecutive_deployments_with_a_rollback_between(local: Local, shapes: ShapeChecker) -> None:
    ecs = client(local, shapes, "ecs")
    elbv2 = client(local, shapes, "elbv2")
    cloudformation = client(local, shapes, "cloudformation")
    task, service = local.render("task"), local.render("service")
    outputs = {
        output["OutputKey"]: output["OutputValue"]
        for output in cloudformation.describe_stacks(StackName="zenn-ecs-cdk-ecspresso")["Stacks"][0][
            "Outputs"
        ]
    }
    assert outputs["ClusterName"] == CLUSTER
    assert cloudformation.list_exports()["Exports"] == []
    revisions = [
        ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"] for _ in range(3)
    ]
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=revisions[0], **service)
    v1 = finished(ecs, newest(ecs))
    assert v1["status"] == "SUCCESSFUL"
    ecs.get_waiter("services_stable").wait(
        cluster=CLUSTER, services=[SERVICE], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )

    # v2 pauses after test traffic; the operator rolls it back.
    paused = copy.deepcopy(service["deploymentConfiguration"])
    paused["lifecycleHooks"].append(PAUSE)
    ecs.update_service(
        cluster=CLUSTER, service=SERVICE, taskDefinition=revisions[1], deploymentConfiguration=paused
    )
    v2_arn = until(lambda: (arn := newest(ecs)) != v1["serviceDeploymentArn"] and arn)

    def awaiting() -> str | None:
        found = ecs.describe_service_deployments(serviceDeploymentArns=[v2_arn])["serviceDeployments"][0]
        hooks = found.get("lifecycleHookDetails", [])  # none before the deployment starts
        return next((hook["hookId"] for hook in hooks if hook["status"] == "AWAITING_ACTION"), None)

    hook_id = until(awaiting, timeout=60)
    with pytest.raises(ClientError) as error:
        ecs.continue_service_deployment(serviceDeploymentArn=v2_arn, hookId="no-such-hook")
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
    ecs.continue_service_deployment(serviceDeploymentArn=v2_arn, hookId=hook_id, action="ROLLBACK")
    v2 = finished(ecs, v2_arn)
    assert v2["status"] == "ROLLBACK_SUCCESSFUL"
    assert v2["rollback"]["serviceRevisionArn"] == v1["targetServiceRevision"]["arn"]
    ecs.get_waiter("services_stable").wait(
        cluster=CLUSTER, services=[SERVICE], WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    described = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert (described["runningCount"], described["deployments"][0]["taskDefinition"]) == (2, revisions[0])
    running = ecs.describe_tasks(
        cluster=CLUSTER, tasks=ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
    )["tasks"]
    assert [(t["taskDefinitionArn"], t["lastStatus"]) for t in running] == [(revisions[0], "RUNNING")] * 2

    # v3 goes out from v1 (blue) to green and succeeds (the service keeps the last configuration it
    # was given, so the PAUSE is taken out again).
    ecs.update_service(
        cluster=CLUSTER,
        service=SERVICE,
        taskDefinition=revisions[2],
        deploymentConfiguration=service["deploymentConfiguration"],
    )
    v3_arn = until(lambda: (arn := newest(ecs)) != v2_arn and arn)
    v3 = finished(ecs, v3_arn)
    assert v3["status"] == "SUCCESSFUL"
    assert v3["sourceServiceRevisions"][0]["arn"] == v1["targetServiceRevision"]["arn"]
    rule = elbv2.describe_rules(RuleArns=[outputs["ProductionListenerRuleArn"]])["Rules"][0]
    weights = {
        group["TargetGroupArn"]: group["Weight"]
        for group in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
    }
    assert weights == {outputs["BlueTargetGroupArn"]: 0, outputs["GreenTargetGroupArn"]: 100}
    health = elbv2.describe_target_health(TargetGroupArn=outputs["GreenTargetGroupArn"])
    assert [target["TargetHealth"]["State"] for target in health["TargetHealthDescriptions"]] == [
        "healthy"
    ] * 2
    assert elbv2.describe_target_groups()["TargetGroups"]
    assert elbv2.describe_load_balancers()["LoadBalancers"]

    # Every deployment, newest first, a page at a time.
    first = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE, maxResults=2)
    rest = ecs.list_service_deployments(
        cluster=CLUSTER, service=SERVICE, maxResults=2, nextToken=first["nextToken"]
    )
    listed = [
        brief["serviceDeploymentArn"] for brief in first["serviceDeployments"] + rest["serviceDeployments"]
    ]
    assert listed == [v3_arn, v2_arn, v1["serviceDeploymentArn"]]
    assert "nextToken" not in rest
    described_all = ecs.describe_service_deployments(serviceDeploymentArns=listed)
    assert described_all["failures"] == []
    assert all(
        d["deploymentConfiguration"]["strategy"] == "BLUE_GREEN" for d in described_all["serviceDeployments"]
    )

    # RunTask runs the container's command override to its exit.
    run = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=revisions[2],
        startedBy="migration",
        overrides={
            "containerOverrides": [{"name": "app", "command": [sys.executable, "-c", "raise SystemExit(3)"]}]
        },
    )["tasks"][0]

    def stopped() -> dict[str, Any] | None:
        found: dict[str, Any] = ecs.describe_tasks(cluster=CLUSTER, tasks=[run["taskArn"]])["tasks"][0]
        return found if found["lastStatus"] == "STOPPED" else None

    assert until(stopped)["containers"][0]["exitCode"] == 3

    # Scaled to zero, the service can be deleted; its tasks stop.
    ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=0)
    until(
        lambda: ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["runningCount"] == 0
    )
    ecs.delete_service(cluster=CLUSTER, service=SERVICE)
    assert ecs.list_services(cluster=CLUSTER)["serviceArns"] == []
    assert (
        ecs.deregister_task_definition(taskDefinition=revisions[0])["taskDefinition"]["status"] == "INACTIVE"
    )
    assert shapes.problems == []
    assert {
        "DescribeServiceDeployments",
        "DescribeServices",
        "DescribeTasks",
        "DescribeRules",
    } <= shapes.checked
