"""What the local endpoint serves: requests from this machine's AWS tools, never a web page's.

``ecs-bg local`` answers on 127.0.0.1, and its RunTask runs a command as the user. Every web page the
user opens can send requests to 127.0.0.1 as well, so three checks come before any answer
(LocalStack checks origins for the same reason, extended with ``EXTRA_CORS_ALLOWED_ORIGINS``):

- ``Host`` names this endpoint: 127.0.0.1, localhost or [::1], with its port. A page whose own host
  name is made to resolve to 127.0.0.1 (DNS rebinding) is same-origin with itself, so neither CORS
  nor the Origin check would stop it; its ``Host`` header still names its own site. The set of names
  can grow (``admit``): containers on the Docker bridge will reach the endpoint at its gateway.
- ``Origin``, which a browser sends with every cross-origin request and every POST, is the endpoint's
  own or one the user allows (``--allow-origin``, ``ECS_BG_EXTRA_CORS_ALLOWED_ORIGINS``). A CORS
  preflight gets a grant only for an allowed extra origin: by default, no page may read an answer or
  send the headers an AWS request needs. The CORS headers moto adds to its answers never pass.
- ``Authorization`` is a Signature Version 4 header, as every AWS SDK and the AWS CLI send it: its
  form is checked, not its key or its signature's value (any key signs here). A form, an ``<img>`` or
  a link cannot set a header, and a script can set this one only after a preflight that the Origin
  check refuses. Query-string (presigned) authentication is refused: a link could carry it.

A refusal is answered as AWS answers an unauthenticated request, in the request's protocol, and
told on stderr once per kind, so that the user of a refused tool sees why.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from aiohttp import web

EXTRA_ORIGINS_ENV = "ECS_BG_EXTRA_CORS_ALLOWED_ORIGINS"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# What a browser may send across origins once a page is allowed: the headers AWS SDKs sign and send
# (the AWS SDK for JavaScript v3: authorization, content-type, x-amz-date, x-amz-target,
# x-amz-security-token, x-amz-content-sha256, x-amz-user-agent, amz-sdk-invocation-id,
# amz-sdk-request), and the answer headers they read (request id, error type, CBOR's protocol).
_CORS_REQUEST_HEADER = re.compile(
    r"authorization|content-type|x-amz-[a-z0-9-]+|amz-sdk-[a-z0-9-]+|smithy-protocol"
)
_CORS_METHODS = "GET, HEAD, POST, PUT, DELETE, PATCH"
_CORS_EXPOSED = (
    "x-amzn-requestid, x-amzn-errortype, x-amzn-query-error, x-amz-request-id, x-amz-id-2, "
    "smithy-protocol, date, etag"
)
# SigV4 and SigV2 authentication in the query string ("Authentication methods", IAM user guide,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-authentication-methods.html).
_QUERY_AUTHENTICATION = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "AWSAccessKeyId")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")  # HMAC-SHA256 in lowercase hexadecimal
_CREDENTIAL = re.compile(r"[^/\s]+/\d{8}/[a-z0-9-]+/[a-z0-9-]+/aws4_request")  # key/date/region/service/…
_HEADER_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")


def origin(value: str) -> str:
    """``value`` as a browser sends an Origin: ``scheme://host[:port]``, lowercase, nothing after it.
    ValueError for anything else (a path, a wildcard, no scheme)."""
    text = value.strip().lower().removesuffix("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise ValueError(f"{value!r} is not an origin: scheme://host[:port], as http://localhost:3000")
    return text


def extra_origins(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The origins ``ECS_BG_EXTRA_CORS_ALLOWED_ORIGINS`` allows (comma-separated, as LocalStack's
    ``EXTRA_CORS_ALLOWED_ORIGINS``); ValueError naming the variable for a malformed one."""
    found = []
    for item in environ.get(EXTRA_ORIGINS_ENV, "").split(","):
        if item.strip():
            try:
                found.append(origin(item))
            except ValueError as error:
                raise ValueError(f"{EXTRA_ORIGINS_ENV}: {error}") from None
    return tuple(found)


@dataclass(frozen=True)
class Refusal:
    """A request refused, with AWS's code for it in each protocol. MissingAuthenticationToken is 403
    and IncompleteSignature 400 or 403 in the "Common Errors" of AWS's API references (e.g.
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html); JSON services name
    them ``…Exception`` and a signature that does not match ``InvalidSignatureException``, query
    services ``SignatureDoesNotMatch``. Every refusal here is 403: none is the client's to retry."""

    kind: str  # what is told on stderr once
    json_code: str
    query_code: str
    message: str
    status: int = 403


