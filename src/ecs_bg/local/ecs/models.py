"""What the local ECS holds: clusters, services, task definitions, service revisions, service
deployments and tasks, each able to describe itself in the shape botocore's ECS model gives it.

Timestamps are epoch seconds, the JSON protocol's form. ARNs follow ECS's documented formats
(``service-revision/<cluster>/<service>/<id>``, ``service-deployment/<cluster>/<service>/<id>``).
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecs_bg.hooks.ecs import FINAL_DEPLOYMENT_STATUSES, DeploymentStatus, TaskStatus

if TYPE_CHECKING:
    from ecs_bg.lifecycle.engine import Engine
    from ecs_bg.local.cloudwatch.alarms import AlarmBoard
    from ecs_bg.local.lambda_.runner import Invocation

ACTIVE, DRAINING, INACTIVE = "ACTIVE", "DRAINING", "INACTIVE"  # a service's or task definition's status
DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"  # a task definition's, once DeleteTaskDefinitions took it
# What a service revision keeps of the request that made it (botocore: ServiceRevision's members).
REVISION_FIELDS = (
    "capacityProviderStrategy",
    "launchType",
    "platformVersion",
    "loadBalancers",
    "serviceRegistries",
    "networkConfiguration",
    "serviceConnectConfiguration",
    "volumeConfigurations",
)
_revision_ids = itertools.count(int(time.time() * 1000) * 1000)  # ECS's revision ids are long numbers


@dataclass(frozen=True)
class Account:
    region: str
    account: str = "123456789012"

    def arn(self, resource: str) -> str:
        return f"arn:aws:ecs:{self.region}:{self.account}:{resource}"


@dataclass
class TaskDefinition:
    arn: str
    family: str
    revision: int
    body: dict[str, Any]  # the RegisterTaskDefinition request, tags aside
    status: str = ACTIVE
    registered_at: float = field(default_factory=time.time)
    deregistered_at: float | None = None
    delete_requested_at: float | None = None

    def describe(self) -> dict[str, Any]:
        """As RegisterTaskDefinition and DescribeTaskDefinition answer it: ECS fills in the lists a
        definition may leave out, empty, and each container's (botocore's ECS examples-1.json, both
        operations' examples; the API reference's TaskDefinition); clients such as fabfuel's
        ecs-deploy read them without checking."""
        body = self.body
        described = {
            **body,
            "containerDefinitions": [_container(container) for container in body["containerDefinitions"]],
            "taskDefinitionArn": self.arn,
            "revision": self.revision,
            "status": self.status,
            "registeredAt": self.registered_at,
            "volumes": body.get("volumes", []),
            "placementConstraints": body.get("placementConstraints", []),
            "requiresCompatibilities": body.get("requiresCompatibilities", []),
            "compatibilities": ["EC2", "FARGATE"],
            "requiresAttributes": [],
        }
        if self.deregistered_at is not None:
            described["deregisteredAt"] = self.deregistered_at
        if self.delete_requested_at is not None:
            described["deleteRequestedAt"] = self.delete_requested_at
        return described


def _container(container: dict[str, Any]) -> dict[str, Any]:
    return {
        "environment": [],
        "mountPoints": [],
        "portMappings": [],
        "volumesFrom": [],
        "essential": True,
        "cpu": 0,
        **container,
    }


@dataclass
class ServiceRevision:
    arn: str
    service: Service
    task_definition: str
    settings: dict[str, Any]  # REVISION_FIELDS as the request set them
    target_group: str | None  # the group ECS registers this revision's tasks in
    production_rule: str | None  # the listener rules ECS moves (loadBalancers[].advancedConfiguration)
    test_rule: str | None = None
    created_at: float = field(default_factory=time.time)
    # Its deployment is stopping its tasks (blue at CLEAN_UP, green in a rollback): no task of it starts
    # any more, not even the scheduler's replacement of one that stopped meanwhile. After a rollback the
    # service runs "the last successfully deployed service revision" alone (ECS developer guide, "Amazon
    # ECS service revisions"). Every deployment has a revision of its own, so one scaled down never
    # deploys again.
    scaled_down: bool = False

    def describe(self) -> dict[str, Any]:
        resolved: dict[str, Any] = {}
        if self.target_group is not None:
            balancer: dict[str, Any] = {"targetGroupArn": self.target_group}
            if self.production_rule is not None:
                balancer["productionListenerRule"] = self.production_rule
            resolved = {"resolvedConfiguration": {"loadBalancers": [balancer]}}
        return {
            "serviceRevisionArn": self.arn,
            "serviceArn": self.service.arn,
            "clusterArn": self.service.cluster.arn,
            "taskDefinition": self.task_definition,
            **self.settings,
            "createdAt": self.created_at,
            **resolved,
        }


@dataclass
class ContainerState:
    """One container of a task as its runtime reports it, for DescribeTasks' ``containers[]`` (the
    Docker runtime's; the process runtime reports none and its one container is described from the
    task's own status)."""

    last_status: str = TaskStatus.PENDING
    exit_code: int | None = None
    reason: str | None = None
    health_status: str = "UNKNOWN"
    runtime_id: str | None = None  # the Docker container's id
    image: str | None = None  # as the task definition names it
    image_digest: str | None = None


