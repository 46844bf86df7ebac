"""Raw HTTP to the local endpoint, signed as an SDK signs it (Signature Version 4, any key): the
endpoint refuses an unsigned request (ecs_bg.local.request_policy)."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY = Credentials("local", "local")


def signed_headers(
    method: str,
    url: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    *,
    service: str = "ecs",
    region: str = "us-east-1",
) -> dict[str, str]:
    """``headers`` with the SigV4 ones botocore adds (Authorization, X-Amz-Date, …) for this request."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(KEY, service, region).add_auth(request)
    return dict(request.headers.items())


def signed_request(
    method: str, url: str, body: bytes = b"", headers: Mapping[str, str] | None = None, **scope: str
) -> urllib.request.Request:
    """A urllib request signed as an SDK would sign it."""
    return urllib.request.Request(
        url, data=body or None, headers=signed_headers(method, url, body, headers, **scope), method=method
    )
