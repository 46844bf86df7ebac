"""The endpoint's request policy over real HTTP, in front of a stand-in for what it guards (an
answer that carries moto's permissive CORS headers): what a web page, a rebinding site or an unsigned
client sends is refused as AWS refuses it, in the request's protocol, and told once per kind; what an
SDK sends passes; an allowed extra origin gets a proper CORS answer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import pytest
from aiohttp import web
from botocore.parsers import create_parser

from ecs_bg.local.request_policy import EXTRA_ORIGINS_ENV, RequestPolicy, extra_origins, origin
from tests.local.raw_http import Answer, background_loop, send
from tests.sigv4 import signed_headers

ALLOWED = "http://localhost:5173"
EVIL = "https://evil.example"
TARGET = "AmazonEC2ContainerServiceV20141113.ListClusters"
JSON = {"X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"}
SDK_PREFLIGHT_HEADERS = (
    "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-content-sha256,x-amz-date,"
    "x-amz-security-token,x-amz-target,x-amz-user-agent"
)


@dataclass
class Guarded:
    """The policy in front of a handler that counts what reaches it."""

    url: str
    policy: RequestPolicy
    reached: list[str] = field(default_factory=list)

    def sdk(self, body: bytes = b"{}", headers: dict[str, str] | None = None, **scope: str) -> dict[str, str]:
        """Headers as an SDK sends them to this server: signed (any key)."""
        return signed_headers("POST", self.url + "/", body, {**JSON, **(headers or {})}, **scope)


@contextmanager
def guarded(extra: tuple[str, ...] = ()) -> Iterator[Guarded]:
    with background_loop() as loop:
        policy = RequestPolicy(extra)
        state = Guarded("", policy)

        async def handler(request: web.Request) -> web.Response:
            state.reached.append(f"{request.method} {request.path}")
            # What moto answers: any origin, any header.
            cors = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "x-amz-target"}
            return web.Response(text="served", headers=cors)

        async def start() -> web.AppRunner:
            app = web.Application(middlewares=[policy.middleware])
            app.router.add_route("*", "/{tail:.*}", handler)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            policy.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            return runner

        runner = loop.run(start())
        state.url = f"http://127.0.0.1:{policy.port}"
        try:
            yield state
        finally:
            loop.run(runner.cleanup())


def parsed_error(answer: Answer, service: str) -> dict[str, Any]:
    """The error as botocore's own parser for ``service``'s protocol reads it."""
    model = botocore.session.get_session().get_service_model(service)
    response = {"status_code": answer.status, "headers": answer.headers, "body": answer.body}
    error: dict[str, Any] = create_parser(model.protocol).parse(response, None)["Error"]
    return error


def test_an_sdk_request_passes_and_moto_s_cors_headers_never_do() -> None:
    with guarded() as server:
        answer = send(server.url, headers=server.sdk(), body=b"{}")
        assert (answer.status, answer.body) == (200, b"served")
        assert answer.cors == {}  # the guarded answer's "Access-Control-Allow-Origin: *" is gone
        for host in (f"localhost:{server.policy.port}", f"[::1]:{server.policy.port}"):
            assert send(server.url, headers={**server.sdk(), "Host": host}, body=b"{}").status == 200
        own = send(server.url, headers={**server.sdk(), "Origin": server.url}, body=b"{}")
        assert own.status == 200
        assert own.cors == {}  # its own origin is served, but no CORS is granted to it
        assert len(server.reached) == 4


def test_a_foreign_origin_preflight_gets_no_cors(capsys: pytest.CaptureFixture[str]) -> None:
    with guarded() as server:
        for page in (EVIL, "null", server.url, ALLOWED):  # own origin too: it serves no page to grant
            preflight = {
                "Origin": page,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-amz-target",
            }
            answer = send(server.url, "OPTIONS", headers=preflight)
            assert answer.status == 403, page
            assert answer.cors == {}, page
        assert server.reached == []
    told = capsys.readouterr().err.splitlines()
    assert len(told) == 1  # once per kind, however many pages tried
    assert "AccessDenied: Origin 'https://evil.example': not an allowed origin" in told[0]
    assert "--allow-origin" in told[0]


def test_a_foreign_origin_is_refused_even_when_signed() -> None:
    with guarded() as server:
        answer = send(server.url, headers={**server.sdk(), "Origin": EVIL}, body=b"{}")
        assert answer.status == 403
        assert parsed_error(answer, "ecs")["Code"] == "AccessDeniedException"
        assert answer.cors == {}
        assert server.reached == []


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:{port}",
        "evil.example",
        "127.0.0.1:1",
        "localhost",
        "127.0.0.2:{port}",
        "0.0.0.0:{port}",
        "",
    ],
)
def test_a_rebinding_host_is_refused(host: str) -> None:
    """A page at evil.example:PORT whose name now resolves to 127.0.0.1 sends its own Host."""
    with guarded() as server:
        named = host.format(port=server.policy.port)
        answer = send(server.url, headers={**server.sdk(), "Host": named}, body=b"{}")
        assert answer.status == 403
        error = parsed_error(answer, "ecs")
        assert error["Code"] == "AccessDeniedException"
        assert f"not to Host {named!r}" in error["Message"]
        assert server.reached == []


def test_the_hosts_served_can_grow_by_one_address() -> None:
    """As the Docker bridge's gateway will be admitted for containers (issue 25)."""
    with guarded() as server:
        bridge = f"172.17.0.1:{server.policy.port}"
        assert send(server.url, headers={**server.sdk(), "Host": bridge}, body=b"{}").status == 403
        server.policy.admit("172.17.0.1")
        assert send(server.url, headers={**server.sdk(), "Host": bridge}, body=b"{}").status == 200
        page = {**server.sdk(), "Origin": f"http://{bridge}"}
        assert send(server.url, headers=page, body=b"{}").status == 200


