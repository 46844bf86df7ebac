"""Hooks written the way public samples write them (tests/fixtures/public_hooks: their own handler
names, module-level boto3 clients, their own hookDetails keys, no ecs_bg), run as their authors run
them: deployed by ``ecs-bg local`` through boto3, one at a time with ``ecs-bg invoke --deployment``
against that deployment, and in ``ecs-bg simulate``. simulation.yml's ``functions:`` adds them, the
alb_check's ``ALB_URL`` a ``cfn_output`` of the local stack: the production listener on this machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, copy_sample_simulation_yml
from tests.ecs_bg_process import ecs_bg, ecs_bg_here
from tests.sim.local_ecs_process import CLUSTER, SERVICE, Local, finished, local_ecs, newest, until

# One worker runs the module: its `deployed` fixture (a service deployed twice on `ecs-bg local`) is
# made once rather than once per worker (`make test`'s --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("public-hooks")]

HOOKS = ROOT / "tests" / "fixtures" / "public_hooks"
STACK = "zenn-ecs-cdk-ecspresso"
BUCKET = "deployment-approvals"
FUNCTION_ARN = "arn:aws:lambda:ap-northeast-1:123456789012:function:"
# Each hook: its function (folder, handler), where it runs, and its own hookDetails keys.
PUBLIC_HOOKS: dict[str, dict[str, Any]] = {
    "s3-approval": {
        "code": "s3_approval",
        "handler": "approval.lambda_handler",
        "stages": ["PRE_SCALE_UP"],
        "hookDetails": {"S3_BUCKET_NAME": BUCKET},
    },
    "revision-check": {
        "code": "revision_check",
        "handler": "index.handler",
        "stages": ["POST_SCALE_UP"],
        "hookDetails": {"expectedContainer": "app"},
    },
    "canary-shift": {
        "code": "canary_shift",
        "handler": "canary.canary_handler",
        "stages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"],
        "hookDetails": {"canaryMaxPercent": 50},
        "environment": {"CANARY_PERCENT": "25"},
    },
    "alb-check": {
        "code": "alb_check",
        "handler": "app.lambda_handler",
        "stages": ["POST_PRODUCTION_TRAFFIC_SHIFT"],
        "hookDetails": {"path": "/health"},
        # Rendered against the local world when it starts: the production listener's local URL.
        "environment": {"ALB_URL": f'{{{{ cfn_output "{STACK}" "ProductionUrl" }}}}'},
    },
}


def project(folder: Path, timeout_action: str = "ROLLBACK") -> Path:
    """The repository's ecspresso files in ``folder``, the public hooks added to simulation.yml's
    functions: and to the service definition (after the repository's four); returns the config."""
    for name in ("ecspresso.yml", "ecs-service-def.json", "ecs-task-def.json"):
        shutil.copy(ROOT / "ecspresso" / name, folder / name)
    sim = copy_sample_simulation_yml(folder)
    lines = ["functions:"]
    for name, hook in PUBLIC_HOOKS.items():
        lines += [f"  {name}:", f"    code: {os.path.relpath(HOOKS / hook['code'], folder)}"]
        lines += [f"    handler: {hook['handler']}", "    timeoutSeconds: 30"]
        if hook.get("environment"):
            lines.append("    environment:")
            lines += [f"      {key}: '{value}'" for key, value in hook["environment"].items()]
    with sim.open("a") as file:
        file.write("\n".join(lines) + "\n")
    service = folder / "ecs-service-def.json"
    document = json.loads(service.read_text())
    hooks = document["deploymentConfiguration"]["lifecycleHooks"]
    hooks += [public_hook(name, hooks[0]["roleArn"], timeout_action) for name in PUBLIC_HOOKS]
    service.write_text(json.dumps(document, indent=2))
    return folder / "ecspresso.yml"


def public_hook(name: str, role: str, timeout_action: str = "ROLLBACK") -> dict[str, Any]:
    hook = PUBLIC_HOOKS[name]
    return {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": FUNCTION_ARN + name,
        "roleArn": role,
        "lifecycleStages": hook["stages"],
        # A day: the approval waits for the test to approve, however slow the machine.
        "timeoutConfiguration": {
            "timeoutInMinutes": 1 if timeout_action == "CONTINUE" else 1440,
            "action": timeout_action,
        },
        "hookDetails": hook["hookDetails"],
    }


def logged(local: Local, function: str) -> list[str]:
    logs = local.client("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
    return [event["message"] for event in events]


@dataclass(frozen=True)
class Deployed:
    local: Local
    folder: Path
    arn: str  # the update's service deployment
    described: dict[str, Any]  # as DescribeServiceDeployments answered once it ended
    first: dict[str, Any]  # the service's creation, ended


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """A service created with the public hooks alone through boto3 against `ecs-bg local`, then
    updated: the approval waits until the S3 object for green's revision says approved."""
    folder = tmp_path_factory.mktemp("public")
    config = project(folder)
    with local_ecs("--config", str(config)) as local:
        ecs, s3 = local.client("ecs"), local.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
        service = local.render("service")
        role = service["deploymentConfiguration"]["lifecycleHooks"][0]["roleArn"]
        service["deploymentConfiguration"]["lifecycleHooks"] = [
            public_hook(name, role) for name in PUBLIC_HOOKS
        ]
        task = local.render("task")
        created = ecs.register_task_definition(**task)["taskDefinition"]
        ecs.create_service(
            cluster=CLUSTER, serviceName=SERVICE, taskDefinition=created["taskDefinitionArn"], **service
        )
        first = finished(ecs, newest(ecs), timeout=180)
        assert first["status"] == "SUCCESSFUL", first.get("statusReason")
        update = ecs.register_task_definition(**task)["taskDefinition"]
        ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=update["taskDefinitionArn"])
        arn = until(lambda: (a := newest(ecs)) != first["serviceDeploymentArn"] and a)

        def waiting() -> bool:
            return any("waiting for s3://" in line for line in logged(local, "s3-approval"))

        until(waiting, timeout=120)
        described = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]
        assert described["status"] == "IN_PROGRESS"  # held at PRE_SCALE_UP by the approval
        revision = described["targetServiceRevision"]["arn"].rsplit("/", 1)[-1]
        s3.put_object(Bucket=BUCKET, Key=f"approvals/{revision}", Body=b"approved\n")
        ended = finished(ecs, arn, timeout=240)
        yield Deployed(local, folder, arn, ended, first)


