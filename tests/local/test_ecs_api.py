"""The local ECS's API in-process, over a stub deployer (no tasks, no hooks, milliseconds a test): what
it refuses and with which code, that a refused request changes nothing, and that answers carry what
ECS always returns, parsed by botocore as a client parses them."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.parsers import JSONParser

from ecs_bg.deploy.model import ecs_model
from ecs_bg.hooks.ecs import DeploymentStatus
from ecs_bg.local.ecs.api import EcsApi
from ecs_bg.local.ecs.backend import LocalEcs
from ecs_bg.local.ecs.models import Account, Deployment, Service, Task

CLUSTER, SERVICE, FAMILY = "c1", "web", "web"
CONTAINER = {"name": "app", "image": "app:1", "portMappings": [{"containerPort": 8080}]}


@dataclass
class StubDeployer:
    """Records what the control plane asks for; runs nothing."""

    deployed: list[Deployment] = field(default_factory=list)
    stopped: list[tuple[str, str, str]] = field(default_factory=list)
    ran: list[Task] = field(default_factory=list)

    def deploy(self, deployment: Deployment) -> None:
        self.deployed.append(deployment)

    def scale(self, service: Service) -> None:
        pass

    async def run_task(self, task: Task, overrides: dict[str, Any]) -> None:
        self.ran.append(task)

    def stop_task(self, task: Task, reason: str, stop_code: str) -> None:
        self.stopped.append((task.arn, reason, stop_code))

    def decide(self, deployment: Deployment, step: Any) -> None:
        step()

    def health(self, task: Task) -> str:
        return "UNKNOWN"


@dataclass
class EndedEngine:
    """What a deployment's engine reports once it has ended."""

    status: DeploymentStatus
    status_reason: str | None = None
    rollback_reason: str | None = None
    stage: str | None = None

    def traffic(self) -> tuple[dict[str, float], dict[str, float]]:
        return {}, {}

    def lifecycle_hook_details(self) -> list[dict[str, Any]]:
        return []


class Ecs:
    def __init__(self, **options: Any) -> None:
        self.deployer = StubDeployer()
        self.now = 1_800_000_000.0
        self.backend = LocalEcs(
            Account("us-west-2"), self.deployer, ("default", CLUSTER), clock=lambda: self.now, **options
        )
        self.api = EcsApi(self.backend.operations())

    def raw(self, operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
        status, answer = asyncio.run(self.api.handle(operation, body))
        return status, json.loads(answer)

    def call(self, operation: str, **request: Any) -> dict[str, Any]:
        status, answer = self.raw(operation, json.dumps(request).encode())
        assert status == 200, answer
        # As a client reads it: botocore's own parser over the operation's output shape.
        model = ecs_model().operation_model(operation)
        raw = json.dumps(answer).encode()
        parsed: dict[str, Any] = JSONParser().parse(
            {"body": raw, "headers": {}, "status_code": 200}, model.output_shape
        )
        return parsed

    def refused(self, operation: str, request: Any) -> tuple[str, str]:
        body = request if isinstance(request, bytes) else json.dumps(request).encode()
        status, answer = self.raw(operation, body)
        assert status == 400, answer
        return answer["__type"], answer["message"]

    def register(self, family: str = FAMILY, **extra: Any) -> str:
        answer = self.call("RegisterTaskDefinition", family=family, containerDefinitions=[CONTAINER], **extra)
        return str(answer["taskDefinition"]["taskDefinitionArn"])

    def create(self, **extra: Any) -> dict[str, Any]:
        request = {"cluster": CLUSTER, "serviceName": SERVICE, "taskDefinition": self.register(), **extra}
        return self.call("CreateService", **request)["service"]

    def end(self, deployment: Deployment, status: DeploymentStatus, reason: str | None = None) -> None:
        deployment.engine = EndedEngine(status, reason, reason)  # type: ignore[assignment]
        deployment.finished_at = self.now
        if status == DeploymentStatus.SUCCESSFUL:
            deployment.service.primary = deployment.target

    def state(self) -> Any:
        """What a client sees: the service (DescribeServices, ListServiceDeployments), the tasks, the
        task definitions and the clusters."""
        return (
            self.call("DescribeServices", cluster=CLUSTER, services=[SERVICE]),
            self.call("ListServiceDeployments", cluster=CLUSTER, service=SERVICE),
            self.call("ListTasks", cluster=CLUSTER),
            self.call("ListTaskDefinitions"),
            self.call("ListClusters"),
        )


@pytest.fixture
def ecs() -> Ecs:
    return Ecs()


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'"a string"', bytes(range(256)), b"\xff\xfe{}"], ids=str
)
def test_a_body_that_is_not_a_json_object_is_a_serialization_exception(ecs: Ecs, body: bytes) -> None:
    code, _ = ecs.refused("DescribeClusters", body)
    assert code == "SerializationException"


