"""AWS clients for the checks, and AWS errors turned into reasons an operator can act on.

Public for hooks and checks of your own: ``call`` and ``pages`` make one AWS call (every page of a
paginated one) and raise ``AwsCallFailed`` whose reason names the permission the role lacks on
AccessDenied; ``client`` is the cached boto3 client they use; ``error_code`` reads an error's code.

boto3 is imported on first use, never by the runtime itself: it costs ~400 ms of cold start.
Clients use botocore's "standard" retry mode, which retries throttling and transient errors with
backoff, and honour ``AWS_ENDPOINT_URL`` (the simulator's local AWS endpoint).
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

from ecs_bg.hooks.errors import AwsCallFailed as AwsCallFailed
from ecs_bg.hooks.log import redact

__all__ = ["AwsCallFailed", "call", "client", "describe_error", "error_code", "pages", "prepare"]

MAX_ATTEMPTS: Final = 5
_DENIED: Final = frozenset(
    {"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation"}
)
_SERVICE_PREFIX: Final = {"elbv2": "elasticloadbalancing", "cloudwatch": "cloudwatch"}


@cache
def client(service: str, region: str) -> Any:
    """A cached boto3 client; warm invocations reuse it."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS}, connect_timeout=5, read_timeout=20
    )
    return boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]


def prepare(*services: str) -> None:
    """Make now the clients a check's first run would make (a check's ``prepare``, called in the
    init phase when Lambda runs it ahead of the first invocation: see ``LifecycleHook``). The region
    is the function's own (``AWS_REGION``), where ECS invokes it; were a deployment's elsewhere, its
    run would make that region's client as it does without this."""
    region = os.environ.get("AWS_REGION")
    if region:
        for service in services:
            client(service, region)


def describe_error(error: Exception, service: str, operation: str) -> str:
    """One line saying what failed and, for AccessDenied, which permission the role lacks."""
    from botocore.exceptions import BotoCoreError, ClientError

    action = f"{_SERVICE_PREFIX.get(service, service)}:{operation}"
    if isinstance(error, ClientError):
        code = error_code(error)
        if code in _DENIED:
            return (
                f"{code} calling {action}: the hook function's role lacks this permission "
                "(the stack grants each hook the actions its checks need: see ecs_bg/hooks/permissions.py)"
            )
        message = error.response.get("Error", {}).get("Message", "")
        return redact(f"{code} calling {action}: {message}".rstrip(": "))
    if isinstance(error, BotoCoreError):
        return redact(f"{action} failed: {error}")
    return redact(f"{action} failed: {type(error).__name__}: {error}")


def call(api: str, region: str, operation: str, /, **params: Any) -> Any:
    """``client(api, region).<operation>(**params)``, raising ``AwsCallFailed`` with a clear reason."""
    from botocore.exceptions import BotoCoreError, ClientError

    method = getattr(client(api, region), _snake(operation))
    try:
        return method(**params)
    except (ClientError, BotoCoreError) as error:
        raise AwsCallFailed(describe_error(error, api, operation), error_code(error)) from error


def pages(api: str, region: str, operation: str, /, **params: Any) -> list[dict[str, Any]]:
    """Every page of a paginated operation (boto3's own paginator), or ``AwsCallFailed``."""
    from botocore.exceptions import BotoCoreError, ClientError

    paginator = client(api, region).get_paginator(_snake(operation))
    try:
        return list(paginator.paginate(**params))
    except (ClientError, BotoCoreError) as error:
        raise AwsCallFailed(describe_error(error, api, operation), error_code(error)) from error


def error_code(error: Exception) -> str:
    """The AWS error code (AccessDeniedException, ParameterNotFound …), else the exception's type."""
    response: ClientError | Any = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return type(error).__name__


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