def test_local_deploys_with_hooks_written_as_public_samples(deployed: Deployed) -> None:
    local, described = deployed.local, deployed.described
    assert described["status"] == "SUCCESSFUL", described.get("statusReason")
    green = described["targetServiceRevision"]["arn"]
    approval = logged(local, "s3-approval")
    assert "first deployment of the service: approved" in approval
    assert f"decision for revision {green.rsplit('/', 1)[-1]}: approved" in approval
    # It read its deployment, revision and task definition back from the local ECS.
    revision = logged(local, "revision-check")
    assert f"target revision {green}" in revision, revision
    assert any(line.startswith("container app serves, image ") for line in revision), revision
    # It moved production itself, 25 points an invocation up to its own hookDetails' 50 %.
    ecs = local.client("ecs")
    (target,) = ecs.describe_service_revisions(serviceRevisionArns=[green])["serviceRevisions"]
    group = target["resolvedConfiguration"]["loadBalancers"][0]["targetGroupArn"]
    canary = [line for line in logged(local, "canary-shift") if line.startswith(f"green {group}: ")]
    assert [line.split(": ", 1)[1] for line in canary] == ["0% -> 25%", "25% -> 50%"], canary
    # ALB_URL was the production listener's local URL, from the local stack's outputs.
    stacks = local.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    production = next(o["OutputValue"] for o in stacks["Outputs"] if o["OutputKey"] == "ProductionUrl")
    assert production.startswith("http://127.0.0.1:")
    alb = logged(local, "alb-check")
    assert any(f"GET {production}/health: 200" in line for line in alb), alb