@pytest.mark.parametrize(
    ("operation", "request_", "where"),
    [
        ("UpdateService", {"cluster": CLUSTER, "service": SERVICE, "desiredCount": "abc"}, "desiredCount"),
        ("UpdateService", {"service": SERVICE, "deploymentConfiguration": "x"}, "deploymentConfiguration"),
        ("CreateService", {"serviceName": "x", "tags": "x"}, "tags"),
        ("ListServices", {"cluster": CLUSTER, "maxResults": "abc"}, "maxResults"),
        ("CreateService", {"serviceName": "x", "healthCheckGracePeriodSeconds": "abc"}, "healthCheck"),
        ("RegisterTaskDefinition", {"family": "f", "containerDefinitions": "app"}, "containerDefinitions"),
        ("DescribeServiceDeployments", {"serviceDeploymentArns": "arn:aws:ecs:x"}, "serviceDeploymentArns"),
    ],
)
def test_a_member_of_the_wrong_type_is_refused_and_changes_nothing(
    ecs: Ecs, operation: str, request_: dict[str, Any], where: str
) -> None:
    ecs.create(desiredCount=2)
    before = ecs.state()
    code, message = ecs.refused(operation, request_)
    assert code == "SerializationException"
    assert "cannot be converted to" in message
    assert where in message
    assert ecs.state() == before


@pytest.mark.parametrize(
    ("operation", "request_", "code", "words"),
    [
        ("UpdateService", {"cluster": CLUSTER, "service": SERVICE, "desiredCount": -1}, "Invalid", "desired"),
        (
            "RunTask",
            {"cluster": CLUSTER, "taskDefinition": FAMILY, "count": 11},
            "Invalid",
            "between 1 and 10",
        ),
        (
            "RunTask",
            {"cluster": CLUSTER, "taskDefinition": FAMILY, "count": 0},
            "Invalid",
            "between 1 and 10",
        ),
        ("ListServices", {"cluster": CLUSTER, "maxResults": 101}, "Invalid", "maxResults"),
        (
            "UpdateService",
            {"cluster": CLUSTER, "service": SERVICE, "healthCheckGracePeriodSeconds": -5},
            "Invalid",
            "healthCheckGracePeriodSeconds",
        ),
        ("CreateService", {"cluster": CLUSTER}, "Invalid", "serviceName"),
        ("RegisterTaskDefinition", {"family": "f", "containerDefinitions": []}, "Client", "empty"),
        (
            "RegisterTaskDefinition",
            {"family": "f", "containerDefinitions": [{"name": "a", "image": "i", "command": ["x" * 70_000]}]},
            "Client",
            "64 KiB",
        ),
        (
            "RunTask",
            {
                "cluster": CLUSTER,
                "taskDefinition": FAMILY,
                "overrides": {"containerOverrides": [{"name": "db"}]},
            },
            "Invalid",
            "'db'",
        ),
        ("DescribeServices", {"cluster": CLUSTER, "services": []}, "Invalid", "1 to 10"),
    ],
)
def test_values_ecs_refuses_are_refused_before_anything_changes(
    ecs: Ecs, operation: str, request_: dict[str, Any], code: str, words: str
) -> None:
    ecs.create(desiredCount=2)
    before = ecs.state()
    refused, message = ecs.refused(operation, request_)
    assert refused == f"{code}ParameterException" if code == "Invalid" else refused == f"{code}Exception"
    assert words in message
    assert ecs.state() == before
    assert ecs.deployer.ran == []


def test_create_service_with_bad_tags_leaves_no_half_made_service(ecs: Ecs) -> None:
    arn = ecs.register()
    ecs.refused("CreateService", {"cluster": CLUSTER, "serviceName": "x", "taskDefinition": arn, "tags": [1]})
    answer = ecs.call("DescribeServices", cluster=CLUSTER, services=["x"])
    assert answer["services"] == []
    assert [failure["reason"] for failure in answer["failures"]] == ["MISSING"]


def test_an_operation_ecs_does_not_have_is_unknown(ecs: Ecs) -> None:
    assert ecs.refused("DescribeEverything", {})[0] == "UnknownOperationException"
    code, message = ecs.refused("CreateTaskSet", {})
    assert (code, message) == ("UnknownOperationException", "CreateTaskSet is not served by this local ECS")


def test_a_service_arn_carries_its_cluster(ecs: Ecs) -> None:
    service = ecs.create()
    arn = service["serviceArn"]
    assert arn.endswith(f":service/{CLUSTER}/{SERVICE}")
    # As AWS's sample hooks call it: the service's ARN, no cluster.
    listed = ecs.call("ListServiceDeployments", service=arn)["serviceDeployments"]
    assert [d["serviceArn"] for d in listed] == [arn]
    described = ecs.call("DescribeServices", services=[arn])["services"]
    assert [s["serviceName"] for s in described] == [SERVICE]
    ecs.call("UpdateService", service=arn, desiredCount=3)
    assert ecs.call("DescribeServices", services=[arn])["services"][0]["desiredCount"] == 3
    # A name alone still means the default cluster, which has no such service.
    assert ecs.refused("ListServiceDeployments", {"service": SERVICE})[0] == "ServiceNotFoundException"


