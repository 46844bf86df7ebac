"""The local ECS control plane: the API's semantics over ``models``, with ECS's error codes.

Each public method takes a request as botocore sends it (JSON protocol) and returns the answer's
body. Deployments are handed to a ``Runtime`` (``driver.Driver``), which runs the lifecycle and
starts and stops the tasks. Error codes are the ones botocore's ECS model declares for each
operation; the messages are ECS's own where they are known (``Service not found.``).
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any, Protocol

from ecs_bg.hooks.ecs import DeploymentStatus, HookAction, RolloutState, StopType, TaskStatus, one_of
from ecs_bg.lifecycle.plan import FIRST_DEPLOYMENT_STABLE, FirstDeploymentStable
from ecs_bg.lifecycle.spec import deployment_spec
from ecs_bg.local.ecs.models import (
    ACTIVE,
    DRAINING,
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
from ecs_bg.local.endpoint import AwsError

MAX_RESULTS = 100  # ListServiceDeployments' and ListTaskDefinitions' maxResults ceiling (botocore docs)


class Runtime(Protocol):
    """What acts on the control plane's decisions: the driver (lifecycle, tasks, hooks)."""

    def deploy(self, deployment: Deployment) -> None: ...

    def scale(self, service: Service) -> None: ...

    async def run_task(self, task: Task, overrides: dict[str, Any]) -> None: ...

    def stop_task(self, task: Task, reason: str) -> None: ...

    def decide(self, deployment: Deployment, step: Any) -> None: ...

    def health(self, task: Task) -> str: ...


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


