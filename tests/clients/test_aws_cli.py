"""The AWS CLI (v1: botocore's serializer and parsers, ``--output json``) drives ``ecs-bg local``
through a blue/green service's life: it registers task definitions, creates the service with the
repository's deployment configuration and a PAUSE gate, updates it, waits with ``services-stable``,
lists, describes, continues and stops its service deployments, and reads the load balancer's target
health. ECS's errors come back as the CLI reports them. (The test polls, and does what is not under
test, with boto3: an AWS CLI command costs a Python start, seconds on a busy machine.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.clients.service import PAUSE_AFTER_TEST_TRAFFIC, definitions, paused, write
from tests.sim.local_ecs_process import CLUSTER, SERVICE, Local, finished, local_ecs, newest

pytestmark = pytest.mark.slow


def aws(local: Local, command: str) -> Any:
    """One AWS CLI command, written as in a shell script (no argument holds a space); its JSON."""
    return local.aws(*command.split())


def refused(local: Local, command: str) -> str:
    """stderr of an AWS CLI command that ECS refused. AWS CLI v1 exits 255 on a service's error."""
    done = local.aws(*command.split(), check=False)
    assert done.returncode == 255, (done.returncode, done.stdout, done.stderr)
    return str(done.stderr)


def describe(local: Local, arn: str) -> dict[str, Any]:
    answer = aws(local, f"ecs describe-service-deployments --service-deployment-arns {arn}")
    assert answer["failures"] == [], answer
    (deployment,) = answer["serviceDeployments"]
    return deployment  # type: ignore[no-any-return]


def service(local: Local) -> dict[str, Any]:
    answer = aws(local, f"ecs describe-services --cluster {CLUSTER} --services {SERVICE}")
    assert answer["failures"] == [], answer
    return answer["services"][0]  # type: ignore[no-any-return]


def test_the_aws_cli_drives_a_blue_green_service(tmp_path: Path) -> None:
    with local_ecs() as local:
        ecs = local.client("ecs")
        task, create = definitions(local, SERVICE, [PAUSE_AFTER_TEST_TRAFFIC])
        register = f"ecs register-task-definition --cli-input-json file://{write(tmp_path, 't.json', task)}"
        v1 = aws(local, register)["taskDefinition"]["taskDefinitionArn"]
        v2, v3 = (ecs.register_task_definition(**task)["taskDefinition"]["taskDefinitionArn"] for _ in "23")
        # The lists ECS always returns, here where the definition leaves them out; the JSON
        # protocol's timestamps as sent (epoch seconds).
        described = aws(local, f"ecs describe-task-definition --task-definition {v1} --include TAGS")
        definition = described["taskDefinition"]
        assert (definition["volumes"], definition["placementConstraints"]) == ([], []), definition
        assert isinstance(definition["registeredAt"], float), definition
        assert described["tags"] == [], described

        # CreateService with v1 is the first deployment, and PAUSE hooks fire on it too.
        create["taskDefinition"] = v1
        creating = f"ecs create-service --cli-input-json file://{write(tmp_path, 'create.json', create)}"
        created = aws(local, creating)["service"]
        assert created["deploymentConfiguration"]["strategy"] == "BLUE_GREEN", created
        first = newest(ecs)
        hook = paused(ecs, first)
        paused_first = describe(local, first)
        assert paused_first["sourceServiceRevisions"] == [], paused_first
        assert paused_first["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT", paused_first
        (cli_hook,) = paused_first["lifecycleHookDetails"]
        assert cli_hook["hookId"] == hook["hookId"], cli_hook
        assert cli_hook["hookId"].startswith("ecs-pause-"), cli_hook
        assert (cli_hook["targetType"], cli_hook["status"]) == ("PAUSE", "AWAITING_ACTION"), cli_hook
        assert (cli_hook["timeoutAction"], type(cli_hook["expiresAt"])) == ("ROLLBACK", float), cli_hook
        # No --action: CONTINUE, ECS's default.
        gate = f"--service-deployment-arn {first} --hook-id {hook['hookId']}"
        answer = aws(local, f"ecs continue-service-deployment {gate}")
        assert answer == {"serviceDeploymentArn": first}
        assert finished(ecs, first)["status"] == "SUCCESSFUL"

        # v2, continued at the gate: SUCCESSFUL, and services-stable agrees.
        aws(local, f"ecs update-service --cluster {CLUSTER} --service {SERVICE} --task-definition {v2}")
        second = newest(ecs)
        hook = paused(ecs, second)
        gate = f"--service-deployment-arn {second} --hook-id {hook['hookId']}"
        aws(local, f"ecs continue-service-deployment {gate} --action CONTINUE")
        assert finished(ecs, second)["status"] == "SUCCESSFUL"
        waiting = f"ecs wait services-stable --cluster {CLUSTER} --services {SERVICE}"
        waited = local.aws(*waiting.split(), check=False)
        assert waited.returncode == 0, waited.stderr
        serving = service(local)
        assert serving["taskDefinition"] == v2, serving
        (primary,) = serving["deployments"]
        assert (primary["status"], primary["rolloutState"]) == ("PRIMARY", "COMPLETED"), primary
        assert (serving["runningCount"], serving["desiredCount"]) == (1, 1), serving

        # The load balancer: v2's one task is the healthy target of the group its revision is in.
        v2_revision = serving["currentServiceRevisions"][0]["arn"]
        revision = aws(local, f"ecs describe-service-revisions --service-revision-arns {v2_revision}")
        (balancer,) = revision["serviceRevisions"][0]["resolvedConfiguration"]["loadBalancers"]
        health = aws(local, f"elbv2 describe-target-health --target-group-arn {balancer['targetGroupArn']}")
        assert [t["TargetHealth"]["State"] for t in health["TargetHealthDescriptions"]] == ["healthy"], health

        # v3, stopped at the gate with ROLLBACK: back on v2, and no new revision made for it.
        ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=v3)
        third = newest(ecs)
        paused(ecs, third)
        stopping = f"ecs stop-service-deployment --service-deployment-arn {third} --stop-type ROLLBACK"
        assert aws(local, stopping) == {"serviceDeploymentArn": third}
        assert finished(ecs, third)["status"] == "ROLLBACK_SUCCESSFUL"
        rolled_back = describe(local, third)
        assert rolled_back["rollback"]["serviceRevisionArn"] == v2_revision, rolled_back
        assert [source["arn"] for source in rolled_back["sourceServiceRevisions"]] == [v2_revision]
        assert _service_definition(ecs) == v2

        # Newest first, every one; a service's ARN carries its cluster, so no --cluster is needed.
        listed = aws(local, f"ecs list-service-deployments --service {created['serviceArn']}")
        briefs = listed["serviceDeployments"]
        assert [d["serviceDeploymentArn"] for d in briefs] == [third, second, first]
        assert [d["status"] for d in briefs] == ["ROLLBACK_SUCCESSFUL", "SUCCESSFUL", "SUCCESSFUL"]

        # ECS's errors, as the CLI reports them.
        conflict = refused(local, stopping)
        assert "An error occurred (ConflictException) when calling the StopServiceDeployment" in conflict
        missing = f"ecs update-service --cluster {CLUSTER} --service nowhere --desired-count 2"
        assert "(ServiceNotFoundException)" in refused(local, missing)


def _service_definition(ecs: Any) -> str:
    """The task definition DescribeServices names (read with boto3)."""
    arn: str = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["taskDefinition"]
    return arn
