"""A corpus of broken definitions: each is the repository's own, rendered, with one mistake made,
and must produce exactly its finding (rule and JSON path), no more, no less."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from ecs_bg.deploy.definitions import Definitions, load_definitions
from ecs_bg.deploy.ecspresso_release import ECSPRESSO_RELEASE
from ecs_bg.deploy.findings import Finding
from ecs_bg.deploy.functions import LambdaFunction
from ecs_bg.deploy.lint import lint
from ecs_bg.deploy.outputs import OutputsFile
from ecs_bg.deploy.rules import LAMBDA_SYNC_PAYLOAD_BYTES, LintOptions
from ecs_bg.deploy.stack_context import hook_functions, read_cdk_json
from ecs_bg.hooks.config import MAX_HOOK_DETAILS_BYTES, STATE_BUDGET_BYTES
from tests.conftest import CONFIG, FIXTURE_OUTPUTS, ROOT

Doc = dict[str, Any]
HOOKS = "$.deploymentConfiguration.lifecycleHooks"
INFRASTRUCTURE = ROOT / "infrastructure"


@pytest.fixture(scope="module")
def good() -> Definitions:
    return load_definitions(CONFIG, {}, lambda _region: OutputsFile(FIXTURE_OUTPUTS))


@pytest.fixture(scope="module")
def stack() -> LintOptions:
    """The repository's stack functions, which the hooks' ARNs name: each judges its own hookDetails."""
    functions = hook_functions(read_cdk_json(INFRASTRUCTURE / "cdk.json"), INFRASTRUCTURE)
    return LintOptions(functions={function.name: function for function in functions})


def hooks(service: Doc) -> list[Doc]:
    return service["deploymentConfiguration"]["lifecycleHooks"]


def deployment(service: Doc) -> Doc:
    return service["deploymentConfiguration"]


def pause(stages: list[str]) -> Doc:
    return {
        "targetType": "PAUSE",
        "lifecycleStages": stages,
        "timeoutConfiguration": {"timeoutInMinutes": 60},
    }


def misspell_bake_time(s: Doc) -> None:
    deployment(s)["bakeTimeInMinute"] = deployment(s).pop("bakeTimeInMinutes")


# The test-listener smoke test, as a service definition deployed without ecspresso would configure
# it on the hook (the repository's own keeps it in the stack's hookDetails context: ECS041).
SMOKE_TEST = {"smokeTest": {"listener": "test", "path": "/health", "expectedStatus": [200]}}
ECSPRESSO_CANNOT_LOAD = ("ECS041", f"{HOOKS}[2].hookDetails")


def with_smoke_test(*mutations: Callable[[Doc], None]) -> Callable[[Doc], None]:
    """Hook 2 configured with ``SMOKE_TEST`` on its hookDetails, then ``mutations``."""

    def mutate(doc: Doc) -> None:
        hooks(doc)[2]["hookDetails"] = copy.deepcopy(SMOKE_TEST)
        for mutation in mutations:
            mutation(doc)

    return mutate


def set_in(path: list[str | int], value: Any) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def delete_in(path: list[str | int]) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


SERVICE_CORPUS: list[tuple[str, Callable[[Doc], None], set[tuple[str, str]]]] = [
    (
        "misspelled field (botocore)",
        misspell_bake_time,
        {
            ("ECS001", "$.deploymentConfiguration.bakeTimeInMinute"),
            ("ECS011", "$.deploymentConfiguration.bakeTimeInMinutes"),
        },
    ),
    (
        "misspelled hook field (botocore)",
        lambda s: hooks(s)[0].update(hookTargetARN=hooks(s)[0].pop("hookTargetArn")),
        {("ECS001", f"{HOOKS}[0].hookTargetARN"), ("ECS024", f"{HOOKS}[0].hookTargetArn")},
    ),
    (
        "stage not in the enum (model)",
        set_in(["deploymentConfiguration", "lifecycleHooks", 1, "lifecycleStages"], ["POST_SCALEUP"]),
        {("ECS005", f"{HOOKS}[1].lifecycleStages[0]")},
    ),
    (
        "string where a number goes (botocore)",
        set_in(["desiredCount"], "2"),
        {("ECS003", "$.desiredCount")},
    ),
    (
        "timeout above the API maximum (model)",
        set_in(
            ["deploymentConfiguration", "lifecycleHooks", 3, "timeoutConfiguration", "timeoutInMinutes"],
            30000,
        ),
        {
            ("ECS004", f"{HOOKS}[3].timeoutConfiguration.timeoutInMinutes"),
            ("ECS023", f"{HOOKS}[3].timeoutConfiguration.timeoutInMinutes"),
        },
    ),
    (
        "alarms without rollback (botocore requires all three)",
        delete_in(["deploymentConfiguration", "alarms", "rollback"]),
        {
            ("ECS002", "$.deploymentConfiguration.alarms.rollback"),
            ("ECS032", "$.deploymentConfiguration.alarms"),
        },
    ),
    (
        "cluster and output-only fields ecspresso ignores",
        lambda s: s.update(cluster="other", serviceArn="arn:aws:ecs:ap-northeast-1:123456789012:service/c/s"),
        {("ECS006", "$.cluster"), ("ECS006", "$.serviceArn")},
    ),
    (
        "hookDetails the smoke test rejects (the hooks' own validator)",
        with_smoke_test(
            set_in(
                [
                    "deploymentConfiguration",
                    "lifecycleHooks",
                    2,
                    "hookDetails",
                    "smokeTest",
                    "timeoutSeconds",
                ],
                "5",
            )
        ),
        {("ECS025", f"{HOOKS}[2].hookDetails.smokeTest.timeoutSeconds"), ECSPRESSO_CANNOT_LOAD},
    ),
    (
        "a misspelled check name in hookDetails",
        with_smoke_test(
            lambda s: hooks(s)[2]["hookDetails"].update(smokeTets=hooks(s)[2]["hookDetails"].pop("smokeTest"))
        ),
        {("ECS025", f"{HOOKS}[2].hookDetails.smokeTets"), ECSPRESSO_CANNOT_LOAD},
    ),
    (
        "hookDetails as a JSON string (CloudFormation's HookDetails, jsonencode) read as its object",
        lambda s: hooks(s)[2].update(hookDetails=json.dumps({"smokeTets": {}})),
        {("ECS025", f"{HOOKS}[2].hookDetails.smokeTets"), ECSPRESSO_CANNOT_LOAD},
    ),
    (
        "hookDetails as a JSON string holding an array",
        set_in(["deploymentConfiguration", "lifecycleHooks", 2, "hookDetails"], '["smokeTest"]'),
        {("ECS025", f"{HOOKS}[2].hookDetails"), ECSPRESSO_CANNOT_LOAD},
    ),
    (
        "hookDetails too large to ride with the runtime state in an IN_PROGRESS answer",
        with_smoke_test(
            set_in(
                ["deploymentConfiguration", "lifecycleHooks", 2, "hookDetails", "smokeTest", "path"],
                "/" + "x" * (MAX_HOOK_DETAILS_BYTES - STATE_BUDGET_BYTES),
            )
        ),
        {("ECS025", f"{HOOKS}[2].hookDetails"), ECSPRESSO_CANNOT_LOAD},
    ),
    (
        "hookDetails on a hook, which ecspresso cannot load (the stack's context carries them)",
        lambda s: hooks(s)[1].update(hookDetails={}),
        {("ECS041", f"{HOOKS}[1].hookDetails")},
    ),
    (
        "PAUSE at the production traffic shift",
        lambda s: hooks(s).append(pause(["PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"])),
        {("ECS020", f"{HOOKS}[4].lifecycleStages[1]")},
    ),
    (
        # PRE_SCALE_UP (hook 0) is documented for ROLLING; the other stages are only UNCONFIRMED.
        "hooks with the ROLLING strategy",
        lambda s: (deployment(s).update(strategy="ROLLING"), deployment(s).pop("bakeTimeInMinutes")),
        {
            ("ECS021", f"{HOOKS}[1].lifecycleStages[0]"),
            ("ECS021", f"{HOOKS}[2].lifecycleStages[0]"),
            ("ECS021", f"{HOOKS}[2].lifecycleStages[1]"),
            ("ECS021", f"{HOOKS}[3].lifecycleStages[0]"),
        },
    ),
    (
        "a PRE_SCALE_UP PAUSE hook with the ROLLING strategy",
        lambda s: (
            deployment(s).update(strategy="ROLLING", lifecycleHooks=[hooks(s)[0], pause(["PRE_SCALE_UP"])]),
            deployment(s).pop("bakeTimeInMinutes"),
        ),
        set(),
    ),
    (
        "eleven Lambda hooks",
        lambda s: hooks(s).extend(copy.deepcopy(hooks(s)[0]) for _ in range(7)),
        {("ECS022", f"{HOOKS}[10]")},
    ),
    (
        "BLUE_GREEN without a bake time",
        delete_in(["deploymentConfiguration", "bakeTimeInMinutes"]),
        {("ECS011", "$.deploymentConfiguration.bakeTimeInMinutes")},
    ),
    (
        "bake time over a day",
        set_in(["deploymentConfiguration", "bakeTimeInMinutes"], 1441),
        {("ECS012", "$.deploymentConfiguration.bakeTimeInMinutes")},
    ),
    (
        "LINEAR step below 3 percent",
        lambda s: deployment(s).update(
            strategy="LINEAR", linearConfiguration={"stepPercent": 2.5, "stepBakeTimeInMinutes": 2}
        ),
        {("ECS013", "$.deploymentConfiguration.linearConfiguration.stepPercent")},
    ),
    (
        "LINEAR step not a multiple of 0.1",
        lambda s: deployment(s).update(strategy="LINEAR", linearConfiguration={"stepPercent": 12.25}),
        {("ECS013", "$.deploymentConfiguration.linearConfiguration.stepPercent")},
    ),
    (
        "CANARY percent and bake out of range",
        lambda s: deployment(s).update(
            strategy="CANARY", canaryConfiguration={"canaryPercent": 0.05, "canaryBakeTimeInMinutes": 2000}
        ),
        {
            ("ECS014", "$.deploymentConfiguration.canaryConfiguration.canaryPercent"),
            ("ECS012", "$.deploymentConfiguration.canaryConfiguration.canaryBakeTimeInMinutes"),
        },
    ),
    (
        "canary configuration with BLUE_GREEN",
        set_in(["deploymentConfiguration", "canaryConfiguration"], {"canaryPercent": 10.0}),
        {("ECS015", "$.deploymentConfiguration.canaryConfiguration")},
    ),
    (
        "Lambda hook timeout over 1440 minutes",
        set_in(
            ["deploymentConfiguration", "lifecycleHooks", 0, "timeoutConfiguration", "timeoutInMinutes"], 2880
        ),
        {("ECS023", f"{HOOKS}[0].timeoutConfiguration.timeoutInMinutes")},
    ),
    (
        "PAUSE hook with a role",
        lambda s: hooks(s).append({**pause(["POST_TEST_TRAFFIC_SHIFT"]), "roleArn": hooks(s)[0]["roleArn"]}),
        {("ECS024", f"{HOOKS}[4].roleArn")},
    ),
    (
        "smoke test without a test listener rule",
        with_smoke_test(delete_in(["loadBalancers", 0, "advancedConfiguration", "testListenerRule"])),
        {("ECS026", f"{HOOKS}[2].hookDetails.smokeTest"), ECSPRESSO_CANNOT_LOAD},
    ),
    (
        "test-listener smoke test only while the test traffic shifts",
        with_smoke_test(
            set_in(
                ["deploymentConfiguration", "lifecycleHooks", 2, "lifecycleStages"], ["TEST_TRAFFIC_SHIFT"]
            )
        ),
        {("ECS027", f"{HOOKS}[2].hookDetails.smokeTest"), ECSPRESSO_CANNOT_LOAD},
    ),
    (
        "CODE_DEPLOY controller with ECS lifecycle hooks",
        set_in(["deploymentController"], {"type": "CODE_DEPLOY"}),
        {("ECS010", "$.deploymentController.type")},
    ),
    (
        "alternate target group equals the primary",
        lambda s: s["loadBalancers"][0]["advancedConfiguration"].update(
            alternateTargetGroupArn=s["loadBalancers"][0]["targetGroupArn"]
        ),
        {("ECS030", "$.loadBalancers[0].advancedConfiguration.alternateTargetGroupArn")},
    ),
    (
        "no load balancer role",
        delete_in(["loadBalancers", 0, "advancedConfiguration", "roleArn"]),
        {("ECS030", "$.loadBalancers[0].advancedConfiguration.roleArn")},
    ),
    (
        "load balancer names a container the task lacks",
        set_in(["loadBalancers", 0, "containerName"], "web"),
        {("ECS031", "$.loadBalancers[0].containerName")},
    ),
    (
        "load balancer port the container does not map",
        set_in(["loadBalancers", 0, "containerPort"], 80),
        {("ECS031", "$.loadBalancers[0].containerPort")},
    ),
    (
        "alarms that never roll back",
        set_in(["deploymentConfiguration", "alarms", "rollback"], False),
        {("ECS032", "$.deploymentConfiguration.alarms")},
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [c[1:] for c in SERVICE_CORPUS], ids=[c[0] for c in SERVICE_CORPUS]
)
def test_broken_service_definition(
    good: Definitions, stack: LintOptions, mutate: Callable[[Doc], None], expected: set[tuple[str, str]]
) -> None:
    service = copy.deepcopy(good.service)
    mutate(service)
    findings = lint(dataclasses.replace(good, service=service), stack)
    assert {(f.rule, f.path) for f in findings} == expected
    assert all(f.file.endswith("ecs-service-def.json") and f.hint for f in findings)


TASK_CORPUS: list[tuple[str, Callable[[Doc], None], set[tuple[str, str]]]] = [
    (
        "misspelled container field (botocore)",
        lambda t: t["containerDefinitions"][0].update(
            portMapping=t["containerDefinitions"][0].pop("portMappings")
        ),
        {("ECS001", "$.containerDefinitions[0].portMapping"), ("ECS031", "$.loadBalancers[0].containerPort")},
    ),
    (
        "log driver not in the enum",
        set_in(["containerDefinitions", 0, "logConfiguration", "logDriver"], "awslog"),
        {("ECS005", "$.containerDefinitions[0].logConfiguration.logDriver")},
    ),
    (
        "Fargate task without a CPU architecture",
        delete_in(["runtimePlatform", "cpuArchitecture"]),
        {("ECS051", "$.runtimePlatform.cpuArchitecture")},
    ),
    (
        "DescribeTaskDefinition output fields",
        lambda t: t.update(revision=3, status="ACTIVE"),
        {("ECS006", "$.revision"), ("ECS006", "$.status")},
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [c[1:] for c in TASK_CORPUS], ids=[c[0] for c in TASK_CORPUS]
)
def test_broken_task_definition(
    good: Definitions, mutate: Callable[[Doc], None], expected: set[tuple[str, str]]
) -> None:
    task = copy.deepcopy(good.task)
    mutate(task)
    findings = lint(dataclasses.replace(good, task=task))
    assert {(f.rule, f.path) for f in findings} == expected


def test_image_built_for_another_architecture(good: Definitions) -> None:
    findings = lint(good, LintOptions(image_architectures=frozenset({"X86_64"})))
    assert [(f.rule, f.path) for f in findings] == [("ECS050", "$.runtimePlatform.cpuArchitecture")]
    assert lint(good, LintOptions(image_architectures=frozenset({"X86_64", "ARM64"}))) == []


def test_ecspresso_version_too_old_for_hooks(good: Definitions) -> None:
    for constraint, expected in [
        (None, 1),
        (">= 2.0.0", 1),
        ("<= 2.7.0", 1),
        (">= 2.6.0, < 4", 1),
        (">= 2.8.5", 1),
        (f">= {ECSPRESSO_RELEASE}", 0),
        (">= 2.8.7, < 4", 0),
        ("~> 3.0", 0),
    ]:
        config = dataclasses.replace(good.config, required_version=constraint)
        findings = lint(dataclasses.replace(good, config=config))
        assert [f.rule for f in findings] == ["ECS040"] * expected, constraint


# AWS's approval sample reads its bucket from hookDetails: "custom parameters that Amazon ECS passes to
# your Lambda function" (API reference, DeploymentLifecycleHook), the hook author's own keys.
AWS_SAMPLE_KEYS = {"S3_BUCKET_NAME": "approvals", "smokeTest": {"timeoutSeconds": "5"}}
# A function of the stack not built on ecs_bg (tests/fixtures/sample_hooks: app.lambda_handler).
SAMPLE = LambdaFunction("sample-approval", ROOT / "tests" / "fixtures" / "sample_hooks", "app.lambda_handler")
NOWHERE = "arn:aws:lambda:ap-northeast-1:123456789012:function:somebody-elses"


def hook_details_findings(
    good: Definitions, options: LintOptions, arn: str, details: object
) -> list[Finding]:
    """ECS025's findings for hook 2 targeting ``arn`` with ``details``."""
    service = copy.deepcopy(good.service)
    hooks(service)[2].update(hookTargetArn=arn, hookDetails=details)
    return [f for f in lint(dataclasses.replace(good, service=service), options) if f.rule == "ECS025"]


