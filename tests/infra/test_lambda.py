"""The hook functions: one per entry file, the seed's settings, and the environment the hooks read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecs_bg.deploy.functions import stage_asset
from ecs_bg.deploy.stack_context import hook_functions, read_cdk_json
from tests.conftest import LAMBDA_DIR

from .conftest import INFRASTRUCTURE, Synthesized

HOOKS = {
    "before_install_hook": "before-install",
    "after_install_hook": "after-install",
    "before_allow_traffic_hook": "before-allow-traffic",
    "after_allow_traffic_hook": "after-allow-traffic",
}
# The hooks cdk.json configures (its hookDetails context): their functions get ECS_BG_HOOK_DETAILS.
CDK_JSON_HOOK_DETAILS = json.loads((INFRASTRUCTURE / "cdk.json").read_text())["context"]["hookDetails"]
ENVIRONMENT_KEYS = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "ECS_BG_ENV",
    "ECS_BG_TEST_URL",
    "ECS_BG_PRODUCTION_URL",
    "ECS_BG_ALARM_NAMES",
    "ECS_BG_SNS_TOPIC_ARN",
    "ECS_BG_SLACK_WEBHOOK_SECRET_ARN",
    "ECS_BG_TEAMS_WEBHOOK_SECRET_ARN",
}


def test_one_function_per_hook_file() -> None:
    functions = hook_functions(read_cdk_json(INFRASTRUCTURE / "cdk.json"), INFRASTRUCTURE)
    assert {f.module: f.hook for f in functions} == HOOKS
    assert {f.handler for f in functions} == {f"{m}.handler" for m in HOOKS}
    assert {f.output_key for f in functions} == {
        "BeforeInstallHookArn",
        "AfterInstallHookArn",
        "BeforeAllowTrafficHookArn",
        "AfterAllowTrafficHookArn",
    }


def test_stage_asset_copies_entries_and_the_hooks_package_only(tmp_path: Path) -> None:
    files = stage_asset(LAMBDA_DIR, tmp_path)
    on_disk = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == on_disk
    assert {f for f in files if "/" not in f} == {f"{m}.py" for m in HOOKS}
    assert "ecs_bg/__init__.py" not in files  # a namespace package, in Lambda as where ecs-bg is installed
    assert "ecs_bg/hooks/permissions.py" in files
    assert all(f.startswith("ecs_bg/hooks/") or "/" not in f for f in files)
    assert not [f for f in files if "__pycache__" in f or "/tests/" in f or not f.endswith(".py")]


@pytest.mark.slow
def test_functions_have_the_seeds_settings(default_app: Synthesized) -> None:
    for module, hook in HOOKS.items():
        properties = default_app.resource(default_app.logical_id(f"Hooks/{module}/Resource"))["Properties"]
        assert properties["FunctionName"] == f"ecs-bg-{hook}-dev"
        assert properties["Handler"] == f"{module}.handler"
        assert properties["Runtime"] == "python3.13"
        assert properties["Architectures"] == ["arm64"]
        assert properties["Timeout"] == 300
        assert properties["MemorySize"] == 256
        environment = properties["Environment"]["Variables"]
        configured = {"ECS_BG_HOOK_DETAILS"} if hook in CDK_JSON_HOOK_DETAILS else set()
        assert set(environment) == ENVIRONMENT_KEYS | configured
        assert environment["POWERTOOLS_SERVICE_NAME"] == hook
        assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "EcsBlueGreen"
        assert environment["ECS_BG_ENV"] == "dev"
        alarms = [{"Ref": default_app.logical_id(f"GateAlarms/{a}/Resource")} for a in ("Http5xx", "Latency")]
        assert environment["ECS_BG_ALARM_NAMES"] == {"Fn::Join": ["", [alarms[0], ",", alarms[1]]]}
        alb = default_app.logical_id("LoadBalancer/Alb/Resource")
        assert environment["ECS_BG_TEST_URL"] == {
            "Fn::Join": ["", ["http://", {"Fn::GetAtt": [alb, "DNSName"]}, ":10080"]]
        }
        assert environment["ECS_BG_PRODUCTION_URL"] == {
            "Fn::Join": ["", ["http://", {"Fn::GetAtt": [alb, "DNSName"]}]]
        }
        assert "VpcConfig" in properties


@pytest.mark.slow
def test_log_groups_follow_the_seeds_names_with_retention(any_app: Synthesized) -> None:
    retention = {"ONE_MONTH": 30, "THREE_MONTHS": 90}[any_app.config.log_retention]
    for module, hook in HOOKS.items():
        log_group = any_app.resource(any_app.logical_id(f"Hooks/{module}LogGroup/Resource"))["Properties"]
        assert log_group == {
            "LogGroupName": f"/aws/lambda/ecs-bg-{hook}-{any_app.config.env}",
            "RetentionInDays": retention,
        }
        function = any_app.resource(any_app.logical_id(f"Hooks/{module}/Resource"))["Properties"]
        assert function["LoggingConfig"] == {
            "LogGroup": {"Ref": any_app.logical_id(f"Hooks/{module}LogGroup/Resource")}
        }


@pytest.mark.slow
def test_powertools_layer_matches_the_installed_release(
    default_app: Synthesized, variant_app: Synthesized
) -> None:
    from importlib.metadata import version

    parameters = default_app.template["Parameters"]
    [(name, parameter)] = [(k, v) for k, v in parameters.items() if "powertools" in str(v.get("Default", ""))]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert (
        parameter["Default"]
        == f"/aws/service/powertools/python/arm64/python3.13/{version('aws-lambda-powertools')}"
    )
    function = default_app.resource(default_app.logical_id("Hooks/before_install_hook/Resource"))[
        "Properties"
    ]
    assert function["Layers"] == [{"Ref": name}]
    # powertoolsLayerVersion pins the layer version number instead.
    function = variant_app.resource(variant_app.logical_id("Hooks/before_install_hook/Resource"))[
        "Properties"
    ]
    [layer] = function["Layers"]
    assert layer["Fn::Join"][1][-1] == ":017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27"


@pytest.mark.slow
def test_asset_holds_the_entry_files_and_the_hooks_package(default_app: Synthesized, tmp_path: Path) -> None:
    code = default_app.resource(default_app.logical_id("Hooks/before_install_hook/Resource"))["Properties"][
        "Code"
    ]
    asset = default_app.outdir / f"asset.{code['S3Key'].removesuffix('.zip')}"
    files = sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file())
    assert files == stage_asset(LAMBDA_DIR, tmp_path / "restaged")  # not into the shared synthesis
    assert {f for f in files if "/" not in f} == {p.name for p in LAMBDA_DIR.glob("*_hook.py")}
    assert sum((asset / f).stat().st_size for f in files) <= 200_000  # the design's budget for the asset
    # One asset for the four functions.
    keys = {
        default_app.resource(default_app.logical_id(f"Hooks/{m}/Resource"))["Properties"]["Code"]["S3Key"]
        for m in HOOKS
    }
    assert keys == {code["S3Key"]}


def test_a_certificate_smoke_tests_production_by_its_hostname(private_app: Synthesized) -> None:
    alb = private_app.logical_id("LoadBalancer/Alb/Resource")
    for module in HOOKS:
        properties = private_app.resource(private_app.logical_id(f"Hooks/{module}/Resource"))["Properties"]
        environment = properties["Environment"]["Variables"]
        # Verified TLS against the name the certificate covers, never the ALB's DNS name.
        assert environment["ECS_BG_PRODUCTION_URL"] == "https://app.example.com"
        # The test listener stays plain HTTP on its own port.
        assert environment["ECS_BG_TEST_URL"] == {
            "Fn::Join": ["", ["http://", {"Fn::GetAtt": [alb, "DNSName"]}, ":10080"]]
        }


def test_hook_details_context_reaches_only_its_function(private_app: Synthesized) -> None:
    for module, hook in HOOKS.items():
        properties = private_app.resource(private_app.logical_id(f"Hooks/{module}/Resource"))["Properties"]
        environment = properties["Environment"]["Variables"]
        if hook == "after-allow-traffic":
            assert json.loads(environment["ECS_BG_HOOK_DETAILS"]) == {"smokeTest": {"path": "/version"}}
        else:
            assert "ECS_BG_HOOK_DETAILS" not in environment


def test_the_simulator_and_invoke_run_the_functions_the_stack_deploys(default_app: Synthesized) -> None:
    # One model (ecs_bg.deploy.functions) for the stack, `ecs-bg simulate` and `ecs-bg invoke`: each
    # function's name, handler, timeout, memory and ECS_BG_HOOK_DETAILS are what the stack deploys.
    functions = hook_functions(read_cdk_json(INFRASTRUCTURE / "cdk.json"), INFRASTRUCTURE)
    assert any("ECS_BG_HOOK_DETAILS" in f.environment for f in functions)  # cdk.json configures hooks
    for function in functions:
        properties = default_app.resource(default_app.logical_id(f"Hooks/{function.module}/Resource"))[
            "Properties"
        ]
        deployed = properties["Environment"]["Variables"]
        assert properties["FunctionName"] == function.name
        assert properties["Handler"] == function.handler
        assert (properties["Timeout"], properties["MemorySize"]) == (
            function.timeout_seconds,
            function.memory_mb,
        )
        for key, value in function.environment.items():
            assert deployed[key] == value, (function.name, key)
