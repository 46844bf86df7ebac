"""The stack's hookDetails context, judged before anything starts by the code of the hook each object
configures (``stack_context.hook_details_problems``, through ``hook_functions``: every local run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.stack_context import hook_functions, read_cdk_json
from ecs_bg.hooks.checks import CHECKS
from tests.conftest import LAMBDA_DIR, ROOT

EXAMPLES = ROOT / "examples"
SAMPLES = ROOT / "tests" / "fixtures" / "sample_hooks"

# One wrong value for each built-in check, and how the refusal names it after
# "hookDetails.after-install.".
BUILT_IN = [
    ("ecsReadiness", {"minHealthyPercent": 0}, "ecsReadiness.minHealthyPercent: 0 is out of range [1, 100]"),
    ("smokeTest", {"timeoutSeconds": "5"}, "smokeTest.timeoutSeconds: expected a number, got '5'"),
    ("notify", {"snsTopicArn": 7}, "notify.snsTopicArn: expected a string or null, got number 7"),
    ("targetHealth", {"minHealthyTargets": 0}, "targetHealth.minHealthyTargets: 0 is out of range [1, 1000]"),
    (
        "targetHealth",
        {"targetGroupArns": ["green-tg"]},
        "targetHealth: targetGroupArns must be target group ARNs (arn:…:targetgroup/NAME/ID), got 'green-tg'",
    ),
    (
        "alarmGate",
        {"alarmNamePrefix": ""},
        "alarmGate: alarmNamePrefix: '' must be 1 to 255 characters, not 0",
    ),
    (
        "metricGate",
        {
            "metric": {"namespace": "AWS/ApplicationELB", "metricName": "X", "periodSeconds": 90},
            "failIf": "> 1",
        },
        "metricGate.metric: periodSeconds 90 is not a CloudWatch period: 1, 5, 10, 20, 30, 60 or a "
        "multiple of 60",
    ),
    ("migration", {"command": "migrate"}, 'migration.command: expected an array, got string "migrate"'),
    (
        "approval",
        {"s3Uri": "bucket/key"},
        "approval: s3Uri must name a bucket and a key (s3://BUCKET/KEY), got 'bucket/key'",
    ),
]


def cdk_json(folder: Path, context: dict[str, Any]) -> Path:
    path = folder / "cdk.json"
    path.write_text(json.dumps({"context": context}))
    return path


def refusal(path: Path) -> str:
    """Why the stack's functions cannot be built from the cdk.json at ``path``."""
    with pytest.raises(DefinitionError) as caught:
        hook_functions(read_cdk_json(path), path.parent)
    return str(caught.value)


def test_every_built_in_check_is_covered() -> None:
    assert {check for check, _, _ in BUILT_IN} == set(CHECKS)


@pytest.mark.parametrize(
    ("check", "settings", "why"), BUILT_IN, ids=[f"{c[0]}.{next(iter(c[1]))}" for c in BUILT_IN]
)
def test_a_wrong_value_of_a_built_in_check_names_the_hook_the_key_and_the_value(
    tmp_path: Path, check: str, settings: dict[str, Any], why: str
) -> None:
    path = cdk_json(
        tmp_path, {"hookCode": str(LAMBDA_DIR), "hookDetails": {"after-install": {check: settings}}}
    )
    assert refusal(path) == f"{path}: context: hookDetails.after-install.{why}"


def test_every_problem_of_every_hook_is_named_at_once(tmp_path: Path) -> None:
    details = {
        "after-install": {"ecsReadiness": {"minHealthyPercent": 0}, "smokeTets": {}},
        "before-install": {"notify": {"snsTopicArn": 7}},
        "before-allow-traffic": {"smokeTest": {"path": "/health"}},  # fine
    }
    path = cdk_json(tmp_path, {"hookCode": str(LAMBDA_DIR), "hookDetails": details})
    problems = refusal(path).splitlines()
    assert [problem.split(": ")[2] for problem in problems] == [
        "hookDetails.after-install.ecsReadiness.minHealthyPercent",
        "hookDetails.after-install.smokeTets",
        "hookDetails.before-install.notify.snsTopicArn",
    ]


def test_the_repository_cdk_json_and_its_functions_pass() -> None:
    infrastructure = ROOT / "infrastructure"
    context = read_cdk_json(infrastructure / "cdk.json")
    assert context.hook_details  # the smoke tests: there is something to judge
    functions = hook_functions(context, infrastructure)
    assert {f.hook for f in functions} == {
        "before-install",
        "after-install",
        "before-allow-traffic",
        "after-allow-traffic",
    }


