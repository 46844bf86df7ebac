"""The hookFunctions context's environment values may use ecspresso's template functions: ``cfn_output``
of this stack is the output's own value (CloudFormation resolves it at deployment; the local world from
the synthesized template), ``env`` the environment `cdk synth` runs in; what cannot be rendered fails
`cdk synth`, naming the hook, the variable and the expression."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.local.cloudformation.cloud import read_cloud
from ecs_bg.local.lambda_.functions import world_functions
from tests.conftest import LAMBDA_DIR, ROOT
from tests.infra.conftest import STACK_NAME, sample_app, synthesize

pytestmark = pytest.mark.slow

ALB_CHECK = ROOT / "tests" / "fixtures" / "public_hooks" / "alb_check" / "app.py"


def context(tmp_path: Path, environment: dict[str, str]) -> dict[str, Any]:
    """The repository's hooks and a sample-style smoke test (alb_check), configured by its own ALB_URL."""
    code = tmp_path / "lambda"
    code.mkdir()
    for path in LAMBDA_DIR.glob("*_hook.py"):
        shutil.copy(path, code / path.name)
    shutil.copy(ALB_CHECK, code / "app.py")
    functions = {"alb-check": {"handler": "app.lambda_handler", "environment": environment}}
    return {"hookCode": str(code), "hookFunctions": functions}


def test_cfn_output_is_the_outputs_value_and_the_local_world_makes_it_local(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECS_BG_TEST_STAGE_26", "qa")
    environment = {
        "ALB_URL": f'{{{{ cfn_output "{STACK_NAME}" "ProductionUrl" }}}}',
        "TARGET": f"{{{{ cfn_output `{STACK_NAME}` `GreenTargetGroupArn` }}}}",
        "STAGE": '{{ env "ECS_BG_TEST_STAGE_26" "dev" }}',
    }
    app = synthesize(tmp_path / "cdk.out", context(tmp_path, environment))
    function = app.resource(app.logical_id("Hooks/alb_check_hook/Resource"))["Properties"]
    variables = function["Environment"]["Variables"]
    assert variables["ALB_URL"] == app.outputs()["ProductionUrl"]["Value"]  # the same expression
    assert variables["TARGET"] == app.outputs()["GreenTargetGroupArn"]["Value"]
    assert variables["STAGE"] == "qa"
    # The local world built from this template: the production listener on this machine.
    cloud = read_cloud(app.outdir, "ap-northeast-1")
    functions = world_functions(cloud, {}, {}, "simulation.yml:")
    local = functions["ecs-bg-alb-check-dev"].environment
    assert local["ALB_URL"] == cloud.outputs(STACK_NAME)["ProductionUrl"]
    assert local["ALB_URL"].startswith("http://127.0.0.1:")
    assert local["TARGET"] == cloud.outputs(STACK_NAME)["GreenTargetGroupArn"]


def test_what_cannot_be_rendered_fails_synth_naming_the_hook_and_variable(tmp_path: Path) -> None:
    environment = {
        "ALB_URL": f'{{{{ cfn_output "{STACK_NAME}" "ProdUrl" }}}}',
        "OWN": f'{{{{ cfn_output "{STACK_NAME}" "BeforeInstallHookArn" }}}}',
        "OTHER": '{{ cfn_output "another-stack" "ProductionUrl" }}',
    }
    app, _ = sample_app(tmp_path / "cdk.out", context(tmp_path, environment))
    with pytest.raises(RuntimeError) as caught:
        app.synth()
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("ValidationFailedWithErrors")
    where = f"[{STACK_NAME}/Hooks] CDK context: hookFunctions.alb-check.environment"
    (alb,) = [line for line in lines if ".ALB_URL:" in line]
    assert alb.startswith(f"  {where}.ALB_URL: this stack has no output ProdUrl (outputs: ")
    assert alb.endswith(f'in {{{{ cfn_output "{STACK_NAME}" "ProdUrl" }}}}')
    assert len(lines) == 2  # the first problem of a function: one line for it
    assert not (tmp_path / "cdk.out" / f"{STACK_NAME}.template.json").exists()
    # Each of the others alone.
    for key, why in [
        ("OWN", "BeforeInstallHookArn depends on the hook functions: their environment cannot name it"),
        ("OTHER", f"only this stack's outputs ({STACK_NAME}) resolve at synthesis, not another-stack's"),
    ]:
        outdir = tmp_path / key
        one = {key: environment[key]}
        outdir.mkdir()
        app, _ = sample_app(outdir / "cdk.out", context(outdir, one))
        with pytest.raises(RuntimeError) as caught:
            app.synth()
        assert f"{where}.{key}: {why}" in str(caught.value)
