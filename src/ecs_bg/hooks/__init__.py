"""The library inside the hook Lambdas: event model, response contract, handler, checks, errors.

Imports only the standard library, aws-lambda-powertools (its public layer) and, inside the
checks that need them, boto3/urllib3 from the Lambda runtime.
"""

from ecs_bg.hooks.checks import Check, register_check
from ecs_bg.hooks.config import CheckSettings
from ecs_bg.hooks.context import HookContext
from ecs_bg.hooks.errors import AwsCallFailed, CheckFailed, ConfigError, EventError, HookError, NotFound
from ecs_bg.hooks.event import DeploymentArn, HookEvent, Stage, parse_event
from ecs_bg.hooks.handler import LambdaContext, LifecycleHook
from ecs_bg.hooks.permissions import Permission
from ecs_bg.hooks.result import HookResult, HookStatus, Verdict, VerdictStatus

__all__ = [
    "AwsCallFailed",
    "Check",
    "CheckFailed",
    "CheckSettings",
    "ConfigError",
    "DeploymentArn",
    "EventError",
    "HookContext",
    "HookError",
    "HookEvent",
    "HookResult",
    "HookStatus",
    "LambdaContext",
    "LifecycleHook",
    "NotFound",
    "Permission",
    "Stage",
    "Verdict",
    "VerdictStatus",
    "parse_event",
    "register_check",
]
