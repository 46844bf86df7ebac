"""simulation.yml's function environment values rendered as ecspresso renders its files: ``cfn_output``
answered by the local stacks (so a hook's own ``ALB_URL`` names the local listener), ``env`` by the
environment; a value that cannot be rendered names the file, the function and the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import FunctionOverride
from ecs_bg.local.lambda_.functions import world_functions
from tests.cloud import STACK, sample_cloud
from tests.conftest import CONFIG, ROOT, copy_sample_simulation_yml
from tests.ecs_bg_process import ecs_bg_here

WHERE = "ecspresso/simulation.yml:"
SAMPLES = ROOT / "tests" / "fixtures" / "sample_hooks"


def function(environment: dict[str, str]) -> FunctionOverride:
    return FunctionOverride(code=str(SAMPLES), handler="app.lambda_handler", environment=environment)


def test_cfn_output_and_env_resolve_against_the_local_world() -> None:
    cloud = sample_cloud()
    environment = {
        "ALB_URL": f'{{{{ cfn_output "{STACK}" "ProductionUrl" }}}}',
        "TEST_URL": f"{{{{ cfn_output `{STACK}` `TestUrl` }}}}/health",
        "STAGE": '{{ env "DEPLOY_STAGE" "dev" }}',
        "GIVEN": '{{ env "DEPLOY_STAGE" "dev" }}',
        "PLAIN": "no template here",
    }
    functions = world_functions(
        cloud, {}, {"sample-hook": function(environment)}, WHERE, environ={"DEPLOY_STAGE": ""}
    )
    rendered = functions["sample-hook"].environment
    outputs = cloud.outputs(STACK)
    assert rendered["ALB_URL"] == outputs["ProductionUrl"]
    assert rendered["ALB_URL"].startswith("http://127.0.0.1:")  # the local listener, not the ALB's name
    assert rendered["TEST_URL"] == outputs["TestUrl"] + "/health"
    assert rendered["STAGE"] == "dev"  # unset (or empty, as go-config counts it): the default
    assert rendered["PLAIN"] == "no template here"
    again = world_functions(
        cloud,
        {},
        {"sample-hook": function({"S": '{{ env "DEPLOY_STAGE" "dev" }}'})},
        WHERE,
        {"DEPLOY_STAGE": "prod"},
    )
    assert again["sample-hook"].environment["S"] == "prod"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (
            '{{ cfn_output "nowhere" "ProductionUrl" }}',
            f"no stack nowhere among the local templates' (stacks: {STACK})",
        ),
        (f'{{{{ cfn_output "{STACK}" "NoSuchKey" }}}}', f"the local stack {STACK} has no output NoSuchKey"),
        ('{{ must_env "SURELY_UNSET_26" }}', "environment variable SURELY_UNSET_26 is not defined"),
        ('{{ ssm "/x" }}', 'function "ssm" is not defined here'),
        ("{{ env `X`", "unterminated action"),
    ],
)
def test_a_value_that_cannot_be_rendered_names_the_file_function_and_variable(value: str, why: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        world_functions(sample_cloud(), {}, {"sample-hook": function({"ALB_URL": value})}, WHERE, environ={})
    message = str(caught.value)
    assert message.startswith(f"{WHERE} functions.sample-hook.environment.ALB_URL: "), message
    assert why in message
    assert "\n" not in message


def test_simulate_refuses_a_bad_template_before_anything_starts(tmp_path: Path) -> None:
    sim = copy_sample_simulation_yml(tmp_path)
    code = os.path.relpath(SAMPLES, tmp_path)
    with sim.open("a") as file:
        file.write(
            "functions:\n"
            "  sample-hook:\n"
            f"    code: {code}\n"
            "    handler: app.lambda_handler\n"
            "    environment:\n"
            f'      ALB_URL: \'{{{{ cfn_output "{STACK}" "ProdUrl" }}}}\'\n'
        )
    done = ecs_bg_here(
        *("simulate", "--config", str(CONFIG), "--sim-config", str(sim)),
        *("--quiet", "--report", str(tmp_path / "report.json")),
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    printed = " ".join(done.stdout.split())
    assert (
        f"{sim}: functions.sample-hook.environment.ALB_URL: the local stack {STACK} has no output ProdUrl"
        in (printed)
    ), printed
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "report.json").exists()
