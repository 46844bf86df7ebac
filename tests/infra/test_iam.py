"""Trust policies and least privilege: every grant scoped to this stack's resources."""

from __future__ import annotations

from typing import Any

import pytest

from ecs_bg.hooks.permissions import DEFAULT_HOOK_CHECKS, permissions_for

from .conftest import Synthesized

pytestmark = pytest.mark.slow

HOOK_MODULES = [
    "before_install_hook",
    "after_install_hook",
    "before_allow_traffic_hook",
    "after_allow_traffic_hook",
]
SEED_ACTIONS = {
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "ecs:DescribeTasks",
    "elasticloadbalancing:DescribeTargetHealth",
    "cloudwatch:PutMetricData",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
}
# The only actions that may be granted on "*": IAM offers no resource-level permissions for them, or
# (ListTasks) only with a condition that holds them to this stack's resources.
UNSCOPABLE = {
    "ecs:DescribeTaskDefinition",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTargetGroups",
    "cloudwatch:GetMetricData",
    "cloudwatch:PutMetricData",
    "ecs:ListTasks",
}


ECS_PREFIX = "arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:"
SERVICE = f"{ECS_PREFIX}service/ecs-bg-dev/ecs-bg-app"


def assert_service_deployment_reads(by_action: dict[str, list[str]]) -> None:
    """AWS's least-privilege example: all three actions on the service, its deployments and revisions."""
    for action in (
        "ecs:ListServiceDeployments",
        "ecs:DescribeServiceDeployments",
        "ecs:DescribeServiceRevisions",
    ):
        assert by_action[action] == [
            SERVICE,
            f"{ECS_PREFIX}service-deployment/ecs-bg-dev/ecs-bg-app/*",
            f"{ECS_PREFIX}service-revision/ecs-bg-dev/ecs-bg-app/*",
        ]


def _trusted_service(role: dict[str, Any]) -> str:
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    return statement["Principal"]["Service"]  # type: ignore[no-any-return]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(app: Synthesized, role_path: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the role at ``role_path``."""
    role_id = app.logical_id(f"{role_path}/Resource")
    role = app.resource(role_id)
    statements = [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for policy in app.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in _as_list(s["Action"])}


def test_hook_invoke_role_may_only_invoke_the_hook_functions(default_app: Synthesized) -> None:
    role = default_app.resource(default_app.logical_id("BlueGreenRoles/HookInvokeRole/Resource"))
    assert _trusted_service(role) == "ecs.amazonaws.com"
    assert "ManagedPolicyArns" not in role["Properties"]
    [statement] = _statements(default_app, "BlueGreenRoles/HookInvokeRole")
    assert statement["Action"] == "lambda:InvokeFunction"
    functions = [{"Fn::GetAtt": [default_app.logical_id(f"Hooks/{m}/Resource"), "Arn"]} for m in HOOK_MODULES]
    assert sorted(map(str, statement["Resource"])) == sorted(map(str, functions))


def test_load_balancer_role_has_only_the_managed_policy(default_app: Synthesized) -> None:
    role = default_app.resource(default_app.logical_id("BlueGreenRoles/LoadBalancerRole/Resource"))
    assert _trusted_service(role) == "ecs.amazonaws.com"
    [policy] = role["Properties"]["ManagedPolicyArns"]
    assert policy["Fn::Join"][1][-1] == ":iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
    assert _statements(default_app, "BlueGreenRoles/LoadBalancerRole") == []


