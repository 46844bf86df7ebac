"""Reading a value kept in Secrets Manager (by name or ARN) or SSM Parameter Store (by name or ARN).

Powertools' parameters utility does the reading and caches each value for
``POWERTOOLS_PARAMETERS_MAX_AGE`` seconds (5 by default), so a warm function does not ask again
for every message. It imports boto3, so it is imported on the first lookup, never with the check.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Final

from ecs_bg.hooks.aws import AwsCallFailed, client, describe_error, error_code

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters.base import BaseProvider

SSM_ARN: Final = re.compile(r"^arn:aws[a-z-]*:ssm:(?P<region>[a-z0-9-]+):\d+:parameter/.+$")
SECRET_ARN: Final = re.compile(r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):\d+:secret:.+$")


def is_parameter(reference: str) -> bool:
    """An SSM parameter name ("/…") or ARN; anything else names a Secrets Manager secret."""
    return reference.startswith("/") or SSM_ARN.match(reference) is not None


def describe(reference: str) -> str:
    return f"SSM parameter {reference}" if is_parameter(reference) else f"secret {reference}"


def read(reference: str, default_region: str) -> str:
    """The secret's string or the parameter's value (a SecureString decrypted), or ``AwsCallFailed``.

    An ARN's own region is used; a name is looked up in ``default_region``.
    """
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    if is_parameter(reference):
        service, operation, pattern = "ssm", "GetParameter", SSM_ARN
    else:
        service, operation, pattern = "secretsmanager", "GetSecretValue", SECRET_ARN
    match = pattern.match(reference)
    provider = _provider(service, client(service, match["region"] if match else default_region))
    try:
        if isinstance(provider, SSMProvider):
            value = provider.get(reference, decrypt=True)
        else:
            value = provider.get(reference)
    except GetParameterError as error:
        # Powertools wraps the SDK's error; the original says which permission or resource is at fault.
        cause = error.__context__ if isinstance(error.__context__, Exception) else error
        raise AwsCallFailed(describe_error(cause, service, operation), error_code(cause)) from None
    return value.decode() if isinstance(value, bytes) else str(value or "")


@functools.cache
def _provider(service: str, boto3_client: Any) -> BaseProvider:
    """One provider (and its cache) per client: the hook's own clients, with their retries and endpoint."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

    if service == "ssm":
        return SSMProvider(boto3_client=boto3_client)
    return SecretsProvider(boto3_client=boto3_client)