def test_a_task_arn_carries_its_cluster(ecs: Ecs) -> None:
    ecs.register()
    (task,) = ecs.call("RunTask", cluster=CLUSTER, taskDefinition=FAMILY)["tasks"]
    described = ecs.call("DescribeTasks", tasks=[task["taskArn"]])
    assert [t["taskArn"] for t in described["tasks"]] == [task["taskArn"]]
    ecs.call("StopTask", task=task["taskArn"])
    assert ecs.deployer.stopped == [(task["taskArn"], "Task stopped by user", "UserInitiated")]


def test_a_task_definition_answer_carries_the_lists_ecs_always_returns(ecs: Ecs) -> None:
    """botocore's ECS examples-1.json (RegisterTaskDefinition, DescribeTaskDefinition) show them;
    fabfuel's ecs-deploy reads ``volumes`` without checking."""
    ecs.register()
    definition = ecs.call("DescribeTaskDefinition", taskDefinition=FAMILY)["taskDefinition"]
    for key in ("volumes", "placementConstraints", "requiresAttributes", "compatibilities"):
        assert isinstance(definition[key], list), key
    (container,) = definition["containerDefinitions"]
    assert container["essential"] is True
    for key in ("environment", "mountPoints", "portMappings", "volumesFrom"):
        assert isinstance(container[key], list), key
    assert container["portMappings"] == [{"containerPort": 8080}]


def test_deployment_ids_take_ecs_form(ecs: Ecs) -> None:
    service = ecs.create()
    (deployment,) = ecs.call("ListServiceDeployments", cluster=CLUSTER, service=SERVICE)["serviceDeployments"]
    identifier = deployment["serviceDeploymentArn"].rsplit("/", 1)[1]
    assert len(identifier) == 22
    assert identifier.replace("-", "").replace("_", "").isalnum()
    (task_set,) = service["deployments"]
    prefix, digits = task_set["id"].split("/")
    assert (prefix, len(digits), digits.isdigit()) == ("ecs-svc", 19, True)


def test_stopping_a_finished_deployment_is_a_conflict(ecs: Ecs) -> None:
    ecs.create()
    (deployment,) = ecs.deployer.deployed
    ecs.end(deployment, DeploymentStatus.SUCCESSFUL)
    code, message = ecs.refused("StopServiceDeployment", {"serviceDeploymentArn": deployment.arn})
    assert code == "ConflictException"
    assert "SUCCESSFUL" in message


def test_after_a_rollback_the_service_names_what_serves(ecs: Ecs) -> None:
    ecs.create()
    first = ecs.deployer.deployed[0]
    ecs.end(first, DeploymentStatus.SUCCESSFUL)
    v2 = ecs.register()
    ecs.call("UpdateService", cluster=CLUSTER, service=SERVICE, taskDefinition=v2)
    second = ecs.deployer.deployed[1]
    assert ecs.state()[0]["services"][0]["taskDefinition"] == v2  # while it deploys
    ecs.end(second, DeploymentStatus.ROLLBACK_SUCCESSFUL, "hook before_install failed")
    (service,) = ecs.state()[0]["services"]
    assert service["taskDefinition"] == first.target.task_definition
    # A forced deployment redeploys what serves, not the revision that was rolled back.
    ecs.call("UpdateService", cluster=CLUSTER, service=SERVICE, forceNewDeployment=True)
    assert ecs.deployer.deployed[2].target.task_definition == first.target.task_definition


@pytest.mark.parametrize("reading", ["listed", "gone"])
def test_a_rolled_back_update_is_listed_for_a_while_or_gone_as_the_reading_says(reading: str) -> None:
    ecs = Ecs(rolled_back_deployment=reading, speed=60.0)
    ecs.create()
    ecs.end(ecs.deployer.deployed[0], DeploymentStatus.SUCCESSFUL)
    ecs.call("UpdateService", cluster=CLUSTER, service=SERVICE, taskDefinition=ecs.register())
    ecs.end(ecs.deployer.deployed[1], DeploymentStatus.ROLLBACK_SUCCESSFUL, "alarm http-5xx")

    def listed() -> list[tuple[str, str]]:
        service = ecs.state()[0]["services"][0]
        return [(d["status"], d["rolloutState"]) for d in service["deployments"]]

    if reading == "listed":
        assert listed() == [("PRIMARY", "COMPLETED"), ("ACTIVE", "FAILED")]
        failed = ecs.state()[0]["services"][0]["deployments"][1]
        assert "alarm http-5xx" in failed["rolloutStateReason"]
        ecs.now += 5 * 60 / 60.0  # five minutes on a clock 60 times the real one
    assert listed() == [("PRIMARY", "COMPLETED")]


