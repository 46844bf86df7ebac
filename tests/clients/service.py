"""The repository's service, as the real-client tests deploy it to ``ecs-bg local``: the task and
service definitions rendered from ecspresso/ (cfn_output answered by the local stack), one task, and
PAUSE hooks in place of the stack's Lambda hooks, so that a test decides when a deployment goes on
and no hook worker runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.sim.local_ecs_process import CLUSTER, Local, until

# A manual gate after test traffic is on green: a test continues it or rolls it back. Its timeout is
# the longest ECS takes (14 days): on the local clock (240 times the real one) an hour is 15 s.
PAUSE_AFTER_TEST_TRAFFIC = {
    "targetType": "PAUSE",
    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    "timeoutConfiguration": {"timeoutInMinutes": 20160, "action": "ROLLBACK"},
}
Request = dict[str, Any]


def definitions(local: Local, service: str, hooks: list[dict[str, Any]]) -> tuple[Request, Request]:
    """(RegisterTaskDefinition's request, CreateService's request) for ``service`` in the stack's
    cluster: ecspresso/'s files as rendered, with ``desiredCount`` 1 and ``hooks`` as the
    deployment's lifecycle hooks (strategy BLUE_GREEN, bake time, alarms and load balancers as the
    repository has them)."""
    task = local.render("task")
    create = local.render("service")
    configuration = create["deploymentConfiguration"]
    assert configuration["strategy"] == "BLUE_GREEN", configuration
    configuration["lifecycleHooks"] = hooks
    create.update(cluster=CLUSTER, serviceName=service, taskDefinition=task["family"], desiredCount=1)
    return task, create


def write(folder: Path, name: str, document: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(json.dumps(document))
    return path


def paused(ecs: Any, arn: str, timeout: float = 60) -> dict[str, Any]:
    """The PAUSE hook the service deployment ``arn`` waits on, once it does (read with boto3: a
    test polls with it, the client under test acts)."""

    def awaiting() -> dict[str, Any] | None:
        (deployment,) = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
        hooks = deployment.get("lifecycleHookDetails", [])
        return next((hook for hook in hooks if hook["status"] == "AWAITING_ACTION"), None)

    hook: dict[str, Any] = until(awaiting, timeout=timeout)
    return hook
