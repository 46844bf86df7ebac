"""docs/hooks.md's "Adding a hook", end to end: a fifth entry file, min_tasks_hook.py, with its own
hookDetails key, goes through synth (its function, role and output), lint (its own key accepted, a
misspelling refused), invoke and simulate, in a copy of the repository's CDK and ecspresso files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LAMBDA_DIR, ROOT
from tests.ecs_bg_process import ecs_bg
from tests.infra.conftest import CDK_GROUP, Synthesized, synthesize

# One worker runs the module, the one that runs tests/infra (CDK_GROUP): its project and synthesis
# fixtures are made once, not once per worker, in the jsii kernel those tests have warmed.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(CDK_GROUP)]

# The entry file as docs/hooks.md writes it.
MIN_TASKS_HOOK = """\
from ecs_bg.hooks import CheckFailed, HookContext, LifecycleHook, Stage

hook = LifecycleHook("min-tasks", custom_keys=["minTasks"])


@hook.stage(Stage.POST_SCALE_UP)
def enough_tasks(ctx: HookContext) -> None:
    wanted = ctx.details.get("minTasks", 1)
    ctx.logger.info("minimum tasks", extra={"minTasks": wanted})
    if not isinstance(wanted, int) or wanted < 1:
        raise CheckFailed("minTasks", f"must be a whole number of at least 1, got {wanted!r}")


handler = hook.handler
"""
STACK = "{{ cfn_output (env `ECS_BG_STACK_NAME` `zenn-ecs-cdk-ecspresso`) `%s` }}"
HOOK_ENTRY = {
    "targetType": "AWS_LAMBDA",
    "hookTargetArn": STACK % "MinTasksHookArn",
    "roleArn": STACK % "EcsBlueGreenDeployRoleArn",
    "lifecycleStages": ["POST_SCALE_UP"],
    "timeoutConfiguration": {"timeoutInMinutes": 30, "action": "ROLLBACK"},
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's CDK settings, hook entry files and ecspresso files, with the fifth
    hook added the way the docs say."""
    root = tmp_path_factory.mktemp("project")
    code = root / "infrastructure" / "lib" / "constructs" / "lambda"
    code.mkdir(parents=True)
    for path in LAMBDA_DIR.glob("*_hook.py"):
        shutil.copy(path, code / path.name)
    (code / "min_tasks_hook.py").write_text(MIN_TASKS_HOOK)  # step 1: the entry file
    cdk_json = json.loads((ROOT / "infrastructure" / "cdk.json").read_text())
    cdk_json["context"]["hookDetails"]["min-tasks"] = {"minTasks": 2}  # step 2: its settings
    (root / "infrastructure" / "cdk.json").write_text(json.dumps(cdk_json, indent=2))
    shutil.copytree(ROOT / "ecspresso", root / "ecspresso")
    shutil.copytree(ROOT / "app", root / "app")  # the service, where simulation.yml's command runs it
    service = root / "ecspresso" / "ecs-service-def.json"
    document = json.loads(service.read_text())
    document["deploymentConfiguration"]["lifecycleHooks"].insert(2, HOOK_ENTRY)  # step 3: the hook
    service.write_text(json.dumps(document, indent=2))
    # The local world is built from what the app synthesizes (simulation.yml's cdkApp: its cdk.out),
    # not from the sample's committed template, which has no fifth hook.
    sim = root / "ecspresso" / "simulation.yml"
    sim.write_text(
        "".join(line for line in sim.read_text().splitlines(True) if not line.startswith("template:"))
    )
    return root


@pytest.fixture(scope="module")
def app(project: Path) -> Synthesized:
    """step 4: `cdk synth`, into the app's cdk.out."""
    context = json.loads((project / "infrastructure" / "cdk.json").read_text())["context"]
    code = project / "infrastructure" / "lib" / "constructs" / "lambda"
    return synthesize(project / "infrastructure" / "cdk.out", {**context, "hookCode": str(code)})


def test_synth_gives_the_fifth_hook_its_function_role_and_output(app: Synthesized) -> None:
    function = app.resource(app.logical_id("Hooks/min_tasks_hook/Resource"))["Properties"]
    assert function["FunctionName"] == "ecs-bg-min-tasks-dev"
    assert json.loads(function["Environment"]["Variables"]["ECS_BG_HOOK_DETAILS"]) == {"minTasks": 2}
    assert function["Role"]["Fn::GetAtt"][0] == app.logical_id("Hooks/min_tasks_hookRole/Resource")
    assert "MinTasksHookArn" in app.outputs()


def lint(project: Path, hook_details: dict[str, Any]) -> dict[str, Any]:
    service = project / "ecspresso" / "ecs-service-def.json"
    original = service.read_text()
    document = json.loads(original)
    document["deploymentConfiguration"]["lifecycleHooks"][2]["hookDetails"] = hook_details
    service.write_text(json.dumps(document))
    outputs = json.loads((ROOT / "tests" / "fixtures" / "cdk-outputs.json").read_text())
    (stack,) = outputs.values()
    stack["MinTasksHookArn"] = "arn:aws:lambda:ap-northeast-1:123456789012:function:ecs-bg-min-tasks-dev"
    (project / "outputs.json").write_text(json.dumps(outputs))
    try:
        done = ecs_bg(
            "lint",
            "--config",
            str(project / "ecspresso" / "ecspresso.yml"),
            "--outputs-file",
            str(project / "outputs.json"),
            "--cdk-json",
            str(project / "infrastructure" / "cdk.json"),
            "--format",
            "json",
            cwd=project,
        )
    finally:
        service.write_text(original)
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_lint_accepts_the_hooks_own_key_and_refuses_a_misspelling(project: Path) -> None:
    own = lint(project, {"minTasks": 2})
    assert not [f for f in own["findings"] if f["rule"] == "ECS025"], own
    misspelt = lint(project, {"minTask": 2})
    (finding,) = [f for f in misspelt["findings"] if f["rule"] == "ECS025"]
    assert finding["path"].endswith("lifecycleHooks[2].hookDetails.minTask")


