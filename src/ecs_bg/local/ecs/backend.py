"""The local ECS control plane: ECS's operations over ``models``, with ECS's errors.

Each operation takes a request as ``api`` read and checked it against botocore's model (the JSON
protocol's members, of the model's types) and returns the answer as data that ``api`` writes from
the operation's output shape. Everything an operation refuses is refused before it changes
anything. Deployments are handed to a ``Deployer`` (``driver.Driver``), which runs the lifecycle and
starts and stops the tasks.

Where a request names a service or a task by ARN, the ARN's cluster is the cluster
(``arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE``): AWS's own sample hooks call
ListServiceDeployments with the service's ARN and no cluster.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from ecs_bg.hooks.ecs import DeploymentStatus, HookAction, RolloutState, StopType, TaskStatus, one_of
from ecs_bg.lifecycle.plan import (
    FIRST_DEPLOYMENT_STABLE,
    ROLLED_BACK_DEPLOYMENT,
    FirstDeploymentStable,
    RolledBackDeployment,
)
from ecs_bg.lifecycle.spec import deployment_spec
from ecs_bg.local.ecs.errors import (
    ClientException,
    ClusterNotFoundException,
    ConflictException,
    InvalidParameterException,
    ServiceDeploymentNotFoundException,
    ServiceNotActiveException,
    ServiceNotFoundException,
)
from ecs_bg.local.ecs.models import (
    ACTIVE,
    DELETE_IN_PROGRESS,
    INACTIVE,
    REVISION_FIELDS,
    Account,
    Cluster,
    Deployment,
    Service,
    ServiceRevision,
    Task,
    TaskDefinition,
)

MAX_RESULTS = 100  # ListServiceDeployments' and ListTaskDefinitions' maxResults ceiling (botocore docs)
# RunTask's count: "Valid Range: Minimum value of 1. Maximum value of 10" (RunTask, ECS API reference:
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html).
RUN_TASK_COUNT = (1, 10)
# "Task definition size: 64 KiB", not adjustable (Amazon ECS service quotas:
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html).
TASK_DEFINITION_BYTES = 64 * 1024
# "You can specify up to 10 task definitions" (DeleteTaskDefinitions' taskDefinitions, botocore's model).
DELETE_TASK_DEFINITIONS_MAX = 10
# healthCheckGracePeriodSeconds: "The valid range is 0-2,147,483,647" (CreateService, API reference).
GRACE_SECONDS = (0, 2_147_483_647)
ROLLED_BACK_LISTED_MINUTES = 5.0


class Deployer(Protocol):
    """What acts on the control plane's decisions: the driver (lifecycle, tasks, hooks)."""

    def deploy(self, deployment: Deployment) -> None: ...

    def scale(self, service: Service) -> None: ...

    async def run_task(self, task: Task, overrides: dict[str, Any]) -> None: ...

    def stop_task(self, task: Task, reason: str, stop_code: str) -> None: ...

    def decide(self, deployment: Deployment, step: Any) -> None: ...

    def health(self, task: Task) -> str: ...