def code_folder(tmp_path: Path, *files: Path) -> Path:
    code = tmp_path / "lambda"
    code.mkdir()
    for file in files:
        shutil.copy(file, code / file.name)
    return code


def test_a_registered_checks_settings_are_judged_by_the_hook_that_registers_it(tmp_path: Path) -> None:
    code = code_folder(tmp_path, EXAMPLES / "release_window_hook.py", EXAMPLES / "release_window_check.py")
    good = cdk_json(
        tmp_path, {"hookCode": str(code), "hookDetails": {"release-window": {"releaseWindow": {}}}}
    )
    assert [f.name for f in hook_functions(read_cdk_json(good), tmp_path)] == ["ecs-bg-release-window-dev"]
    wrong = {"release-window": {"releaseWindow": {"parameter": 5}}}
    path = cdk_json(tmp_path, {"hookCode": str(code), "hookDetails": wrong})
    why = "hookDetails.release-window.releaseWindow.parameter: expected a string, got number 5"
    assert refusal(path) == f"{path}: context: {why}"


def test_a_hooks_own_keys_are_its_own_and_a_misspelling_is_refused(tmp_path: Path) -> None:
    code = code_folder(tmp_path, EXAMPLES / "expected_revision_hook.py")
    own = {"expected-revision": {"expectedRevision": {"revision": "r2"}}}
    path = cdk_json(tmp_path, {"hookCode": str(code), "hookDetails": own})
    assert len(hook_functions(read_cdk_json(path), tmp_path)) == 1
    misspelt = {"expected-revision": {"expectedRevisoin": {"revision": "r2"}}}
    path = cdk_json(tmp_path, {"hookCode": str(code), "hookDetails": misspelt})
    assert "hookDetails.expected-revision.expectedRevisoin: unknown key; known checks:" in refusal(path)


def test_a_hook_not_built_on_ecs_bg_takes_any_keys(tmp_path: Path) -> None:
    # AWS's approval sample reads S3_BUCKET_NAME from its hookDetails; this hook is written as samples are.
    context = {
        "hookCode": str(SAMPLES),
        "hookFunctions": {"sample": {"handler": "app.lambda_handler"}},
        "hookDetails": {"sample": {"S3_BUCKET_NAME": "approvals", "smokeTest": {"timeoutSeconds": "5"}}},
    }
    (function,) = hook_functions(read_cdk_json(cdk_json(tmp_path, context)), tmp_path)
    assert function.name == "ecs-bg-sample-dev"


# An entry file whose defaults give the metric gate its required metric: the context need not repeat it.
GATED = """\
from ecs_bg.hooks import HookContext, LifecycleHook, Stage

METRIC = {"namespace": "AWS/ApplicationELB", "metricName": "HTTPCode_Target_5XX_Count"}
hook = LifecycleHook("gated", defaults={"metricGate": {"metric": METRIC, "failIf": "> 5"}})


@hook.stage(Stage.POST_PRODUCTION_TRAFFIC_SHIFT)
def gate(ctx: HookContext) -> None:
    ctx.run_checks("metricGate")


handler = hook.handler
"""


def test_settings_are_judged_over_the_entry_files_defaults_as_the_hook_judges_them(tmp_path: Path) -> None:
    code = tmp_path / "lambda"
    code.mkdir()
    (code / "gated_hook.py").write_text(GATED)
    counted = cdk_json(
        tmp_path, {"hookCode": str(code), "hookDetails": {"gated": {"metricGate": {"count": 3}}}}
    )
    assert len(hook_functions(read_cdk_json(counted), tmp_path)) == 1
    # The same setting where no default gives the metric: the check has none to measure.
    (code / "gated_hook.py").write_text(
        GATED.replace('defaults={"metricGate": {"metric": METRIC, "failIf": "> 5"}}', "")
    )
    assert refusal(counted).endswith("hookDetails.gated.metricGate: set exactly one of metric or queries")


def test_a_hook_whose_code_cannot_be_imported_is_refused_naming_it(tmp_path: Path) -> None:
    code = tmp_path / "lambda"
    code.mkdir()
    (code / "broken_hook.py").write_text("import not_installed_anywhere\n")
    path = cdk_json(tmp_path, {"hookCode": str(code), "hookDetails": {"broken": {"anything": 1}}})
    why = refusal(path)
    assert why.startswith("ecs-bg-broken-dev: cannot import broken_hook.handler from ")
    assert "No module named 'not_installed_anywhere'" in why