class LocalEcs:
    def __init__(
        self,
        account: Account,
        runtime: Runtime,
        clusters: tuple[str, ...] = ("default",),
        first_deployment_stable: FirstDeploymentStable = "tasks-running",
    ) -> None:
        if first_deployment_stable not in FIRST_DEPLOYMENT_STABLE:
            raise ValueError(
                f"first_deployment_stable must be {' or '.join(FIRST_DEPLOYMENT_STABLE)}, "
                f"got {first_deployment_stable!r}"
            )
        self.account = account
        self.runtime = runtime
        self.first_deployment_stable = first_deployment_stable
        self.clusters: dict[str, Cluster] = {name: Cluster(name, account) for name in clusters}
        self.task_definitions: dict[str, list[TaskDefinition]] = {}  # family -> revisions from 1
        self.tags: dict[str, dict[str, str]] = {}  # resource ARN -> key -> value

    # -- lookups -------------------------------------------------------------------------------------

    def cluster(self, request: dict[str, Any]) -> Cluster:
        name = str(request.get("cluster") or "default").rsplit("/", 1)[-1]
        cluster = self.clusters.get(name)
        if cluster is None:
            raise AwsError("ClusterNotFoundException", "Cluster not found.")
        return cluster

    def service(self, cluster: Cluster, name: str, *, active: bool = True) -> Service:
        service = cluster.services.get(name.rsplit("/", 1)[-1])
        if service is None or service.status == INACTIVE:
            raise AwsError("ServiceNotFoundException", "Service not found.")
        if active and service.status != ACTIVE:
            raise AwsError("ServiceNotActiveException", "Service was not ACTIVE.")
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
        raise AwsError("ClientException", "Unable to describe task definition.")

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
        return {"clusterArns": [cluster.arn for cluster in self.clusters.values()]}

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
        }

    # -- task definitions ----------------------------------------------------------------------------

    async def register_task_definition(self, request: dict[str, Any]) -> dict[str, Any]:
        family = request.get("family")
        if not family:
            raise invalid("Family must be specified.")
        if not request.get("containerDefinitions"):
            raise invalid("Container definitions must be specified.")
        revisions = self.task_definitions.setdefault(family, [])
        body = {key: value for key, value in request.items() if key != "tags"}
        arn = self.account.arn(f"task-definition/{family}:{len(revisions) + 1}")
        definition = TaskDefinition(arn, family, len(revisions) + 1, copy.deepcopy(body))
        revisions.append(definition)
        self._tag(arn, request.get("tags", []))
        return {"taskDefinition": definition.describe(), "tags": self._tags(arn)}

    async def describe_task_definition(self, request: dict[str, Any]) -> dict[str, Any]:
        definition = self.task_definition(str(request.get("taskDefinition", "")))
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
        reference = str(request.get("taskDefinition", ""))
        if ":" not in reference.rsplit("/", 1)[-1]:
            raise invalid("TaskDefinition must be a family:revision or a full ARN.")
        definition = self.task_definition(reference)
        definition.status, definition.deregistered_at = INACTIVE, time.time()
        return {"taskDefinition": definition.describe()}

    # -- services ------------------------------------------------------------------------------------

    async def create_service(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request)
        name = request.get("serviceName")
        if not name:
            raise invalid("Service name must be specified.")
        existing = cluster.services.get(name)
        if existing is not None and existing.status != INACTIVE:
            raise invalid("Creation of service was not idempotent.")
        definition = self._usable_definition(request.get("taskDefinition"))
        service = Service(name, cluster, copy.deepcopy(request))
        check_deployment_configuration(request.get("deploymentConfiguration", {}))
        cluster.services[name] = service
        self._tag(service.arn, request.get("tags", []))
        # CreateService is the service's first deployment (no source revision): ECS runs its hooks.
        self._deploy(service, definition.arn)
        return {"service": self.describe_service(service)}

    async def update_service(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request)
        service = self.service(cluster, str(request.get("service", "")))
        changed = {key for key in (*REVISION_FIELDS, "taskDefinition") if key in request}
        changed = {key for key in changed if request[key] != service.request.get(key)}
        definition = None
        if "taskDefinition" in request:
            definition = self._usable_definition(request["taskDefinition"])
            if service.primary is not None and definition.arn == service.primary.task_definition:
                changed.discard("taskDefinition")
        if "deploymentConfiguration" in request:
            check_deployment_configuration(request["deploymentConfiguration"])
        for key, value in request.items():
            if key not in ("cluster", "service", "forceNewDeployment"):
                service.request[key] = copy.deepcopy(value)
        # ECS "creates a new service revision when you create a service, or update a service property
        # that starts a deployment" (developer guide, "Amazon ECS service revisions"): the properties
        # a ServiceRevision records (botocore's shape, REVISION_FIELDS) or a forced deployment.
        # desiredCount alone only scales.
        if changed or request.get("forceNewDeployment"):
            arn = definition.arn if definition is not None else self._current_definition(service)
            self._deploy(service, arn)
        elif "desiredCount" in request:
            self.runtime.scale(service)
        return {"service": self.describe_service(service)}

    async def delete_service(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request)
        service = self.service(cluster, str(request.get("service", "")), active=False)
        if service.desired_count > 0 and not request.get("force"):
            raise invalid("The service cannot be stopped while it is scaled above 0.")
        service.status = DRAINING
        service.request["desiredCount"] = 0
        for task in service.live_tasks():
            self.runtime.stop_task(task, "Service deleted")
        described = self.describe_service(service)
        if not service.live_tasks():
            service.status = INACTIVE
        return {"service": described}

    async def describe_services(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request)
        found, failures = [], []
        for name in request.get("services", []):
            service = cluster.services.get(name.rsplit("/", 1)[-1])
            if service is None:
                arn = self.account.arn(f"service/{cluster.name}/{name.rsplit('/', 1)[-1]}")
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(self.describe_service(service))
        return {"services": found, "failures": failures}

    async def list_services(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request)
        arns = [service.arn for service in cluster.services.values() if service.status == ACTIVE]
        return _page(arns, request, "serviceArns")

    def describe_service(self, service: Service) -> dict[str, Any]:
        request = service.request
        listed = [self._listed_counts(revision) for revision in service.revisions]
        running, pending = sum(c[1] for c in listed), sum(c[2] for c in listed)
        current = service.deployments[-1] if service.deployments else None
        described: dict[str, Any] = {
            "serviceArn": service.arn,
            "serviceName": service.name,
            "clusterArn": service.cluster.arn,
            "status": service.status,
            "desiredCount": service.desired_count,
            "runningCount": running,
            "pendingCount": pending,
            "launchType": request.get("launchType", "FARGATE"),
            "taskDefinition": self._current_definition(service),
            "loadBalancers": request.get("loadBalancers", []),
            "deploymentConfiguration": request.get("deploymentConfiguration", {}),
            "deploymentController": request.get("deploymentController", {"type": "ECS"}),
            "deployments": self._task_sets(service),
            "events": service.events,
            "createdAt": service.created_at,
            "schedulingStrategy": request.get("schedulingStrategy", "REPLICA"),
        }
        for key in (
            "networkConfiguration",
            "platformVersion",
            "healthCheckGracePeriodSeconds",
            "propagateTags",
        ):
            if key in request:
                described[key] = request[key]
        if "enableECSManagedTags" in request:
            described["enableECSManagedTags"] = request["enableECSManagedTags"]
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
        it waits while blue is ACTIVE, and never succeeds for a service with no task running."""
        current = service.deployments[-1] if service.deployments else None
        moving = current is not None and not current.final
        primary = current.target if moving and current is not None else service.primary
        if primary is None and current is not None:  # no deployment ever succeeded: the newest is PRIMARY
            primary = current.target
        entries = []
        for revision in service.revisions:
            tasks = service.live_tasks(revision)
            if revision is not primary and not tasks:
                continue
            _, running, pending = self._listed_counts(revision)
            deployment = next(d for d in reversed(service.deployments) if d.target is revision)
            if revision is primary:
                state = RolloutState.IN_PROGRESS if moving else RolloutState.COMPLETED
            else:
                state = RolloutState.COMPLETED
            if deployment.status in (DeploymentStatus.ROLLBACK_SUCCESSFUL, DeploymentStatus.ROLLBACK_FAILED):
                state = RolloutState.FAILED
            entry = {
                "id": "ecs-svc/" + deployment.arn.rsplit("/", 1)[-1],
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
                "rolloutStateReason": _rollout_reason(state),
            }
            if "networkConfiguration" in revision.settings:
                entry["networkConfiguration"] = revision.settings["networkConfiguration"]
            entries.append(entry)
        entries.sort(key=lambda entry: entry["status"] != "PRIMARY")
        return entries

    def _usable_definition(self, reference: object) -> TaskDefinition:
        if not reference:
            raise invalid("TaskDefinition must be specified.")
        try:
            definition = self.task_definition(str(reference))
        except AwsError:
            raise AwsError("ClientException", "TaskDefinition not found.") from None
        if definition.status != ACTIVE:
            raise AwsError("ClientException", "TaskDefinition is inactive")
        return definition

    def _current_definition(self, service: Service) -> str:
        if service.deployments:
            return service.deployments[-1].target.task_definition
        return self._usable_definition(service.request.get("taskDefinition")).arn

    def _deploy(self, service: Service, task_definition: str) -> None:
        settings = {
            key: copy.deepcopy(service.request[key]) for key in REVISION_FIELDS if key in service.request
        }
        settings.setdefault("launchType", "FARGATE")
        revision = service.new_revision(settings, task_definition)
        deployment = service.new_deployment(
            revision, copy.deepcopy(service.request.get("deploymentConfiguration", {}))
        )
        service.event(
            f"(service {service.name}) has begun a deployment ({deployment.arn.rsplit('/', 1)[-1]})."
        )
        self.runtime.deploy(deployment)

    # -- service deployments and revisions -----------------------------------------------------------

    async def list_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request)
        service = self.service(cluster, str(request.get("service", "")), active=False)
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
        for arn in request.get("serviceDeploymentArns", []):
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
        wanted = request.get("serviceRevisionArns", [])
        return {
            "serviceRevisions": [revisions[arn].describe() for arn in wanted if arn in revisions],
            "failures": [{"arn": arn, "reason": "MISSING"} for arn in wanted if arn not in revisions],
        }

    def _moving_deployment(self, request: dict[str, Any]) -> Deployment:
        deployment = self.deployment(str(request.get("serviceDeploymentArn", "")))
        if deployment is None:
            raise AwsError("ServiceDeploymentNotFoundException", "The service deployment does not exist.")
        if deployment.engine is None:
            raise invalid(f"the service deployment is {deployment.status}: it has not started")
        return deployment

    async def continue_service_deployment(self, request: dict[str, Any]) -> dict[str, Any]:
        deployment = self._moving_deployment(request)
        action = request.get("action", HookAction.CONTINUE)
        if action not in tuple(HookAction):
            raise invalid(f"action must be {one_of(HookAction)}, not {action!r}")
        engine = deployment.engine
        assert engine is not None
        try:
            self.runtime.decide(deployment, lambda: engine.continue_pause(str(request.get("hookId")), action))
        except ValueError as error:
            raise invalid(str(error)) from None
        return {"serviceDeploymentArn": deployment.arn}

    async def stop_service_deployment(self, request: dict[str, Any]) -> dict[str, Any]:
        deployment = self._moving_deployment(request)
        engine = deployment.engine
        assert engine is not None
        rollback = request.get("stopType", StopType.ROLLBACK) == StopType.ROLLBACK
        try:
            self.runtime.decide(deployment, lambda: engine.stop(rollback=rollback))
        except ValueError as error:
            raise invalid(str(error)) from None
        return {"serviceDeploymentArn": deployment.arn}

    # -- tasks ---------------------------------------------------------------------------------------

    async def list_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request)
        tasks = cluster.all_tasks()
        if request.get("serviceName"):
            service = self.service(cluster, str(request["serviceName"]), active=False)
            tasks = list(service.tasks)
        desired = request.get("desiredStatus", TaskStatus.RUNNING)
        tasks = [task for task in tasks if task.desired_status == desired]
        if request.get("startedBy"):
            tasks = [task for task in tasks if task.started_by == request["startedBy"]]
        if request.get("family"):
            family = request["family"]
            tasks = [
                task for task in tasks if task.task_definition.rsplit("/", 1)[-1].split(":")[0] == family
            ]
        return _page([task.arn for task in tasks], request, "taskArns")

    async def describe_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request)
        by_arn = {task.arn: task for task in cluster.all_tasks()}
        by_id = {arn.rsplit("/", 1)[-1]: task for arn, task in by_arn.items()}
        found, failures = [], []
        for wanted in request.get("tasks", []):
            task = by_arn.get(wanted) or by_id.get(wanted)
            if task is None:
                failures.append({"arn": wanted, "reason": "MISSING"})
            else:
                found.append(task.describe(cluster.arn, self.runtime.health(task)))
        return {"tasks": found, "failures": failures}

    async def run_task(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request)
        definition = self._usable_definition(request.get("taskDefinition"))
        overrides = request.get("overrides", {})
        containers = definition.body.get("containerDefinitions", [{}])
        started = []
        for _ in range(int(request.get("count", 1))):
            task = Task(
                arn=self.account.arn(f"task/{cluster.name}/{secrets.token_hex(16)}"),
                service=None,
                revision=None,
                task_definition=definition.arn,
                started_by=str(request.get("startedBy", "")),
                group=str(request.get("group") or f"family:{definition.family}"),
                container=str(containers[0].get("name", "app")),
            )
            cluster.run_tasks.append(task)
            await self.runtime.run_task(task, overrides)
            started.append(task.describe(cluster.arn))
        return {"tasks": started, "failures": []}

    async def stop_task(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster = self.cluster(request)
        wanted = str(request.get("task", ""))
        task = next(
            (t for t in cluster.all_tasks() if wanted in (t.arn, t.arn.rsplit("/", 1)[-1])),
            None,
        )
        if task is None:
            raise invalid("The referenced task was not found.")
        self.runtime.stop_task(task, str(request.get("reason") or "Task stopped by user"))
        return {"task": task.describe(cluster.arn)}

    # -- tags ----------------------------------------------------------------------------------------

    def _tag(self, arn: str, tags: list[dict[str, str]]) -> None:
        self.tags.setdefault(arn, {}).update({tag["key"]: tag.get("value", "") for tag in tags})

    def _tags(self, arn: str) -> list[dict[str, str]]:
        return [{"key": key, "value": value} for key, value in self.tags.get(arn, {}).items()]

    async def tag_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        self._tag(str(request.get("resourceArn", "")), request.get("tags", []))
        return {}

    async def untag_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        tags = self.tags.get(str(request.get("resourceArn", "")), {})
        for key in request.get("tagKeys", []):
            tags.pop(key, None)
        return {}

    async def list_tags_for_resource(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"tags": self._tags(str(request.get("resourceArn", "")))}

    def operations(self) -> dict[str, Any]:
        """API operation name -> handler, for the endpoint."""
        names = [
            "CreateCluster",
            "DescribeClusters",
            "ListClusters",
            "RegisterTaskDefinition",
            "DescribeTaskDefinition",
            "ListTaskDefinitions",
            "DeregisterTaskDefinition",
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
        ]
        return {name: getattr(self, _snake(name)) for name in names}


def check_deployment_configuration(configuration: dict[str, Any]) -> None:
    """Refuse a lifecycle ECS would refuse: the engine's own checks, as InvalidParameterException."""
    try:
        deployment_spec(configuration, first_deployment=True)
    except ValueError as error:
        raise invalid(f"deploymentConfiguration: {error}") from None


def _rollout_reason(state: RolloutState) -> str:
    return {
        RolloutState.COMPLETED: "ECS deployment completed.",
        RolloutState.IN_PROGRESS: "ECS deployment in progress.",
        RolloutState.FAILED: "ECS deployment rolled back.",
    }[state]


def _page(items: list[Any], request: dict[str, Any], key: str, default: int = MAX_RESULTS) -> dict[str, Any]:
    """One page of ``items``: ``maxResults`` of them from ``nextToken`` (an opaque offset)."""
    size = int(request.get("maxResults") or default)
    if not 1 <= size <= MAX_RESULTS:
        raise invalid(f"maxResults must be between 1 and {MAX_RESULTS}, got {size}")
    token = str(request.get("nextToken") or "0")
    if not token.isdigit():
        raise invalid("Invalid nextToken.")
    start = int(token)
    answer: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        answer["nextToken"] = str(start + size)
    return answer


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