def invoke(deployed: Deployed, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    hook = PUBLIC_HOOKS[name]
    path = HOOKS / hook["code"] / (hook["handler"].split(".")[0] + ".py")
    return ecs_bg(
        "invoke",
        str(path),
        "--handler",
        hook["handler"],
        "--endpoint-url",
        deployed.local.url,
        "--hook-details",
        json.dumps(hook["hookDetails"]),
        *args,
        cwd=deployed.folder,
        env=deployed.local.env,
    )


def test_invoke_builds_the_event_from_the_real_deployment(deployed: Deployed) -> None:
    green = deployed.described["targetServiceRevision"]["arn"]
    (blue,) = [r["arn"] for r in deployed.described["sourceServiceRevisions"]]
    for where in (["--deployment", deployed.arn], ["--latest", "--cluster", CLUSTER, "--service", SERVICE]):
        done = invoke(deployed, "revision-check", *where, "--stage", "PRODUCTION_TRAFFIC_SHIFT")
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"target revision {green}" in done.stdout
        assert f"deployment {deployed.arn} is SUCCESSFUL" in done.stdout
    # The hook printed nothing of the event; s3-approval prints it whole, weights and all.
    done = invoke(
        deployed, "s3-approval", "--deployment", deployed.arn, "--stage", "PRODUCTION_TRAFFIC_SHIFT"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    start = done.stdout.index("\n{\n") + 1
    event = json.JSONDecoder().raw_decode(done.stdout[start:])[0]
    assert event["resourceArn"] == deployed.arn
    assert event["executionDetails"] == {
        "serviceArn": deployed.described["serviceArn"],
        "targetServiceRevisionArn": green,
        "testTrafficWeights": {},
        "productionTrafficWeights": {green: 100, blue: 0},
    }
    assert event["hookDetails"] == {"S3_BUCKET_NAME": BUCKET}
    # The service's first deployment has no blue: one weight.
    first = deployed.first
    done = invoke(
        deployed,
        "revision-check",
        "--deployment",
        first["serviceDeploymentArn"],
        "--stage",
        "TEST_TRAFFIC_SHIFT",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"target revision {first['targetServiceRevision']['arn']}" in done.stdout


def test_invoke_runs_the_approval_as_s3_decides(deployed: Deployed) -> None:
    s3 = deployed.local.client("s3")
    revision = deployed.described["targetServiceRevision"]["arn"].rsplit("/", 1)[-1]
    key = f"approvals/{revision}"
    args = ("--deployment", deployed.arn, "--stage", "PRE_SCALE_UP")
    try:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"rejected")
        assert invoke(deployed, "s3-approval", *args).returncode == 1
        s3.delete_object(Bucket=BUCKET, Key=key)
        waiting = invoke(deployed, "s3-approval", *args)
        assert waiting.returncode == 3, waiting.stdout  # IN_PROGRESS: ECS would ask again
        assert f"waiting for s3://{BUCKET}/{key}" in waiting.stdout
    finally:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"approved")
    assert invoke(deployed, "s3-approval", *args).returncode == 0


def test_invoke_runs_a_hook_that_shifts_traffic_itself(deployed: Deployed) -> None:
    ecs, elbv2 = deployed.local.client("ecs"), deployed.local.client("elbv2")
    green = deployed.described["targetServiceRevision"]["arn"]
    (revision,) = ecs.describe_service_revisions(serviceRevisionArns=[green])["serviceRevisions"]
    balancer = revision["resolvedConfiguration"]["loadBalancers"][0]
    rule, green_group = balancer["productionListenerRule"], balancer["targetGroupArn"]

    def weights() -> dict[str, int]:
        (found,) = elbv2.describe_rules(RuleArns=[rule])["Rules"]
        return {
            g["TargetGroupArn"]: g["Weight"] for g in found["Actions"][0]["ForwardConfig"]["TargetGroups"]
        }

    (blue_group,) = [group for group in weights() if group != green_group]
    original = elbv2.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"]
    back = [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": blue_group, "Weight": 100},
                    {"TargetGroupArn": green_group, "Weight": 0},
                ]
            },
        }
    ]
    elbv2.modify_rule(RuleArn=rule, Actions=back)
    args = (
        "--deployment",
        deployed.arn,
        "--stage",
        "PRE_PRODUCTION_TRAFFIC_SHIFT",
        "--env",
        "CANARY_PERCENT=25",
    )
    try:
        first = invoke(deployed, "canary-shift", *args)
        assert first.returncode == 3, first.stdout + first.stderr
        assert weights() == {blue_group: 75, green_group: 25}
        second = invoke(deployed, "canary-shift", *args)
        assert second.returncode == 0, second.stdout
        assert weights() == {blue_group: 50, green_group: 50}
    finally:
        elbv2.modify_rule(RuleArn=rule, Actions=original)