@dataclass
class Task:
    arn: str
    service: Service | None  # None: a RunTask task
    revision: ServiceRevision | None
    task_definition: str
    started_by: str
    group: str
    containers: tuple[str, ...] = ("app",)  # its task definition's containers, by name
    container: str = "app"  # the one that serves (a service's loadBalancers[].containerName)
    overrides: dict[str, Any] = field(default_factory=dict)  # RunTask's
    url: str | None = None  # where its container serves HTTP
    last_status: str = "PROVISIONING"
    desired_status: str = TaskStatus.RUNNING
    exit_code: int | None = None
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    stopped_at: float | None = None
    stopped_reason: str | None = None
    stop_code: str | None = None
    container_states: dict[str, ContainerState] = field(default_factory=dict)  # by container name
    address: str | None = None  # its own IPv4 address (awsvpc), where the runtime gives it one

    @classmethod
    def new(
        cls,
        cluster: Cluster,
        definition: TaskDefinition,
        *,
        service: Service | None,
        revision: ServiceRevision | None,
        started_by: str,
        group: str,
        container: str | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> Task:
        names = tuple(str(c["name"]) for c in definition.body["containerDefinitions"])
        return cls(
            arn=cluster.account.arn(f"task/{cluster.name}/{secrets.token_hex(16)}"),
            service=service,
            revision=revision,
            task_definition=definition.arn,
            started_by=started_by,
            group=group,
            containers=names,
            container=container or names[0],
            overrides=overrides or {},
        )

    @property
    def family(self) -> str:
        return self.task_definition.rsplit("/", 1)[-1].split(":")[0]

    def in_health_check_grace(self, now: float, speed: float) -> bool:
        """Whether its service's ``healthCheckGracePeriodSeconds`` (on the local clock, ``speed`` times
        the real one) still covers this task at ``now`` (epoch seconds): "the period of time ... that
        the Amazon ECS service scheduler ignores unhealthy Elastic Load Balancing ... health checks
        after a task has first started"; 0 when not specified (CreateService, ECS API reference:
        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html)."""
        if self.service is None or self.started_at is None:
            return False
        grace = float(self.service.request.get("healthCheckGracePeriodSeconds") or 0)
        return (now - self.started_at) * speed < grace

    def describe(self, cluster_arn: str, health: str = "UNKNOWN") -> dict[str, Any]:
        """``health``: what the container health check finds (the load balancer's for a service task)."""
        running = self.last_status == TaskStatus.RUNNING
        containers = []
        attachment = str(uuid.uuid5(uuid.NAMESPACE_URL, self.arn))  # its network interface's, as a UUID
        interfaces = (
            [{"attachmentId": attachment, "privateIpv4Address": self.address}] if self.address else []
        )
        for name in self.containers:
            container: dict[str, Any] = {
                "containerArn": self.arn.replace(":task/", ":container/", 1) + f"/{name}",
                "taskArn": self.arn,
                "name": name,
                "lastStatus": self.last_status,
                "networkBindings": [],
                "networkInterfaces": interfaces,
            }
            state = self.container_states.get(name)
            if state is not None:
                container |= _described(state)
            else:
                if running and name == self.container:
                    container["healthStatus"] = health
                if name == self.container and self.exit_code is not None:
                    container["exitCode"] = self.exit_code
                if name == self.container and self.stopped_reason and self.stop_code == "TaskFailedToStart":
                    container["reason"] = self.stopped_reason
            containers.append(container)
        task: dict[str, Any] = {
            "taskArn": self.arn,
            "clusterArn": cluster_arn,
            "taskDefinitionArn": self.task_definition,
            "group": self.group,
            "lastStatus": self.last_status,
            "desiredStatus": self.desired_status,
            "healthStatus": health if running else "UNKNOWN",
            "launchType": "FARGATE",
            "createdAt": self.created_at,
            "containers": containers,
            "attachments": _attachments(attachment, self.address, self.last_status),
            "overrides": {
                "containerOverrides": self.overrides.get("containerOverrides", []),
                "inferenceAcceleratorOverrides": [],
            },
            "tags": [],
            "version": 1,
        }
        if self.started_by:
            task["startedBy"] = self.started_by
        if self.started_at is not None:
            task["startedAt"] = self.started_at
        if self.stopped_at is not None:
            task |= {"stoppedAt": self.stopped_at, "stopCode": self.stop_code or "EssentialContainerExited"}
            task["stoppedReason"] = self.stopped_reason or "Essential container in task exited"
        return task


def _described(state: ContainerState) -> dict[str, Any]:
    described: dict[str, Any] = {"lastStatus": state.last_status, "healthStatus": state.health_status}
    optional = {
        "exitCode": state.exit_code,
        "reason": state.reason,
        "runtimeId": state.runtime_id,
        "image": state.image,
        "imageDigest": state.image_digest,
    }
    return described | {key: value for key, value in optional.items() if value is not None}


def _attachments(attachment: str, address: str | None, status: str) -> list[dict[str, Any]]:
    """The task's elastic network interface, as an awsvpc task's DescribeTasks answer shows it (the
    Task data type's ``attachments``, ECS API reference), where the runtime gave the task an address."""
    if address is None:
        return []
    return [
        {
            "id": attachment,
            "type": "ElasticNetworkInterface",
            "status": "ATTACHED" if status == TaskStatus.RUNNING else "DELETED",
            "details": [{"name": "privateIPv4Address", "value": address}],
        }
    ]


@dataclass
class Deployment:
    """One service deployment; its ``engine`` exists from the moment it starts."""

    arn: str
    service: Service
    target: ServiceRevision
    sources: list[ServiceRevision]
    configuration: dict[str, Any]  # deploymentConfiguration as the request set it
    created_at: float = field(default_factory=time.time)
    engine: Engine | None = None
    started_at: float | None = None
    finished_at: float | None = None
    stopped_at: float | None = None
    updated_at: float = field(default_factory=time.time)
    to_epoch: Callable[[float], float] = float  # engine clock -> epoch seconds, set by the driver
    clock: Callable[[], float] = float  # the engine's clock (simulated seconds since its start)
    began: float | None = None  # when the engine's clock started (monotonic seconds)
    # What happened, for ``ecs-bg simulate``'s report: each hook invocation's run by invocation id,
    # the listener rules' weights by target group from the start on ({"at": engine seconds, ...}),
    # the alarms judged for it, and the weights and running tasks at its final status.
    invocations: dict[str, Invocation] = field(default_factory=dict)
    weight_changes: list[dict[str, Any]] = field(default_factory=list)
    alarm_board: AlarmBoard | None = None
    final_state: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> DeploymentStatus:
        return self.engine.status if self.engine is not None else DeploymentStatus.PENDING

    @property
    def final(self) -> bool:
        return self.status in FINAL_DEPLOYMENT_STATUSES

    @property
    def deployment_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def task_set_id(self) -> str:
        """Its id in DescribeServices ``deployments``: ``ecs-svc/`` and 19 digits, as ECS's are
        ("ecs-svc/9223370564342348388", botocore's ECS examples-1.json)."""
        return f"ecs-svc/{int(hashlib.sha256(self.arn.encode()).hexdigest(), 16) % 10**19:019d}"

    def brief(self) -> dict[str, Any]:
        brief: dict[str, Any] = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service.arn,
            "clusterArn": self.service.cluster.arn,
            "createdAt": self.created_at,
            "targetServiceRevisionArn": self.target.arn,
            "status": self.status,
        }
        if self.started_at is not None:
            brief["startedAt"] = self.started_at
        if self.finished_at is not None:
            brief["finishedAt"] = self.finished_at
        if self.engine is not None and self.engine.status_reason:
            brief["statusReason"] = self.engine.status_reason
        return brief

    def describe(self, counts: Callable[[ServiceRevision], tuple[int, int, int]]) -> dict[str, Any]:
        """``counts(revision)`` -> (requested, running, pending) task counts of that revision."""
        production, test = self.engine.traffic() if self.engine is not None else ({}, {})

        def revision(rev: ServiceRevision) -> dict[str, Any]:
            requested, running, pending = counts(rev)
            return {
                "arn": rev.arn,
                "requestedTaskCount": requested,
                "runningTaskCount": running,
                "pendingTaskCount": pending,
                "requestedProductionTrafficWeight": float(production.get(rev.arn, 0)),
                "requestedTestTrafficWeight": float(test.get(rev.arn, 0)),
            }

        described = self.brief()
        described.pop("targetServiceRevisionArn")
        described |= {
            "updatedAt": self.updated_at,
            "sourceServiceRevisions": [revision(source) for source in self.sources],
            "targetServiceRevision": revision(self.target),
            "deploymentConfiguration": self.configuration,
            "deploymentCircuitBreaker": {"status": "DISABLED", "failureCount": 0, "threshold": 0},
        }
        alarms = self.configuration.get("alarms")
        if alarms:
            described["alarms"] = {
                "status": "MONITORING" if not self.final else "MONITORING_COMPLETE",
                "alarmNames": list(alarms.get("alarmNames", [])),
                "triggeredAlarmNames": [],
            }
        if self.stopped_at is not None:
            described["stoppedAt"] = self.stopped_at
        engine = self.engine
        if engine is None:
            return described
        if engine.stage and not self.final:
            described["lifecycleStage"] = engine.stage
        described["lifecycleHookDetails"] = [
            {**hook, "expiresAt": self.to_epoch(hook["expiresAt"])}
            for hook in engine.lifecycle_hook_details()
        ]
        if engine.rollback_reason and self.sources:
            described["rollback"] = {
                "reason": engine.rollback_reason,
                "startedAt": self.updated_at,
                "serviceRevisionArn": self.sources[0].arn,
            }
        return described