class LocalEcs:
    def __init__(
        self,
        account: Account,
        deployer: Deployer,
        clusters: tuple[str, ...] = ("default",),
        first_deployment_stable: FirstDeploymentStable = "tasks-running",
        rolled_back_deployment: RolledBackDeployment = "listed",
        speed: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``speed``: the local clock's, for how long a rolled-back deployment stays listed;
        ``clock``: epoch seconds."""
        if first_deployment_stable not in FIRST_DEPLOYMENT_STABLE:
            raise ValueError(
                f"first_deployment_stable must be {' or '.join(FIRST_DEPLOYMENT_STABLE)}, "
                f"got {first_deployment_stable!r}"
            )
        if rolled_back_deployment not in ROLLED_BACK_DEPLOYMENT:
            raise ValueError(
                f"rolled_back_deployment must be {' or '.join(ROLLED_BACK_DEPLOYMENT)}, "
                f"got {rolled_back_deployment!r}"
            )
        self.account = account
        self.deployer = deployer
        self.first_deployment_stable = first_deployment_stable
        self.rolled_back_deployment = rolled_back_deployment
        self.speed = speed
        self.clock = clock
        self.clusters: dict[str, Cluster] = {name: Cluster(name, account) for name in clusters}
        self.task_definitions: dict[str, list[TaskDefinition]] = {}  # family -> revisions from 1
        self.tags: dict[str, dict[str, str]] = {}  # resource ARN -> key -> value

    # -- lookups -------------------------------------------------------------------------------------

    def cluster(self, reference: object = None, owner: str = "") -> Cluster:
        """The cluster a request names (its name or ARN; ``default`` when it names none), or the one
        the ARN ``owner`` (a service's or task's) carries."""
        name = str(reference or "").rsplit("/", 1)[-1] or _arn_cluster(owner) or "default"
        cluster = self.clusters.get(name)
        if cluster is None:
            raise ClusterNotFoundException()
        return cluster

    def service(self, request: dict[str, Any], key: str = "service", *, active: bool = True) -> Service:
        reference = str(request.get(key, ""))
        cluster = self.cluster(request.get("cluster"), reference)
        service = cluster.services.get(reference.rsplit("/", 1)[-1])
        if service is None or service.status == INACTIVE:
            raise ServiceNotFoundException()
        if active and service.status != ACTIVE:
            raise ServiceNotActiveException()
        return service

    def task_definition(self, reference: str) -> TaskDefinition:
        """``family``, ``family:revision`` or an ARN; a family alone is its latest ACTIVE revision."""
        name = reference.rsplit("/", 1)[-1]
        family, _, number = name.partition(":")
        revisions = self.task_definitions.get(family, [])
        if number.isdigit() and 0 < int(number) <= len(revisions):
            return revisions[int(number) - 1]
        active = [revision for revision in revisions if revision.status == ACTIVE]
        if not number and active:
            return active[-1]
        raise ClientException("Unable to describe task definition.")

    def deployment(self, arn: str) -> Deployment | None:
        for cluster in self.clusters.values():
            for service in cluster.services.values():
                for deployment in service.deployments:
                    if deployment.arn == arn:
                        return deployment
        return None

    def counts(self, revision: ServiceRevision) -> tuple[int, int, int]:
        """(requested, running, pending) tasks of one revision."""
        tasks = revision.service.live_tasks(revision)
        running = sum(task.last_status == TaskStatus.RUNNING for task in tasks)
        requested = sum(task.desired_status == TaskStatus.RUNNING for task in tasks)
        return requested, running, len(tasks) - running

    def _listed_counts(self, revision: ServiceRevision) -> tuple[int, int, int]:
        """``counts`` as DescribeServices lists them: a first deployment's RUNNING tasks are pending
        until it ends, under the "deployment-complete" reading (FirstDeploymentStable)."""
        requested, running, pending = self.counts(revision)
        if revision is self._unsettled(revision.service):
            return requested, 0, running + pending
        return requested, running, pending

    def _unsettled(self, service: Service) -> ServiceRevision | None:
        """The revision a first deployment still moving deploys, when its tasks are not yet counted."""
        current = service.deployments[-1] if service.deployments else None
        if self.first_deployment_stable != "deployment-complete" or current is None or current.final:
            return None
        return None if current.sources else current.target

    # -- clusters ------------------------------------------------------------------------------------

    async def create_cluster(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("clusterName") or "default"
        cluster = self.clusters.setdefault(name, Cluster(name, self.account))
        return {"cluster": self._describe_cluster(cluster)}

    async def describe_clusters(self, request: dict[str, Any]) -> dict[str, Any]:
        found, failures = [], []
        for name in request.get("clusters") or ["default"]:
            cluster = self.clusters.get(name.rsplit("/", 1)[-1])
            if cluster is None:
                failures.append({"arn": self.account.arn(f"cluster/{name}"), "reason": "MISSING"})
            else:
                found.append(self._describe_cluster(cluster))
        return {"clusters": found, "failures": failures}

    async def list_clusters(self, request: dict[str, Any]) -> dict[str, Any]:
        return _page([cluster.arn for cluster in self.clusters.values()], request, "clusterArns")

    def _describe_cluster(self, cluster: Cluster) -> dict[str, Any]:
        services = [s for s in cluster.services.values() if s.status == ACTIVE]
        tasks = [task for task in cluster.all_tasks() if task.last_status != TaskStatus.STOPPED]
        return {
            "clusterArn": cluster.arn,
            "clusterName": cluster.name,
            "status": ACTIVE,
            "activeServicesCount": len(services),
            "runningTasksCount": sum(task.last_status == TaskStatus.RUNNING for task in tasks),
            "pendingTasksCount": sum(task.last_status != TaskStatus.RUNNING for task in tasks),
            "registeredContainerInstancesCount": 0,
            "statistics": [],
            "tags": self._tags(cluster.arn),
            "settings": [],
            "capacityProviders": [],
            "defaultCapacityProviderStrategy": [],
        }

    # -- task definitions ----------------------------------------------------------------------------

    async def register_task_definition(self, request: dict[str, Any]) -> dict[str, Any]:
        family = request["family"]
        containers = request["containerDefinitions"]
        if not containers:
            raise ClientException("Container list cannot be empty.")
        for index, container in enumerate(containers):
            for key in ("name", "image"):
                if not container.get(key):
                    raise ClientException(f"containerDefinitions[{index}].{key} must be specified.")
        size = len(json.dumps(request).encode())
        if size > TASK_DEFINITION_BYTES:
            raise ClientException(
                f"The task definition is {size} bytes; a task definition can be at most "
                f"{TASK_DEFINITION_BYTES} bytes (64 KiB)."
            )
        revisions = self.task_definitions.setdefault(family, [])
        body = {key: value for key, value in request.items() if key != "tags"}
        arn = self.account.arn(f"task-definition/{family}:{len(revisions) + 1}")
        definition = TaskDefinition(arn, family, len(revisions) + 1, copy.deepcopy(body))
        revisions.append(definition)
        self._tag(arn, request.get("tags", []))
        return {"taskDefinition": definition.describe(), "tags": self._tags(arn)}

    async def describe_task_definition(self, request: dict[str, Any]) -> dict[str, Any]:
        definition = self.task_definition(str(request["taskDefinition"]))
        return {"taskDefinition": definition.describe(), "tags": self._tags(definition.arn)}

    async def list_task_definitions(self, request: dict[str, Any]) -> dict[str, Any]:
        status = request.get("status", ACTIVE)
        prefix = request.get("familyPrefix", "")
        arns = [
            definition.arn
            for family, revisions in sorted(self.task_definitions.items())
            if family.startswith(prefix)
            for definition in revisions
            if definition.status == status
        ]
        if request.get("sort") == "DESC":
            arns.reverse()
        return _page(arns, request, "taskDefinitionArns")

    async def deregister_task_definition(self, request: dict[str, Any]) -> dict[str, Any]:
        reference = str(request["taskDefinition"])
        if ":" not in reference.rsplit("/", 1)[-1]:
            raise InvalidParameterException("TaskDefinition must be a family:revision or a full ARN.")
        definition = self.task_definition(reference)
        # A revision DeleteTaskDefinitions took "will stay in DELETE_IN_PROGRESS status until all the
        # associated tasks and services have been terminated" (API reference, DeleteTaskDefinitions):
        # deregistering it again never makes it INACTIVE. UNCONFIRMED: whether ECS answers it, as
        # here, or refuses the call.
        if definition.status != DELETE_IN_PROGRESS:
            definition.status, definition.deregistered_at = INACTIVE, self.clock()
        return {"taskDefinition": definition.describe()}

    async def delete_task_definitions(self, request: dict[str, Any]) -> dict[str, Any]:
        """DeleteTaskDefinitions (API reference): at most 10 revisions, each deregistered (INACTIVE)
        first; it turns DELETE_IN_PROGRESS at once and stays so while tasks or services use it, then
        goes. Here it stays (nothing local outlives the run), its revision number kept taken as ECS
        keeps the family's numbering. Each revision that cannot be deleted is a failure, not an error
        (ecspresso's ``deregister --delete`` calls it once per revision or per 10, each deregistered
        first). UNCONFIRMED: the reference says an ACTIVE revision must be deregistered first, not
        whether ECS then answers a failure in ``failures`` (as here) or an exception."""
        references = [str(reference) for reference in request["taskDefinitions"]]
        if not 1 <= len(references) <= DELETE_TASK_DEFINITIONS_MAX:
            count = len(references)
            raise InvalidParameterException(
                f"taskDefinitions must name 1 to {DELETE_TASK_DEFINITIONS_MAX} revisions, got {count}."
            )
        deleted: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for reference in references:
            if ":" not in reference.rsplit("/", 1)[-1]:
                reason = "a revision is named family:revision or by its ARN"
                failures.append({"arn": reference, "reason": reason})
                continue
            try:
                definition = self.task_definition(reference)
            except ClientException:
                failures.append({"arn": reference, "reason": "the task definition revision does not exist"})
                continue
            if definition.status == ACTIVE:
                reason = "the revision is ACTIVE: deregister it (DeregisterTaskDefinition) before deleting it"
                failures.append({"arn": definition.arn, "reason": reason})
                continue
            if definition.status == INACTIVE:
                definition.status, definition.delete_requested_at = DELETE_IN_PROGRESS, self.clock()
            deleted.append(definition.describe())
        return {"taskDefinitions": deleted, "failures": failures}

    # -- services ------------------------------------------------------------------------------------

    async def create_service(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request.get("cluster"))
        name = request["serviceName"]
        existing = cluster.services.get(name)
        if existing is not None and existing.status != INACTIVE:
            raise InvalidParameterException("Creation of service was not idempotent.")
        definition = self._usable_definition(request.get("taskDefinition"))
        _check_service_values(request)
        check_deployment_configuration(request.get("deploymentConfiguration", {}))
        service = Service(name, cluster, copy.deepcopy(request), created_at=self.clock())
        cluster.services[name] = service
        self._tag(service.arn, request.get("tags", []))
        # CreateService is the service's first deployment (no source revision): ECS runs its hooks.
        self._deploy(service, definition.arn)
        return {"service": self.describe_service(service)}

    async def update_service(self, request: dict[str, Any]) -> dict[str, Any]:
        service = self.service(request)
        changed = {key for key in (*REVISION_FIELDS, "taskDefinition") if key in request}
        changed = {key for key in changed if request[key] != service.request.get(key)}
        definition = None
        if "taskDefinition" in request:
            definition = self._usable_definition(request["taskDefinition"])
            if definition.arn == self._serving_definition(service):
                changed.discard("taskDefinition")
        _check_service_values(request)
        if "deploymentConfiguration" in request:
            check_deployment_configuration(request["deploymentConfiguration"])
        # Everything is checked: from here on the update changes the service.
        for key, value in request.items():
            if key not in ("cluster", "service", "forceNewDeployment"):
                service.request[key] = copy.deepcopy(value)
        # ECS "creates a new service revision when you create a service, or update a service property
        # that starts a deployment" (developer guide, "Amazon ECS service revisions"): the properties
        # a ServiceRevision records (botocore's shape, REVISION_FIELDS) or a forced deployment.
        # desiredCount alone only scales. A forced deployment without a task definition deploys what
        # serves: after a rollback that is "the last successfully deployed service revision".
        if changed or request.get("forceNewDeployment"):
            arn = definition.arn if definition is not None else self._serving_definition(service)
            self._deploy(service, arn)
        elif "desiredCount" in request:
            self.deployer.scale(service)
        return {"service": self.describe_service(service)}

    async def delete_service(self, request: dict[str, Any]) -> dict[str, Any]:
        service = self.service(request, active=False)
        if service.desired_count > 0 and not request.get("force"):
            raise InvalidParameterException("The service cannot be stopped while it is scaled above 0.")
        service.deleted = True  # DRAINING while its tasks stop, then INACTIVE (Service.status)
        service.request["desiredCount"] = 0
        for task in service.live_tasks():
            self.deployer.stop_task(task, "Service deleted", "ServiceSchedulerInitiated")
        return {"service": self.describe_service(service)}

    async def describe_services(self, request: dict[str, Any]) -> dict[str, Any]:
        references = request["services"]
        if not 1 <= len(references) <= 10:
            # "You may specify up to 10 services to describe" (DescribeServices, API reference).
            raise InvalidParameterException("services must name 1 to 10 services.")
        found, failures = [], []
        for reference in references:
            cluster = self.cluster(request.get("cluster"), reference)
            service = cluster.services.get(reference.rsplit("/", 1)[-1])
            if service is None:
                arn = self.account.arn(f"service/{cluster.name}/{reference.rsplit('/', 1)[-1]}")
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(self.describe_service(service))
        return {"services": found, "failures": failures}

    async def list_services(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request.get("cluster"))
        arns = [service.arn for service in cluster.services.values() if service.status == ACTIVE]
        return _page(arns, request, "serviceArns")

    def describe_service(self, service: Service) -> dict[str, Any]:
        request = service.request
        listed = [self._listed_counts(revision) for revision in service.revisions]
        current = service.deployments[-1] if service.deployments else None
        described: dict[str, Any] = {
            **{key: request[key] for key in _SERVICE_SETTINGS if key in request},
            "serviceArn": service.arn,
            "serviceName": service.name,
            "clusterArn": service.cluster.arn,
            "status": service.status,
            "desiredCount": service.desired_count,
            "runningCount": sum(c[1] for c in listed),
            "pendingCount": sum(c[2] for c in listed),
            "launchType": request.get("launchType", "FARGATE"),
            "taskDefinition": self._serving_definition(service),
            "loadBalancers": request.get("loadBalancers", []),
            "serviceRegistries": request.get("serviceRegistries", []),
            "deploymentConfiguration": request.get("deploymentConfiguration", {}),
            "deploymentController": request.get("deploymentController", {"type": "ECS"}),
            "deployments": self._task_sets(service),
            "events": service.events,
            "createdAt": service.created_at,
            "placementConstraints": request.get("placementConstraints", []),
            "placementStrategy": request.get("placementStrategy", []),
            "schedulingStrategy": request.get("schedulingStrategy", "REPLICA"),
            "enableECSManagedTags": bool(request.get("enableECSManagedTags", False)),
            "enableExecuteCommand": bool(request.get("enableExecuteCommand", False)),
            "propagateTags": request.get("propagateTags", "NONE"),
            "tags": self._tags(service.arn),
        }
        if current is not None:
            described["currentServiceDeployment"] = current.arn
            described["currentServiceRevisions"] = [
                dict(
                    zip(
                        ("arn", "requestedTaskCount", "runningTaskCount", "pendingTaskCount"),
                        (revision.arn, *self._listed_counts(revision)),
                        strict=True,
                    )
                )
                for revision in service.revisions
                if service.live_tasks(revision) or revision is service.primary
            ]
        return described

    def _task_sets(self, service: Service) -> list[dict[str, Any]]:
        """``deployments``: the PRIMARY revision (the newest deployment's target while it runs, else
        what serves production) and an ACTIVE entry for each other revision that still has tasks.

        PRIMARY is "the most recent deployment of a service", ACTIVE "a deployment that still has tasks
        running but are being replaced with the PRIMARY deployment" (API reference, Deployment.status:
        docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html): so during an update
        blue is listed ACTIVE beside green, and a service whose first deployment was rolled back still
        lists it, PRIMARY and FAILED, with no task running. botocore's ServicesStable waiter
        (botocore/data/ecs/2014-11-13/waiters-2.json) succeeds on
        ``length(services[?!(length(deployments) == `1` && runningCount == desiredCount)]) == `0```:
        it waits while blue is ACTIVE, and never succeeds for a service with no task running. A
        rolled-back update is listed as ``rolled_back_deployment`` says (UNCONFIRMED)."""
        current = service.deployments[-1] if service.deployments else None
        moving = current is not None and not current.final
        primary = current.target if moving and current is not None else service.primary
        if primary is None and current is not None:  # no deployment ever succeeded: the newest is PRIMARY
            primary = current.target
        entries = []
        for revision in service.revisions:
            deployment = next(d for d in reversed(service.deployments) if d.target is revision)
            listed = revision is primary or service.live_tasks(revision) or self._still_listed(deployment)
            if not listed:
                continue
            _, running, pending = self._listed_counts(revision)
            if revision is primary:
                state = RolloutState.IN_PROGRESS if moving else RolloutState.COMPLETED
            else:
                state = RolloutState.COMPLETED
            if deployment.status in (DeploymentStatus.ROLLBACK_SUCCESSFUL, DeploymentStatus.ROLLBACK_FAILED):
                state = RolloutState.FAILED
            entry = {
                "id": deployment.task_set_id,
                "status": "PRIMARY" if revision is primary else ACTIVE,
                "taskDefinition": revision.task_definition,
                "desiredCount": service.desired_count if revision is primary else 0,
                "pendingCount": pending,
                "runningCount": running,
                "failedTasks": 0,
                "createdAt": deployment.created_at,
                "updatedAt": deployment.updated_at,
                "launchType": revision.settings.get("launchType", "FARGATE"),
                "rolloutState": state,
                "rolloutStateReason": _rollout_reason(state, deployment),
                "networkConfiguration": revision.settings.get("networkConfiguration"),
                "platformVersion": revision.settings.get("platformVersion"),
            }
            entries.append(entry)
        entries.sort(key=lambda entry: entry["status"] != "PRIMARY")
        return entries

    def _still_listed(self, deployment: Deployment) -> bool:
        """A rolled-back deployment's revision, under the "listed" reading, for a while after it ended."""
        if self.rolled_back_deployment != "listed" or deployment.finished_at is None:
            return False
        if deployment.status != DeploymentStatus.ROLLBACK_SUCCESSFUL:
            return False
        newer = deployment.service.deployments[-1] is not deployment
        elapsed = (self.clock() - deployment.finished_at) * self.speed
        return not newer and elapsed < ROLLED_BACK_LISTED_MINUTES * 60

    def _usable_definition(self, reference: object) -> TaskDefinition:
        if not reference:
            raise InvalidParameterException("TaskDefinition must be specified.")
        try:
            definition = self.task_definition(str(reference))
        except ClientException:
            raise ClientException("TaskDefinition not found.") from None
        if definition.status != ACTIVE:
            raise ClientException("TaskDefinition is inactive")
        return definition

    def _serving_definition(self, service: Service) -> str:
        """The task definition DescribeServices names: the newest deployment's while it runs or once
        it succeeded; after a rollback, the last successfully deployed revision's, as ECS "rolls back
        to the last service revision that successfully deployed" without a new revision (developer
        guide, "Amazon ECS service revisions")."""
        current = service.deployments[-1] if service.deployments else None
        if current is None:
            return self._usable_definition(service.request.get("taskDefinition")).arn
        rolled_back = current.final and current.status != DeploymentStatus.SUCCESSFUL
        if rolled_back and service.primary is not None:
            return service.primary.task_definition
        return current.target.task_definition

    def _deploy(self, service: Service, task_definition: str) -> None:
        settings = {
            key: copy.deepcopy(service.request[key]) for key in REVISION_FIELDS if key in service.request
        }
        settings.setdefault("launchType", "FARGATE")
        revision = service.new_revision(settings, task_definition)
        deployment = service.new_deployment(
            revision, copy.deepcopy(service.request.get("deploymentConfiguration", {}))
        )
        service.event(f"(service {service.name}) has begun a deployment ({deployment.deployment_id}).")
        self.deployer.deploy(deployment)

    # -- service deployments and revisions -----------------------------------------------------------

    async def list_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        service = self.service(request, active=False)
        newest_first = list(reversed(service.deployments))
        statuses = request.get("status")
        if statuses:
            newest_first = [d for d in newest_first if d.status in statuses]
        created = request.get("createdAt") or {}
        if "after" in created:
            newest_first = [d for d in newest_first if d.created_at >= float(created["after"])]
        if "before" in created:
            newest_first = [d for d in newest_first if d.created_at <= float(created["before"])]
        return _page([d.brief() for d in newest_first], request, "serviceDeployments", default=20)

    async def describe_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        found, failures = [], []
        for arn in request["serviceDeploymentArns"]:
            deployment = self.deployment(arn)
            if deployment is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(deployment.describe(self.counts))
        return {"serviceDeployments": found, "failures": failures}

    async def describe_service_revisions(self, request: dict[str, Any]) -> dict[str, Any]:
        revisions = {
            revision.arn: revision
            for cluster in self.clusters.values()
            for service in cluster.services.values()
            for revision in service.revisions
        }
        wanted = request["serviceRevisionArns"]
        return {
            "serviceRevisions": [revisions[arn].describe() for arn in wanted if arn in revisions],
            "failures": [{"arn": arn, "reason": "MISSING"} for arn in wanted if arn not in revisions],
        }

    def _deployment_named(self, request: dict[str, Any]) -> Deployment:
        deployment = self.deployment(str(request["serviceDeploymentArn"]))
        if deployment is None:
            raise ServiceDeploymentNotFoundException()
        return deployment

    async def continue_service_deployment(self, request: dict[str, Any]) -> dict[str, Any]:
        deployment = self._deployment_named(request)
        action = request.get("action", HookAction.CONTINUE)
        if action not in tuple(HookAction):
            raise InvalidParameterException(f"action must be {one_of(HookAction)}, not {action!r}")
        engine = deployment.engine
        if engine is None or deployment.final:
            raise InvalidParameterException(
                f"the service deployment is {deployment.status}: nothing awaits action"
            )
        try:
            self.deployer.decide(deployment, lambda: engine.continue_pause(str(request["hookId"]), action))
        except ValueError as error:
            raise InvalidParameterException(str(error)) from None
        return {"serviceDeploymentArn": deployment.arn}

    async def stop_service_deployment(self, request: dict[str, Any]) -> dict[str, Any]:
        deployment = self._deployment_named(request)
        stop_type = request.get("stopType", StopType.ROLLBACK)
        if stop_type not in tuple(StopType):
            raise InvalidParameterException(f"stopType must be {one_of(StopType)}, not {stop_type!r}")
        engine = deployment.engine
        if engine is None or deployment.final:
            # "Stops an ongoing service deployment" (StopServiceDeployment, API reference); one that
            # has ended is in a state that conflicts with the request (ConflictException, its model).
            raise ConflictException(
                f"The service deployment is {deployment.status}; only an ongoing service deployment "
                "can be stopped."
            )
        rollback = stop_type == StopType.ROLLBACK
        try:
            self.deployer.decide(deployment, lambda: engine.stop(rollback=rollback))
        except ValueError as error:
            raise ConflictException(str(error)) from None
        return {"serviceDeploymentArn": deployment.arn}

    # -- tasks ---------------------------------------------------------------------------------------

    async def list_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request.get("cluster"))
        tasks = cluster.all_tasks()
        if request.get("serviceName"):
            service = self.service({**request, "cluster": cluster.name}, "serviceName", active=False)
            tasks = list(service.tasks)
        desired = request.get("desiredStatus", TaskStatus.RUNNING)
        tasks = [task for task in tasks if task.desired_status == desired]
        if request.get("startedBy"):
            tasks = [task for task in tasks if task.started_by == request["startedBy"]]
        if request.get("family"):
            tasks = [task for task in tasks if task.family == request["family"]]
        return _page([task.arn for task in tasks], request, "taskArns")

    async def describe_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        wanted = request["tasks"]
        if not 1 <= len(wanted) <= 100:
            raise InvalidParameterException("tasks must name 1 to 100 tasks.")
        found, failures = [], []
        for reference in wanted:
            cluster = self.cluster(request.get("cluster"), reference)
            task = cluster.task(reference)
            if task is None:
                failures.append({"arn": reference, "reason": "MISSING"})
            else:
                found.append(task.describe(cluster.arn, self.deployer.health(task)))
        return {"tasks": found, "failures": failures}

    async def run_task(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request.get("cluster"))
        definition = self._usable_definition(request["taskDefinition"])
        count = request.get("count", 1)
        if not RUN_TASK_COUNT[0] <= count <= RUN_TASK_COUNT[1]:
            raise InvalidParameterException(
                f"count must be between {RUN_TASK_COUNT[0]} and {RUN_TASK_COUNT[1]}, got {count}"
            )
        overrides = request.get("overrides", {})
        names = {container["name"] for container in definition.body["containerDefinitions"]}
        for index, override in enumerate(overrides.get("containerOverrides", [])):
            if override.get("name") not in names:
                raise InvalidParameterException(
                    f"overrides.containerOverrides[{index}].name {override.get('name')!r} is none of the "
                    f"task definition's containers ({', '.join(sorted(names))})"
                )
        started = []
        for _ in range(count):
            task = Task.new(
                cluster,
                definition,
                service=None,
                revision=None,
                started_by=str(request.get("startedBy", "")),
                group=str(request.get("group") or f"family:{definition.family}"),
                overrides=overrides,
            )
            cluster.run_tasks.append(task)
            await self.deployer.run_task(task, overrides)
            started.append(task.describe(cluster.arn))
        return {"tasks": started, "failures": []}

    async def stop_task(self, request: dict[str, Any]) -> dict[str, Any]:
        reference = str(request["task"])
        cluster = self.cluster(request.get("cluster"), reference)
        task = cluster.task(reference)
        if task is None:
            raise InvalidParameterException("The referenced task was not found.")
        self.deployer.stop_task(task, str(request.get("reason") or "Task stopped by user"), "UserInitiated")
        return {"task": task.describe(cluster.arn)}

    # -- tags ----------------------------------------------------------------------------------------

    def _tag(self, arn: str, tags: list[dict[str, str]]) -> None:
        self.tags.setdefault(arn, {}).update({tag["key"]: tag.get("value", "") for tag in tags})

    def _tags(self, arn: str) -> list[dict[str, str]]:
        return [{"key": key, "value": value} for key, value in self.tags.get(arn, {}).items()]

    async def tag_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        self._tag(str(request["resourceArn"]), request["tags"])
        return {}

    async def untag_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        tags = self.tags.get(str(request["resourceArn"]), {})
        for key in request["tagKeys"]:
            tags.pop(key, None)
        return {}

    async def list_tags_for_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self._tags(str(request["resourceArn"]))}

    def operations(self) -> dict[str, Any]:
        """API operation name -> handler, for the endpoint."""
        return {name: getattr(self, _snake(name)) for name in OPERATIONS}


