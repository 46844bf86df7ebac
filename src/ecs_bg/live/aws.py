"""The ECS client for live commands, and AWS's failures turned into one line a person can act on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

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
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_logs import CloudWatchLogsClient


class AwsFailure(Exception):
    """AWS could not be asked, or said no: the message is the whole story, no traceback needed."""


@dataclass(frozen=True)
class Connection:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None  # None: boto3's own resolution, AWS_ENDPOINT_URL included
    # A session is not thread-safe, its clients are: they are made under the lock.
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def ecs(self) -> ECSClient:
        return self._client("ecs")  # type: ignore[no-any-return]

    def logs(self) -> CloudWatchLogsClient:
        return self._client("logs")  # type: ignore[no-any-return]

    def cloudwatch(self) -> CloudWatchClient:
        return self._client("cloudwatch")  # type: ignore[no-any-return]

    def elbv2(self) -> ElasticLoadBalancingv2Client:
        return self._client("elbv2")  # type: ignore[no-any-return]

    def _client(self, service: str) -> Any:
        with aws_errors(), self._lock:
            return self._session.client(service, endpoint_url=self.endpoint_url, config=_CONFIG)  # type: ignore[call-overload]

    @cached_property
    def _session(self) -> boto3.Session:
        """One session for all of a command's clients: each new session would read botocore's endpoint
        data and its service's model from disk again (0.1 to 0.3 s of CPU a client)."""
        return boto3.Session(profile_name=self.profile, region_name=self.region)


# A watch polls for an hour: keep each call short and let the next poll retry rather than hang.
_CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})


@contextmanager
def aws_errors(prefix: str = "ecs") -> Iterator[None]:
    """Translate what boto3 raises into ``AwsFailure`` with the fix in the message; ``prefix`` is
    the IAM service prefix of the calls inside (ecs, logs, cloudwatch, elasticloadbalancing)."""
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
        raise AwsFailure(f"cannot reach the AWS endpoint {error.kwargs.get('endpoint_url', '')}") from None
    except ClientError as error:
        raise AwsFailure(_client_error(error, prefix)) from None
    except BotoCoreError as error:
        raise AwsFailure(str(error)) from None


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def is_access_denied(error: ClientError) -> bool:
    code = error_code(error)
    return code.startswith("AccessDenied") or code == "UnauthorizedOperation"


def _client_error(error: ClientError, prefix: str) -> str:
    code = error_code(error)
    message = error.response.get("Error", {}).get("Message", "")
    called = f"{prefix}:{error.operation_name}"  # the IAM action, e.g. logs:FilterLogEvents
    if is_access_denied(error):
        return f"access denied calling {called}: grant it to the caller ({message})"
    if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"):
        return (
            f"AWS rejected the credentials calling {called} ({code}): refresh them or pick another --profile"
        )
    return f"{code} calling {called}: {message}"
