"""The ECS client for live commands, and AWS's failures turned into one line a person can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient


class AwsFailure(Exception):
    """AWS could not be asked, or said no: the message is the whole story, no traceback needed."""


@dataclass(frozen=True)
class Connection:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None  # None: boto3's own resolution, AWS_ENDPOINT_URL included


# A watch polls for an hour: keep each call short and let the next poll retry rather than hang.
_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})


def ecs_client(connection: Connection) -> ECSClient:
    with aws_errors():
        session = boto3.Session(profile_name=connection.profile, region_name=connection.region)
        return session.client("ecs", endpoint_url=connection.endpoint_url, config=_CONFIG)


@contextmanager
def aws_errors() -> Iterator[None]:
    """Translate what boto3 raises into ``AwsFailure`` with the fix in the message."""
    try:
        yield
    except NoCredentialsError:
        raise AwsFailure(
            "no AWS credentials found: pass --profile, or set AWS_PROFILE "
            "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        ) from None
    except NoRegionError:
        raise AwsFailure("no AWS region: pass --region or set AWS_REGION") from None
    except ProfileNotFound as error:
        raise AwsFailure(f"{error}: check --profile and ~/.aws/config") from None
    except EndpointConnectionError as error:
        raise AwsFailure(f"cannot reach the ECS endpoint {error.kwargs.get('endpoint_url', '')}") from None
    except ClientError as error:
        raise AwsFailure(_client_error(error)) from None
    except BotoCoreError as error:
        raise AwsFailure(str(error)) from None


def _client_error(error: ClientError) -> str:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    operation = error.operation_name
    if code.startswith("AccessDenied") or code == "UnauthorizedOperation":
        return f"access denied calling ecs:{operation}: grant it to the caller ({message})"
    if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"):
        return (
            f"AWS rejected the credentials calling ecs:{operation} ({code}): "
            "refresh them or pick another --profile"
        )
    return f"{code} calling ecs:{operation}: {message}"
