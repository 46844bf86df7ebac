"""The runtime inside the hook Lambdas: event model, response contract, handler wrapper, checks.

Imports only the standard library, aws-lambda-powertools (its public layer) and, inside the
checks that need them, boto3/urllib3 from the Lambda runtime.
"""

from ecs_bg.hooks.config import CheckSettings, ConfigError
from ecs_bg.hooks.event import DeploymentArn, EventError, HookEvent, Stage, parse_event
from ecs_bg.hooks.result import CheckFailed, HookResult, HookStatus, Verdict, VerdictStatus
from ecs_bg.hooks.runtime import HookContext, LambdaContext, LifecycleHook

__all__ = [
    "CheckFailed",
    "CheckSettings",
    "ConfigError",
    "DeploymentArn",
    "EventError",
    "HookContext",
    "HookEvent",
    "HookResult",
    "HookStatus",
    "LambdaContext",
    "LifecycleHook",
    "Stage",
    "Verdict",
    "VerdictStatus",
    "parse_event",
]