@pytest.fixture(scope="module")
def with_sample(stack: LintOptions) -> LintOptions:
    return LintOptions(functions={**stack.functions, SAMPLE.name: SAMPLE})


@pytest.mark.parametrize(
    "arn", [NOWHERE, f"arn:aws:lambda:ap-northeast-1:123456789012:function:{SAMPLE.name}"]
)
def test_a_hook_not_built_on_ecs_bg_or_of_no_known_function_keeps_its_own_keys(
    good: Definitions, with_sample: LintOptions, arn: str
) -> None:
    # Even a key that an ecs_bg hook would read as its smoke test is this hook's own business.
    assert hook_details_findings(good, with_sample, arn, AWS_SAMPLE_KEYS) == []
    # 60 KiB: more than an ecs_bg hook leaves room for beside its runtime state, which this one has not.
    large = {"S3_BUCKET_NAME": "x" * (MAX_HOOK_DETAILS_BYTES - STATE_BUDGET_BYTES)}
    assert hook_details_findings(good, with_sample, arn, large) == []


@pytest.mark.parametrize(
    "arn", [NOWHERE, f"arn:aws:lambda:ap-northeast-1:123456789012:function:{SAMPLE.name}"]
)
def test_every_hooks_hook_details_are_an_object_that_fits_a_lambda_invocation(
    good: Definitions, with_sample: LintOptions, arn: str
) -> None:
    (array,) = hook_details_findings(good, with_sample, arn, ["S3_BUCKET_NAME"])
    assert (array.path, array.message) == (
        f"{HOOKS}[2].hookDetails",
        "expected an object (or a JSON string holding one), got array",
    )
    huge = {"S3_BUCKET_NAME": "x" * LAMBDA_SYNC_PAYLOAD_BYTES}
    (too_large,) = hook_details_findings(good, with_sample, arn, huge)
    assert too_large.path == f"{HOOKS}[2].hookDetails"
    assert too_large.message.startswith(f"hookDetails is {LAMBDA_SYNC_PAYLOAD_BYTES + 22} bytes as JSON")
    assert "Lambda takes at most 6291456 bytes in a synchronous invocation" in too_large.message


def test_a_hook_built_on_ecs_bg_is_judged_by_its_own_code(good: Definitions, stack: LintOptions) -> None:
    arn = json.loads(FIXTURE_OUTPUTS.read_text())["zenn-ecs-cdk-ecspresso"]["BeforeAllowTrafficHookArn"]
    findings = hook_details_findings(good, stack, arn, AWS_SAMPLE_KEYS)
    assert [(f.path, f.message.split(";")[0]) for f in findings] == [
        (f"{HOOKS}[2].hookDetails.S3_BUCKET_NAME", "unknown key"),
        (f"{HOOKS}[2].hookDetails.smokeTest.timeoutSeconds", "expected a number, got '5'"),
    ]