class RequestPolicy:
    def __init__(self, extra_origins: Iterable[str] = (), names: Iterable[str] = LOOPBACK_NAMES) -> None:
        self.port = 0  # the endpoint's, once it listens
        self.names = [name.lower() for name in names]
        self.extra_origins = frozenset(origin(value) for value in extra_origins)
        self._told: set[str] = set()

    def admit(self, name: str) -> None:
        """Serve requests addressed to ``name`` (an address, ``[…]`` for IPv6, or a host name) on the
        endpoint's port too, and from pages of its origin."""
        if name.lower() not in self.names:
            self.names.append(name.lower())

    @property
    def hosts(self) -> frozenset[str]:
        """The ``Host`` values served: each name with the port (alone as well on port 80, HTTP's default)."""
        hosts = {f"{name}:{self.port}" for name in self.names}
        return frozenset(hosts | set(self.names) if self.port == 80 else hosts)

    @property
    def own_origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}" for host in self.hosts)

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        page = request.headers.get("Origin")
        granted = page if page in self.extra_origins else None
        refusal = self._refusal(request, page)
        if refusal is None and _preflight(request):
            if granted is None:  # the endpoint's own origins included: it serves no page of its own
                refusal = _refused_origin(page, "no CORS is granted to it")
            else:
                return _preflight_grant(request, granted)
        if refusal is not None:
            self._tell(request, refusal)
            response: web.StreamResponse = _refusal_answer(request, refusal)
        else:
            response = await handler(request)
            for name in [name for name in response.headers if name.lower().startswith("access-control-")]:
                del response.headers[name]  # moto's grant to any origin
        if granted is not None:
            response.headers["Access-Control-Allow-Origin"] = granted
            response.headers["Access-Control-Expose-Headers"] = _CORS_EXPOSED
            response.headers["Vary"] = "Origin"
        return response

    def _refusal(self, request: web.Request, page: str | None) -> Refusal | None:
        host = request.headers.get("Host", "").strip().lower()
        if host not in self.hosts:
            served = ", ".join(sorted(self.hosts))
            return Refusal(
                "host",
                "AccessDeniedException",
                "AccessDenied",
                f"ecs-bg local answers requests addressed to {served}, not to Host {host!r}",
            )
        if page is not None and page not in self.own_origins | self.extra_origins:
            return _refused_origin(page, "not an allowed origin")
        if _preflight(request):
            return None  # it never carries credentials: judged by its origin alone
        return _signature_refusal(request)

    def _tell(self, request: web.Request, refusal: Refusal) -> None:
        if refusal.kind in self._told:
            return
        self._told.add(refusal.kind)
        agent = request.headers.get("User-Agent", "no User-Agent")
        print(
            f"ecs-bg local: refused {request.method} {request.path} ({agent}): {refusal.query_code}: "
            f"{refusal.message} (said once; later refusals of this kind are answered, not told)",
            file=sys.stderr,
            flush=True,
        )