def test_an_unsigned_request_is_refused_in_its_own_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    with guarded() as server:
        ecs = send(server.url, headers=JSON, body=b"{}")  # what a script without an SDK sends
        assert (ecs.status, parsed_error(ecs, "ecs")["Code"]) == (403, "MissingAuthenticationTokenException")
        assert ecs.headers["content-type"].startswith("application/x-amz-json-1.1")
        form = {"Content-Type": "application/x-www-form-urlencoded"}  # an HTML form's POST
        query = send(server.url, headers=form, body=b"Action=DescribeLoadBalancers&Version=2015-12-01")
        assert query.status == 403
        assert (
            b"<ErrorResponse><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code>" in query.body
        )
        assert parsed_error(query, "elbv2")["Code"] == "MissingAuthenticationToken"
        cbor = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}  # CloudWatch's
        answer = send(
            server.url, path="/service/GraniteServiceVersion20100801/operation/ListMetrics", headers=cbor
        )
        assert parsed_error(answer, "cloudwatch")["Code"] == "MissingAuthenticationTokenException"
        image = send(server.url, "GET", "/some-bucket/key")  # an <img src>: no Origin, no headers
        assert image.status == 403
        assert parsed_error(image, "s3")["Code"] == "MissingAuthenticationToken"
        again = send(server.url, headers=JSON, body=b"{}")
        assert again.status == 403
        assert server.reached == []
    told = capsys.readouterr().err.splitlines()
    assert len(told) == 1, told  # one kind, told once
    assert (
        "refused POST / (no User-Agent): MissingAuthenticationToken: Missing Authentication Token" in told[0]
    )


def test_presigned_query_authentication_is_refused() -> None:
    """A link can carry query-string authentication; a forged one would pass a check of form only."""
    with guarded() as server:
        link = (
            "/?Action=DescribeLoadBalancers&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20250101%2F"
            "us-east-1%2Felasticloadbalancing%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-SignedHeaders="
            "host&X-Amz-Signature=" + "0" * 64
        )
        answer = send(server.url, "GET", link)
        assert answer.status == 403
        error = parsed_error(answer, "elbv2")
        assert error["Code"] == "MissingAuthenticationToken"
        assert "query-string (presigned)" in error["Message"]
        signed_too = send(server.url, "GET", link, headers=signed_headers("GET", server.url + link))
        assert signed_too.status == 403
        assert server.reached == []


SIGNATURE = "Signature=" + "ab" * 32
CREDENTIAL = "Credential=local/20250101/us-east-1/ecs/aws4_request"