OPERATIONS = (
    "CreateCluster",
    "DescribeClusters",
    "ListClusters",
    "RegisterTaskDefinition",
    "DescribeTaskDefinition",
    "ListTaskDefinitions",
    "DeregisterTaskDefinition",
    "DeleteTaskDefinitions",
    "CreateService",
    "UpdateService",
    "DeleteService",
    "DescribeServices",
    "ListServices",
    "ListServiceDeployments",
    "DescribeServiceDeployments",
    "DescribeServiceRevisions",
    "ContinueServiceDeployment",
    "StopServiceDeployment",
    "ListTasks",
    "DescribeTasks",
    "RunTask",
    "StopTask",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
)
# What a service keeps of CreateService's and UpdateService's requests and DescribeServices shows.
_SERVICE_SETTINGS = (
    "networkConfiguration",
    "platformVersion",
    "healthCheckGracePeriodSeconds",
    "capacityProviderStrategy",
    "serviceConnectConfiguration",
    "volumeConfigurations",
    "availabilityZoneRebalancing",
)


def check_deployment_configuration(configuration: dict[str, Any]) -> None:
    """Refuse a lifecycle ECS would refuse: the engine's own checks, as InvalidParameterException."""
    try:
        deployment_spec(configuration, first_deployment=True)
    except ValueError as error:
        raise InvalidParameterException(f"deploymentConfiguration: {error}") from None