def test_task_roles_are_trusted_by_ecs_tasks(default_app: Synthesized) -> None:
    for path in ("Ecs/TaskExecutionRole/Resource", "Ecs/TaskRole/Resource"):
        assert (
            _trusted_service(default_app.resource(default_app.logical_id(path))) == "ecs-tasks.amazonaws.com"
        )
    assert _statements(default_app, "Ecs/TaskRole") == []
    assert _actions(_statements(default_app, "Ecs/TaskExecutionRole")) == {
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


@pytest.mark.parametrize("module", HOOK_MODULES)
def test_hook_role_grants_the_seed_list_plus_its_checks(default_app: Synthesized, module: str) -> None:
    role = default_app.resource(default_app.logical_id(f"Hooks/{module}Role/Resource"))
    assert _trusted_service(role) == "lambda.amazonaws.com"
    assert "ManagedPolicyArns" in role["Properties"]  # only the VPC access policy, hooks are in the VPC
    checks = DEFAULT_HOOK_CHECKS[module.removesuffix("_hook")]
    expected = SEED_ACTIONS | {a for p in permissions_for(checks) for a in p.actions}
    assert _actions(_statements(default_app, f"Hooks/{module}Role")) == expected


def test_hook_roles_use_wildcards_only_where_iam_has_no_resources(any_app: Synthesized) -> None:
    for module in HOOK_MODULES:
        for statement in _statements(any_app, f"Hooks/{module}Role"):
            if "*" in _as_list(statement["Resource"]):
                assert set(_as_list(statement["Action"])) <= UNSCOPABLE, statement
            if statement["Action"] == "cloudwatch:PutMetricData":
                assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "EcsBlueGreen"}}
            if statement["Action"] == "ecs:ListTasks":
                cluster = {"Fn::GetAtt": [any_app.logical_id("Ecs/Cluster/Resource"), "Arn"]}
                assert statement["Condition"] == {"ArnEquals": {"ecs:cluster": cluster}}


def _joined(value: Any) -> str:
    """A resource ARN as text, tokens written as <Ref> so the test can read it."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    return "".join(_joined(part) for part in value["Fn::Join"][1])


def _resources_by_action(statements: list[dict[str, Any]]) -> dict[str, list[str]]:
    by_action: dict[str, list[str]] = {}
    for statement in statements:
        for action in _as_list(statement["Action"]):
            by_action.setdefault(action, []).extend(_joined(r) for r in _as_list(statement["Resource"]))
    return by_action


def test_hook_permissions_are_scoped_to_this_cluster_and_service(default_app: Synthesized) -> None:
    statements = _statements(default_app, "Hooks/after_install_hookRole")
    by_action = _resources_by_action(statements)
    assert by_action["ecs:DescribeServices"] == [SERVICE]
    assert_service_deployment_reads(by_action)
    assert by_action["ecs:ListTasks"] == ["*"]
    assert by_action["ecs:DescribeTasks"] == [f"{ECS_PREFIX}task/ecs-bg-dev/*"]
    assert by_action["ecs:RunTask"] == [f"{ECS_PREFIX}task-definition/ecs-bg-app:*"]
    [pass_role] = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
    assert sorted(_joined(r) for r in pass_role["Resource"]) == sorted(
        f"<{default_app.logical_id(p)}.Arn>"
        for p in ("Ecs/TaskRole/Resource", "Ecs/TaskExecutionRole/Resource")
    )


def test_hook_checks_from_context_extend_a_hooks_permissions(variant_app: Synthesized) -> None:
    # VARIANT_CONTEXT adds "approval" to before_install, with an approval bucket.
    statements = _statements(variant_app, "Hooks/before_install_hookRole")
    by_action = _resources_by_action(statements)
    assert (
        "arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/ecs-bg/dev/approvals/*"
        in (by_action["ssm:GetParameter"])
    )
    assert by_action["s3:GetObject"] == [
        "arn:<AWS::Partition>:s3:::example-approvals",
        "arn:<AWS::Partition>:s3:::example-approvals/*",
    ]
    # Webhook URLs: the stack's secrets in Secrets Manager, or parameters named alike in SSM.
    assert by_action["secretsmanager:GetSecretValue"] == [
        f"<{variant_app.logical_id(f'Notifications/{name}WebhookSecret/Resource')}>"
        for name in ("Slack", "Teams")
    ]
    assert (
        "arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/ecs-bg/dev/*-webhook-url"
        in by_action["ssm:GetParameter"]
    )
    # Only before_install got the approval check.
    assert "s3:GetObject" not in _actions(_statements(variant_app, "Hooks/after_install_hookRole"))
