"""The repository's own ecspresso files render against the CDK stack's outputs and lint clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecs_bg.cli.main import app
from ecs_bg.deploy.definitions import load_definitions
from ecs_bg.deploy.environments import (
    CLUSTER_VARIABLE,
    DEFAULT_STACK_NAME,
    SERVICE_VARIABLE,
    STACK_NAME_VARIABLE,
)
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.findings import RULES
from ecs_bg.deploy.lint import lint
from ecs_bg.deploy.outputs import OutputsFile
from tests.conftest import CONFIG, FIXTURE_OUTPUTS, ROOT

STACK = DEFAULT_STACK_NAME


def outputs() -> dict[str, str]:
    return json.loads(FIXTURE_OUTPUTS.read_text())[STACK]


def test_every_template_value_comes_from_the_stack_outputs() -> None:
    definitions = load_definitions(CONFIG, {}, lambda _region: OutputsFile(FIXTURE_OUTPUTS))
    out = outputs()
    service, task = definitions.service, definitions.task
    lb = service["loadBalancers"][0]
    assert lb["targetGroupArn"] == out["BlueTargetGroupArn"]
    assert lb["advancedConfiguration"] == {
        "alternateTargetGroupArn": out["GreenTargetGroupArn"],
        "productionListenerRule": out["ProductionListenerRuleArn"],
        "testListenerRule": out["TestListenerRuleArn"],
        "roleArn": out["EcsLoadBalancerRoleArn"],
    }
    hooks = {hook["hookTargetArn"]: hook for hook in service["deploymentConfiguration"]["lifecycleHooks"]}
    assert {arn: hook["lifecycleStages"] for arn, hook in hooks.items()} == {
        out["BeforeInstallHookArn"]: ["PRE_SCALE_UP"],
        out["AfterInstallHookArn"]: ["POST_SCALE_UP"],
        out["BeforeAllowTrafficHookArn"]: ["TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT"],
        out["AfterAllowTrafficHookArn"]: ["POST_PRODUCTION_TRAFFIC_SHIFT"],
    }
    assert {hook["roleArn"] for hook in hooks.values()} == {out["EcsBlueGreenDeployRoleArn"]}
    # Hook settings ride in the stack's hookDetails context, which ecspresso never decodes (ECS041);
    # the alarm gate reads the same alarms from its function's ECS_BG_ALARM_NAMES.
    assert not any("hookDetails" in hook for hook in hooks.values())
    gate = service["deploymentConfiguration"]["alarms"]["alarmNames"]
    assert gate == [out["Http5xxAlarmName"], out["LatencyAlarmName"]]
    assert task["runtimePlatform"]["cpuArchitecture"] == out["TaskCpuArchitecture"]
    assert task["containerDefinitions"][0]["image"] == f"{out['EcrRepositoryUri']}:latest"
    assert definitions.config.cluster == out["ClusterName"]
    assert definitions.config.service == out["ServiceName"]
    # Nothing left unrendered anywhere.
    assert "{{" not in json.dumps([service, task, definitions.config.document])


def test_the_repository_files_lint_clean() -> None:
    definitions = load_definitions(
        CONFIG, {"IMAGE_TAG": "abc123"}, lambda _region: OutputsFile(FIXTURE_OUTPUTS)
    )
    assert lint(definitions) == []


def test_a_missing_output_names_the_file_line_and_expression(tmp_path: Path) -> None:
    trimmed = {STACK: {k: v for k, v in outputs().items() if k != "TestListenerRuleArn"}}
    partial = tmp_path / "outputs.json"
    partial.write_text(json.dumps(trimmed))
    with pytest.raises(DefinitionError) as error:
        load_definitions(CONFIG, {}, lambda _region: OutputsFile(partial))
    service_def = (ROOT / "ecspresso" / "ecs-service-def.json").read_text().splitlines()
    line = next(i for i, text in enumerate(service_def, 1) if "TestListenerRuleArn" in text)
    assert str(error.value).startswith(f"{CONFIG.parent / 'ecs-service-def.json'}:{line}: ")
    assert "has no output TestListenerRuleArn" in str(error.value)
    assert "{{ cfn_output (env `ECS_BG_STACK_NAME` `zenn-ecs-cdk-ecspresso`) `TestListenerRuleArn` }}" in str(
        error.value
    )


def test_every_cfn_output_reads_the_stack_name_from_the_environment_with_dev_as_default() -> None:
    stack = f"(env `{STACK_NAME_VARIABLE}` `{DEFAULT_STACK_NAME}`)"
    calls = [
        (path.name, call)
        for path in sorted(CONFIG.parent.iterdir())
        if path.is_file()
        for call in re.findall(r"\{\{-?\s*cfn_output\s+(\([^)]*\)|`[^`]*`|\S+)", path.read_text())
    ]
    assert calls, "the ecspresso files read the stack's outputs"
    assert [(name, call) for name, call in calls if call != stack] == []


def test_another_environment_reads_its_own_stack_and_cluster(tmp_path: Path) -> None:
    values = {key: f"{value}-stg" for key, value in outputs().items()}
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps({STACK: outputs(), "zenn-ecs-cdk-ecspresso-stg": values}))
    environ = {
        STACK_NAME_VARIABLE: "zenn-ecs-cdk-ecspresso-stg",
        CLUSTER_VARIABLE: "ecs-bg-stg",
        SERVICE_VARIABLE: "ecs-bg-app",
    }
    definitions = load_definitions(CONFIG, environ, lambda _region: OutputsFile(outputs_file))
    assert definitions.config.cluster == "ecs-bg-stg"
    lb = definitions.service["loadBalancers"][0]
    assert lb["targetGroupArn"] == values["BlueTargetGroupArn"]
    assert definitions.task["family"] == values["TaskFamily"]


def test_cli_render_prints_the_rendered_service() -> None:
    result = CliRunner().invoke(
        app, ["render", "service", "--config", str(CONFIG), "--outputs-file", str(FIXTURE_OUTPUTS)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"


def test_cli_lint_reports_json_and_exits_nonzero_on_errors() -> None:
    args = ["lint", "--config", str(CONFIG), "--outputs-file", str(FIXTURE_OUTPUTS), "--format", "json"]
    clean = CliRunner().invoke(app, args)
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout) == {"findings": [], "errors": 0, "warnings": 0}
    x86_only = CliRunner().invoke(app, [*args, "--image-platform", "linux/amd64"])
    assert x86_only.exit_code == 1
    report = json.loads(x86_only.stdout)
    assert [(f["rule"], f["path"]) for f in report["findings"]] == [
        ("ECS050", "$.runtimePlatform.cpuArchitecture")
    ]


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["lint", "--config", str(CONFIG), "--outputs-file", str(tmp_path / "nope")]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "cannot read the outputs file" in lines[0]


def test_config_cannot_use_plugin_functions(tmp_path: Path) -> None:
    config = tmp_path / "ecspresso.yml"
    config.write_text("region: ap-northeast-1\ncluster: '{{ cfn_output `S` `ClusterName` }}'\n")
    with pytest.raises(
        DefinitionError, match=r"ecspresso.yml:2: function \"cfn_output\" is not defined here"
    ):
        load_definitions(config, {}, lambda _region: OutputsFile(FIXTURE_OUTPUTS))


def test_the_docs_list_every_rule() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text()
    assert set(re.findall(r"`(ECS\d{3})`", reference)) == set(RULES)


def test_required_version_is_the_pinned_release() -> None:
    from ecs_bg.deploy.config import load_config
    from ecs_bg.deploy.ecspresso_release import ECSPRESSO_RELEASE

    assert load_config(CONFIG, {}).required_version == f">= {ECSPRESSO_RELEASE}"