def _check_service_values(request: dict[str, Any]) -> None:
    """What CreateService and UpdateService refuse that botocore's model does not say."""
    count = request.get("desiredCount")
    if count is not None and count < 0:
        raise InvalidParameterException(f"desiredCount must be 0 or more, got {count}")
    grace = request.get("healthCheckGracePeriodSeconds")
    if grace is not None and not GRACE_SECONDS[0] <= grace <= GRACE_SECONDS[1]:
        raise InvalidParameterException(
            f"healthCheckGracePeriodSeconds must be {GRACE_SECONDS[0]} to {GRACE_SECONDS[1]}, got {grace}"
        )


def _arn_cluster(arn: str) -> str:
    """The cluster a service's or task's ARN carries: ``...:service/CLUSTER/NAME`` -> CLUSTER ("" for
    a name, or an ARN of the old format without the cluster)."""
    if not arn.startswith("arn:"):
        return ""
    parts = arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) == 3 else ""


def _rollout_reason(state: RolloutState, deployment: Deployment) -> str:
    if state == RolloutState.FAILED:
        reason = deployment.engine.status_reason if deployment.engine is not None else None
        return f"ECS deployment rolled back: {reason}" if reason else "ECS deployment rolled back."
    return {
        RolloutState.COMPLETED: "ECS deployment completed.",
        RolloutState.IN_PROGRESS: "ECS deployment in progress.",
    }[state]


def _page(items: list[Any], request: dict[str, Any], key: str, default: int = MAX_RESULTS) -> dict[str, Any]:
    """One page of ``items``: ``maxResults`` of them from ``nextToken`` (an opaque offset)."""
    size = request.get("maxResults", default)
    if not 1 <= size <= MAX_RESULTS:
        raise InvalidParameterException(f"maxResults must be between 1 and {MAX_RESULTS}, got {size}")
    token = str(request.get("nextToken") or "0")
    if not token.isdigit():
        raise InvalidParameterException("Invalid nextToken.")
    start = int(token)
    answer: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        answer["nextToken"] = str(start + size)
    return answer


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