def test_invoke_runs_the_alb_check_at_the_url_it_is_given(deployed: Deployed) -> None:
    stacks = deployed.local.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    production = next(o["OutputValue"] for o in stacks["Outputs"] if o["OutputKey"] == "ProductionUrl")
    args = ("--deployment", deployed.arn, "--stage", "POST_PRODUCTION_TRAFFIC_SHIFT")
    done = invoke(deployed, "alb-check", *args, "--env", f"ALB_URL={production}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"GET {production}/health: 200" in done.stdout
    wrong = invoke(
        deployed,
        "alb-check",
        *args,
        "--env",
        f"ALB_URL={production}",
        "--hook-details",
        '{"path": "/nowhere"}',
    )
    assert wrong.returncode == 1, wrong.stdout


def test_invoke_refuses_a_deployment_it_cannot_find_in_one_line(deployed: Deployed) -> None:
    unknown = deployed.arn.rsplit("/", 1)[0] + "/NoSuchDeployment0000"
    for args, why in [
        (["--deployment", "not-an-arn"], "--deployment 'not-an-arn' is not a service-deployment ARN"),
        (["--deployment", unknown], f"service deployment {unknown}"),
        (["--latest", "--cluster", CLUSTER, "--service", "nothing"], "no service nothing in cluster"),
        (["--latest"], "--latest needs --cluster and --service"),
        (["--deployment", deployed.arn], "--deployment and --latest build the event at a --stage"),
    ]:
        stage = [] if "--stage" in why else ["--stage", "PRE_SCALE_UP"]
        done = invoke(deployed, "revision-check", *args, *stage)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stdout == ""
        (line,) = done.stderr.splitlines()
        assert line.startswith("error: "), (args, line)
        assert why in line, (args, line)


def test_simulate_runs_them_with_their_own_hook_details(tmp_path: Path) -> None:
    # The approval finds no object (nobody approves in a simulation): it waits, and its one-minute
    # timeout's CONTINUE lets the deployment go on, as on ECS.
    config = project(tmp_path, timeout_action="CONTINUE")
    report = tmp_path / "report.json"
    done = ecs_bg_here(
        "simulate",
        "--config",
        str(config),
        "--sim-config",
        str(tmp_path / "simulation.yml"),
        "--quiet",
        "--report",
        str(report),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(report.read_text())
    assert result["status"] == "SUCCESSFUL"
    by_hook: dict[str, list[dict[str, Any]]] = {}
    for invocation in result["hookInvocations"]:
        by_hook.setdefault(invocation["hook"], []).append(invocation)
    assert {i["hookStatus"] for i in by_hook["s3-approval"]} == {"IN_PROGRESS"}
    assert "waiting for s3://deployment-approvals/approvals/" in by_hook["s3-approval"][0]["output"]
    assert [i["hookStatus"] for i in by_hook["revision-check"]] == ["SUCCEEDED"]
    assert [i["hookStatus"] for i in by_hook["canary-shift"]] == ["IN_PROGRESS", "SUCCEEDED"]
    assert "0% -> 25%" in by_hook["canary-shift"][0]["output"]
    (alb,) = by_hook["alb-check"]
    assert alb["hookStatus"] == "SUCCEEDED", alb["output"]
    assert "GET http://127.0.0.1:" in alb["output"]
    assert "/health: 200" in alb["output"]


def test_invoke_renders_the_stacks_function_environment_through_cloudformation(
    deployed: Deployed, tmp_path: Path
) -> None:
    # The stack's hookFunctions context names the function; cdk synth resolves its cfn_output into the
    # template, invoke reads it from DescribeStacks (here the local endpoint's), as `ecs-bg render` does.
    code = tmp_path / "lambda"
    code.mkdir()
    shutil.copy(HOOKS / "alb_check" / "app.py", code / "app.py")
    cdk_json = tmp_path / "cdk.json"

    def run(output: str) -> subprocess.CompletedProcess[str]:
        environment = {"ALB_URL": f'{{{{ cfn_output "{STACK}" "{output}" }}}}'}
        functions = {"alb-check": {"handler": "app.lambda_handler", "environment": environment}}
        cdk_json.write_text(json.dumps({"context": {"hookCode": str(code), "hookFunctions": functions}}))
        return ecs_bg(
            *("invoke", "alb-check", "--cdk-json", str(cdk_json), "--endpoint-url", deployed.local.url),
            *("--deployment", deployed.arn, "--stage", "POST_PRODUCTION_TRAFFIC_SHIFT"),
            cwd=tmp_path,
            env=deployed.local.env,
        )

    stacks = deployed.local.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    production = next(o["OutputValue"] for o in stacks["Outputs"] if o["OutputKey"] == "ProductionUrl")
    done = run("ProductionUrl")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"GET {production}/health: 200" in done.stdout
    wrong = run("ProdUrl")
    assert wrong.returncode == 2, wrong.stdout + wrong.stderr
    assert wrong.stdout == ""
    (line,) = wrong.stderr.splitlines()
    where = f"error: {cdk_json}: context: hookFunctions.alb-check.environment.ALB_URL: "
    assert line.startswith(where), line
    assert f"stack {STACK} has no output ProdUrl" in line