@pytest.mark.parametrize(
    ("authorization", "code", "says"),
    [
        ("Bearer eyJhbGciOi", "IncompleteSignatureException", "must start with AWS4-HMAC-SHA256"),
        ("AWS4-HMAC-SHA256 garbage", "IncompleteSignatureException", "requires 'Credential' parameter"),
        (
            "AWS local:c2lnbmF0dXJl",
            "IncompleteSignatureException",
            "must start with AWS4-HMAC-SHA256",
        ),  # SigV2
        (f"AWS4-HMAC-SHA256 {CREDENTIAL}, {SIGNATURE}", "IncompleteSignatureException", "'SignedHeaders'"),
        (
            f"AWS4-HMAC-SHA256 Credential=local/2025/us-east-1/ecs, SignedHeaders=host, {SIGNATURE}",
            "IncompleteSignatureException",
            "Credential must be <key>/<yyyymmdd>/<region>/<service>/aws4_request",
        ),
        (
            f"AWS4-HMAC-SHA256 {CREDENTIAL}, SignedHeaders=x-amz-date, {SIGNATURE}",
            "IncompleteSignatureException",
            "SignedHeaders must include 'host'",
        ),
        (
            f"AWS4-HMAC-SHA256 {CREDENTIAL}, SignedHeaders=Host;X Y, {SIGNATURE}",
            "IncompleteSignatureException",
            "lowercase header names",
        ),
        (
            f"AWS4-HMAC-SHA256 {CREDENTIAL}, SignedHeaders=host;x-amz-date, Signature=not-hex",
            "InvalidSignatureException",
            "does not match the signature you provided",
        ),
        (
            f"AWS4-HMAC-SHA256 {CREDENTIAL}, SignedHeaders=host;x-amz-date, Signature={'AB' * 32}",
            "InvalidSignatureException",
            "64 lowercase hexadecimal digits",
        ),
    ],
)
def test_a_garbage_authorization_is_refused(authorization: str, code: str, says: str) -> None:
    with guarded() as server:
        headers = {**JSON, "Authorization": authorization, "X-Amz-Date": "20250101T000000Z"}
        answer = send(server.url, headers=headers, body=b"{}")
        assert answer.status == 403
        error = parsed_error(answer, "ecs")
        assert error["Code"] == code
        assert says in error["Message"]
        assert server.reached == []


def test_a_signature_needs_a_date_header() -> None:
    with guarded() as server:
        headers = {key: value for key, value in server.sdk().items() if key != "X-Amz-Date"}
        answer = send(server.url, headers=headers, body=b"{}")
        assert parsed_error(answer, "ecs")["Code"] == "IncompleteSignatureException"
        assert "'X-Amz-Date' or a 'Date' header" in parsed_error(answer, "ecs")["Message"]


def test_a_signature_is_judged_by_its_form_not_its_key_or_scope() -> None:
    with guarded() as server:
        for scope in (
            {"region": "ap-northeast-1", "service": "ecs"},
            {"region": "xx-local-9", "service": "s3"},
        ):
            assert send(server.url, headers=server.sdk(**scope), body=b"{}").status == 200
        assert len(server.reached) == 2


def test_an_allowed_extra_origin_gets_a_proper_cors_answer() -> None:
    with guarded(extra=(ALLOWED,)) as server:
        preflight = {
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": SDK_PREFLIGHT_HEADERS + ",x-not-aws",
        }
        answer = send(server.url, "OPTIONS", headers=preflight)
        assert answer.status == 200
        assert answer.cors["access-control-allow-origin"] == ALLOWED
        granted = answer.cors["access-control-allow-headers"].split(", ")
        assert granted == SDK_PREFLIGHT_HEADERS.split(",")  # x-not-aws is not: the browser refuses it
        assert "POST" in answer.cors["access-control-allow-methods"]
        assert "origin" in answer.headers["vary"].lower()
        assert server.reached == []  # the preflight is the policy's to answer, never moto's

        call = send(server.url, headers={**server.sdk(), "Origin": ALLOWED}, body=b"{}")
        assert (call.status, call.body) == (200, b"served")
        assert call.cors["access-control-allow-origin"] == ALLOWED  # ours, not moto's "*"
        assert "x-amzn-requestid" in call.cors["access-control-expose-headers"]
        unsigned = send(server.url, headers={**JSON, "Origin": ALLOWED}, body=b"{}")
        assert unsigned.status == 403  # still signed or refused; the page may read why
        assert unsigned.cors["access-control-allow-origin"] == ALLOWED
        other = send(server.url, "OPTIONS", headers={**preflight, "Origin": "http://localhost:5174"})
        assert (other.status, other.cors) == (403, {})


def test_origins_are_read_as_browsers_send_them() -> None:
    assert origin("HTTP://LocalHost:5173/") == "http://localhost:5173"
    assert extra_origins({EXTRA_ORIGINS_ENV: " http://a.test , https://b.test:8443,"}) == (
        "http://a.test",
        "https://b.test:8443",
    )
    assert extra_origins({}) == ()
    for wrong in ("*", "localhost:5173", "http://a.test/path", "ftp://a.test", "http://"):
        with pytest.raises(ValueError, match="is not an origin"):
            origin(wrong)
    with pytest.raises(ValueError, match=EXTRA_ORIGINS_ENV):
        extra_origins({EXTRA_ORIGINS_ENV: "http://ok.test,*"})