@dataclass
class Service:
    name: str
    cluster: Cluster
    request: dict[str, Any]  # CreateService's request, updated by UpdateService
    deleted: bool = False  # DeleteService was called
    created_at: float = field(default_factory=time.time)
    revisions: list[ServiceRevision] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # newest first, as ECS lists them
    # Tasks the service scheduler replaced: revision ARN, target group, cause, exit code, when.
    replacements: list[dict[str, Any]] = field(default_factory=list)
    primary: ServiceRevision | None = None  # the revision serving production

    @property
    def arn(self) -> str:
        return self.cluster.account.arn(f"service/{self.cluster.name}/{self.name}")

    @property
    def status(self) -> str:
        """ACTIVE until DeleteService; then DRAINING while any of its tasks has not stopped, and
        INACTIVE once none runs: "if there are still running tasks that require cleanup, the service
        status moves from ACTIVE to DRAINING ... After all tasks have transitioned to either STOPPING
        or STOPPED status, the service status moves from DRAINING to INACTIVE" (DeleteService, in
        botocore's ECS model and the API reference). It is read, not set, so that a service deleted
        while its tasks were stopping does become INACTIVE: the ServicesInactive waiter waits for it,
        and a service of the same name can be created again."""
        if not self.deleted:
            return ACTIVE
        return DRAINING if self.live_tasks() else INACTIVE

    @property
    def desired_count(self) -> int:
        return int(self.request.get("desiredCount", 1))

    def new_revision(self, settings: dict[str, Any], task_definition: str) -> ServiceRevision:
        balancers = settings.get("loadBalancers") or []
        advanced = balancers[0].get("advancedConfiguration", {}) if balancers else {}
        arn = self.cluster.account.arn(
            f"service-revision/{self.cluster.name}/{self.name}/{next(_revision_ids)}"
        )
        revision = ServiceRevision(
            arn,
            self,
            task_definition,
            settings,
            None,
            advanced.get("productionListenerRule"),
            advanced.get("testListenerRule"),
        )
        self.revisions.append(revision)
        return revision

    def place(self, revision: ServiceRevision) -> None:
        """Choose the target group of a revision about to deploy: whichever group production is not
        using (the first deployment: ``targetGroupArn``); the roles swap when it succeeds."""
        balancers = revision.settings.get("loadBalancers") or []
        if not balancers:
            return
        main = balancers[0].get("targetGroupArn")
        alternate = balancers[0].get("advancedConfiguration", {}).get("alternateTargetGroupArn")
        serving = self.primary.target_group if self.primary is not None else None
        revision.target_group = alternate if serving == main and alternate else main

    def new_deployment(self, target: ServiceRevision, configuration: dict[str, Any]) -> Deployment:
        # ECS's ids are 21-22 URL-safe characters ("r9i43YFjvgF_xlg7m2eJ1r", the StopServiceDeployment
        # example in the AWS SDK for Kotlin's reference).
        arn = self.cluster.account.arn(
            f"service-deployment/{self.cluster.name}/{self.name}/{secrets.token_urlsafe(16)}"
        )
        sources = [self.primary] if self.primary is not None else []
        deployment = Deployment(arn, self, target, sources, configuration)
        self.deployments.append(deployment)
        return deployment

    def event(self, message: str) -> None:
        self.events.insert(0, {"id": secrets.token_hex(16), "createdAt": time.time(), "message": message})
        del self.events[100:]

    def live_tasks(self, revision: ServiceRevision | None = None) -> list[Task]:
        return [
            task
            for task in self.tasks
            if task.last_status != TaskStatus.STOPPED and (revision is None or task.revision is revision)
        ]


@dataclass
class Cluster:
    name: str
    account: Account
    services: dict[str, Service] = field(default_factory=dict)
    run_tasks: list[Task] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return self.account.arn(f"cluster/{self.name}")

    def task(self, reference: str) -> Task | None:
        """A task by its ARN or its id."""
        return next((t for t in self.all_tasks() if reference in (t.arn, t.arn.rsplit("/", 1)[-1])), None)

    def all_tasks(self) -> list[Task]:
        return [task for service in self.services.values() for task in service.tasks] + self.run_tasks