def test_invoke_runs_the_fifth_hook_with_the_stacks_settings(project: Path) -> None:
    done = ecs_bg(
        "invoke",
        "min_tasks",
        "--stage",
        "POST_SCALE_UP",
        "--cdk-json",
        str(project / "infrastructure" / "cdk.json"),
        cwd=project,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"minTasks": 2' in done.stdout  # ECS_BG_HOOK_DETAILS from the stack's context
    assert done.stdout.splitlines()[0].startswith("/aws/lambda/ecs-bg-min-tasks-dev ")


@pytest.mark.usefixtures("app")
def test_simulate_deploys_with_five_hooks(project: Path) -> None:
    report = project / "report.json"
    done = ecs_bg(
        "simulate",
        "--config",
        str(project / "ecspresso" / "ecspresso.yml"),
        "--sim-config",
        str(project / "ecspresso" / "simulation.yml"),
        "--cdk-json",
        str(project / "infrastructure" / "cdk.json"),
        "--quiet",
        "--report",
        str(report),
        cwd=project,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(report.read_text())
    assert result["status"] == "SUCCESSFUL"
    (min_tasks,) = [i for i in result["hookInvocations"] if i["hook"] == "min_tasks"]
    assert (min_tasks["stage"], min_tasks["hookStatus"]) == ("POST_SCALE_UP", "SUCCEEDED")
    assert '"minTasks":2' in min_tasks["output"]
    assert min_tasks["logGroup"] == "/aws/lambda/ecs-bg-min-tasks-dev"


# Under `ecs-bg local`, the fifth hook's function is the synthesized stack's (its code the cdk.out
# asset, staged with ecs_bg.hooks as the CDK app stages it), and simulation.yml beside the ecspresso
# config gives a function the stack lacks: a hook written in AWS's sample style
# (tests/fixtures/sample_hooks). Each is named by the service definition's hookTargetArn.
LOCAL_FUNCTIONS = """\
functions:
  sample-green-check:
    code: sample_hooks
    handler: app.lambda_handler
    environment: {MIN_GREEN_WEIGHT: "100"}
"""
ACCOUNT_FUNCTION = "arn:aws:lambda:ap-northeast-1:123456789012:function:"


@pytest.mark.usefixtures("app")
def test_local_runs_the_fifth_hook_and_a_function_the_stack_lacks(project: Path) -> None:
    from tests.sim.local_ecs_process import CLUSTER, SERVICE, finished, local_ecs, newest

    ecspresso = project / "ecspresso"
    shutil.copytree(ROOT / "tests" / "fixtures" / "sample_hooks", ecspresso / "sample_hooks")
    (ecspresso / "simulation.yml").write_text((ecspresso / "simulation.yml").read_text() + LOCAL_FUNCTIONS)
    with local_ecs("--config", str(ecspresso / "ecspresso.yml")) as local:
        ecs, logs = local.client("ecs"), local.client("logs")
        service = local.render("service")  # the repository's four hooks, ARNs from CloudFormation
        hooks = service["deploymentConfiguration"]["lifecycleHooks"]
        role = hooks[0]["roleArn"]
        hooks.insert(2, {**HOOK_ENTRY, "hookTargetArn": ACCOUNT_FUNCTION + "ecs-bg-min-tasks-dev"})
        hooks[2]["roleArn"] = role
        hooks[2]["hookDetails"] = {"minTasks": 2}
        hooks.append(
            {
                **HOOK_ENTRY,
                "hookTargetArn": ACCOUNT_FUNCTION + "sample-green-check",
                "roleArn": role,
                "lifecycleStages": ["TEST_TRAFFIC_SHIFT"],  # its event names the test weights
            }
        )
        task = ecs.register_task_definition(**local.render("task"))["taskDefinition"]
        ecs.create_service(
            cluster=CLUSTER,
            serviceName=SERVICE,
            taskDefinition=task["taskDefinitionArn"],
            **service,
        )

        deployment = finished(ecs, newest(ecs), timeout=120)
        assert deployment["status"] == "SUCCESSFUL", deployment.get("statusReason")

        def logged(function: str) -> list[str]:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
            return [event["message"] for event in events]

        min_tasks = logged("ecs-bg-min-tasks-dev")
        assert any('"minTasks":2' in line or '"minTasks": 2' in line for line in min_tasks), min_tasks
        sample = logged("sample-green-check")
        # What the sample hook printed, each line as written, between Lambda's START and END.
        for value in ("42", '"a bare string"', "null", "plain words on stderr"):
            assert value in sample, (value, sample)
        assert any(line.startswith("START RequestId:") for line in sample)
        assert any("region ap-northeast-1, function sample-green-check" in line for line in sample), sample