def test_a_deleted_service_is_draining_until_its_tasks_have_stopped_then_inactive(ecs: Ecs) -> None:
    """DeleteService (its documentation in botocore's ECS model, as in the API reference): DRAINING
    while tasks need cleanup, INACTIVE once they have stopped. The AWS SDK for JavaScript's
    waitUntilServicesInactive found a service deleted while its task was stopping DRAINING for good;
    botocore's ServicesInactive waiter waits for INACTIVE too."""
    ecs.create()
    service = ecs.backend.clusters[CLUSTER].services[SERVICE]
    task = Task.new(
        service.cluster,
        ecs.backend.task_definition(FAMILY),
        service=service,
        revision=None,
        started_by="",
        group=f"service:{SERVICE}",
    )
    task.last_status = "RUNNING"
    service.tasks.append(task)
    ecs.call("UpdateService", cluster=CLUSTER, service=SERVICE, desiredCount=0)

    def status() -> str:
        return str(ecs.call("DescribeServices", cluster=CLUSTER, services=[SERVICE])["services"][0]["status"])

    assert ecs.call("DeleteService", cluster=CLUSTER, service=SERVICE)["service"]["status"] == "DRAINING"
    assert ecs.deployer.stopped == [(task.arn, "Service deleted", "ServiceSchedulerInitiated")]
    assert ecs.call("ListServices", cluster=CLUSTER)["serviceArns"] == []
    assert status() == "DRAINING"
    # "If you attempt to create a new service with the same name as an existing service in either
    # ACTIVE or DRAINING status, you receive an error."
    assert (
        ecs.refused("CreateService", {"cluster": CLUSTER, "serviceName": SERVICE, "taskDefinition": FAMILY})[
            0
        ]
        == "InvalidParameterException"
    )

    task.last_status = "STOPPED"  # as the deployer stops it
    assert status() == "INACTIVE"
    assert (
        ecs.refused("UpdateService", {"cluster": CLUSTER, "service": SERVICE})[0]
        == "ServiceNotFoundException"
    )
    assert ecs.create()["status"] == "ACTIVE"  # the name is free again


def test_delete_task_definitions_takes_deregistered_revisions_and_keeps_their_numbers(ecs: Ecs) -> None:
    """As ecspresso's ``deregister --delete`` asks: deregister, then DeleteTaskDefinitions. Only an
    INACTIVE revision can go (API reference); it turns DELETE_IN_PROGRESS, is still described, and
    can run nothing; what cannot be deleted is a failure in the answer, not an error."""
    first, second = ecs.register(), ecs.register()
    ecs.call("DeregisterTaskDefinition", taskDefinition=first)
    answer = ecs.call("DeleteTaskDefinitions", taskDefinitions=[f"{FAMILY}:1", f"{FAMILY}:2", "web:9", "web"])
    (deleted,) = answer["taskDefinitions"]
    assert (deleted["taskDefinitionArn"], deleted["status"]) == (first, "DELETE_IN_PROGRESS")
    assert deleted["deleteRequestedAt"].timestamp() == ecs.now
    failed = {failure["arn"]: failure["reason"] for failure in answer["failures"]}
    assert set(failed) == {second, "web:9", "web"}
    assert "deregister it" in failed[second]
    assert ecs.call("DescribeTaskDefinition", taskDefinition=first)["taskDefinition"]["status"] == (
        "DELETE_IN_PROGRESS"
    )
    listed = ecs.call("ListTaskDefinitions", status="DELETE_IN_PROGRESS")["taskDefinitionArns"]
    assert listed == [first]
    assert ecs.refused("RunTask", {"cluster": CLUSTER, "taskDefinition": first})[0] == "ClientException"
    # Deregistered again (a script run twice): it stays DELETE_IN_PROGRESS, never INACTIVE again.
    again = ecs.call("DeregisterTaskDefinition", taskDefinition=first)["taskDefinition"]
    assert again["status"] == "DELETE_IN_PROGRESS"
    assert ecs.register().endswith(f"{FAMILY}:3")  # the family's numbering goes on

    def definitions() -> list[Any]:
        return [ecs.call("ListTaskDefinitions", status=status) for status in ("ACTIVE", "DELETE_IN_PROGRESS")]

    before = definitions()
    for wrong in ([], [f"{FAMILY}:2"] * 11):
        assert (
            ecs.refused("DeleteTaskDefinitions", {"taskDefinitions": wrong})[0] == "InvalidParameterException"
        )
    assert definitions() == before