def _preflight(request: web.Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def _refused_origin(page: str | None, why: str) -> Refusal:
    return Refusal(
        "origin",
        "AccessDeniedException",
        "AccessDenied",
        f"Origin {page!r}: {why}; allow a page's origin with `ecs-bg local --allow-origin ORIGIN` or "
        f"{EXTRA_ORIGINS_ENV}",
    )


def _preflight_grant(request: web.Request, granted: str) -> web.Response:
    """The CORS preflight answer for an allowed origin: the methods AWS's APIs use and, of the headers
    the page asks for, those AWS SDKs send (the browser refuses the request if it asks for others)."""
    asked = request.headers.get("Access-Control-Request-Headers", "")
    names = (name.strip() for name in asked.split(","))
    allowed = [name for name in names if _CORS_REQUEST_HEADER.fullmatch(name.lower())]
    return web.Response(
        status=200,
        headers={
            "Access-Control-Allow-Origin": granted,
            "Access-Control-Allow-Methods": _CORS_METHODS,
            "Access-Control-Allow-Headers": ", ".join(allowed),
            "Access-Control-Max-Age": "600",
            "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        },
    )


def _signature_refusal(request: web.Request) -> Refusal | None:
    """Why the request's authentication is refused, None if its Authorization header has SigV4's form:
    ``AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=…,
    Signature=<64 hex digits>`` ("Authentication methods", IAM user guide), with the host header
    among the signed ones and an X-Amz-Date or Date header ("Create a signed AWS API request", IAM
    user guide, https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html)."""
    if any(name in request.query for name in _QUERY_AUTHENTICATION):
        return Refusal(
            "presigned",
            "MissingAuthenticationTokenException",
            "MissingAuthenticationToken",
            "ecs-bg local does not take query-string (presigned) authentication, which a link could "
            "carry: sign with the Authorization header, as AWS SDKs and the AWS CLI do",
        )
    header = request.headers.get("Authorization")
    if header is None:
        return Refusal(
            "unsigned",
            "MissingAuthenticationTokenException",
            "MissingAuthenticationToken",
            "Missing Authentication Token: ecs-bg local answers requests signed with Signature Version 4 "
            "in the Authorization header (any key: AWS_ACCESS_KEY_ID=local), as AWS SDKs and the AWS CLI "
            "sign them",
        )
    algorithm, _, rest = header.strip().partition(" ")
    fields = {}
    for part in rest.split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = value
    problems = []
    if algorithm != "AWS4-HMAC-SHA256":
        problems.append(f"Authorization header must start with AWS4-HMAC-SHA256, not {algorithm[:40]!r}.")
    for name in ("Credential", "SignedHeaders", "Signature"):
        if name not in fields:
            problems.append(f"Authorization header requires '{name}' parameter.")
    if "Credential" in fields and not _CREDENTIAL.fullmatch(fields["Credential"]):
        problems.append("Credential must be <key>/<yyyymmdd>/<region>/<service>/aws4_request.")
    signed = fields.get("SignedHeaders", "").split(";")
    if "SignedHeaders" in fields and not all(_HEADER_NAME.fullmatch(name) for name in signed):
        problems.append("SignedHeaders must be lowercase header names separated by ';'.")
    elif "SignedHeaders" in fields and "host" not in signed:
        problems.append("SignedHeaders must include 'host'.")
    if "X-Amz-Date" not in request.headers and "Date" not in request.headers:
        problems.append("Authorization header requires either a 'X-Amz-Date' or a 'Date' header.")
    if problems:
        message = " ".join(problems)
        return Refusal("incomplete", "IncompleteSignatureException", "IncompleteSignature", message)
    if not _SIGNATURE.fullmatch(fields["Signature"]):
        return Refusal(
            "signature",
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided: "
            "a Signature Version 4 signature is 64 lowercase hexadecimal digits",
        )
    return None


def _refusal_answer(request: web.Request, refusal: Refusal) -> web.Response:
    """The refusal in the request's protocol: the JSON protocol's ``{"__type", "message"}``, CBOR's
    same map (smithy RPC v2), the query protocol's ErrorResponse; a REST request gets the XML error
    S3 answers with, its code also in ``x-amzn-ErrorType`` where REST-JSON clients read it."""
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    content_type = request.headers.get("Content-Type", "")
    document = {"__type": refusal.json_code, "message": refusal.message}
    if request.headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        headers["smithy-protocol"] = "rpc-v2-cbor"
        return web.Response(
            status=refusal.status, body=_cbor(document), content_type="application/cbor", headers=headers
        )
    if "X-Amz-Target" in request.headers or content_type.startswith("application/x-amz-json"):
        json_type = content_type if content_type.startswith("application/x-amz-json") else ""
        return web.Response(
            status=refusal.status,
            body=json.dumps(document),
            content_type=json_type.split(";")[0] or "application/x-amz-json-1.1",
            headers=headers,
        )
    error = f"<Code>{escape(refusal.query_code)}</Code><Message>{escape(refusal.message)}</Message>"
    if "Action" in request.query or content_type.startswith("application/x-www-form-urlencoded"):
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return web.Response(status=refusal.status, body=xml, content_type="text/xml", headers=headers)
    headers["x-amzn-ErrorType"] = refusal.json_code
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{error}<RequestId>{request_id}</RequestId></Error>'
    return web.Response(status=refusal.status, body=xml, content_type="application/xml", headers=headers)


def _cbor(document: Mapping[str, str]) -> bytes:
    """A map of text to text in CBOR (RFC 8949: major type 5, its keys and values major type 3)."""

    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        size = 1 if length < 0x100 else 2 if length < 0x10000 else 4
        return bytes([major << 5 | {1: 24, 2: 25, 4: 26}[size]]) + length.to_bytes(size, "big")

    encoded = bytearray(head(5, len(document)))
    for text in (item for pair in document.items() for item in pair):
        data = text.encode()
        encoded += head(3, len(data)) + data
    return bytes(encoded)
