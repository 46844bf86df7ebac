"""AWS errors injected below botocore's parsing and retry logic, as a real endpoint would return them.

A ``before-send`` handler answers the first ``times`` requests of one operation with an HTTP error
in the service's own wire protocol; botocore then parses and retries it exactly as it would an
error from AWS. Later requests go on (to moto). botocore runs every before-send handler, moto's
included, so a faulted request still reaches moto: assert on answers, not on moto's state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


@dataclass
class Fault:
    code: str
    times: int
    status: int = 400
    hits: int = 0

    def inject(self, client: Any, operation: str) -> Fault:
        service = client.meta.service_model
        client.meta.events.register(f"before-send.{service.service_id.hyphenize()}.{operation}", self._answer)
        return self

    def _answer(self, request: Any, **_: Any) -> AWSResponse | None:
        self.hits += 1
        if self.hits > self.times:
            return None
        # Newer botocore names the protocol on the request; older releases only on the client.
        protocol = getattr(request, "context", {}).get("protocol") or self._protocol
        message = f"injected {self.code}"
        if protocol == "query":
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{self.code}</Code>"
                f"<Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
            ).encode()
            headers = {"Content-Type": "text/xml"}
        elif protocol == "rest-xml":
            body = f"<Error><Code>{self.code}</Code><Message>{message}</Message></Error>".encode()
            headers = {"Content-Type": "application/xml"}
        elif protocol == "smithy-rpc-v2-cbor":
            # An empty CBOR body; botocore takes the code from the query-compatible error header.
            body = b""
            headers = {"smithy-protocol": "rpc-v2-cbor", "x-amzn-query-error": f"{self.code};Sender"}
        else:
            body = json.dumps({"__type": self.code, "message": message}).encode()
            headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "r"}
        return AWSResponse(request.url, self.status, headers, _Raw(body))

    _protocol = "json"


def fail(client: Any, operation: str, code: str, *, times: int = 10**6, status: int = 400) -> Fault:
    fault = Fault(code, times, status)
    fault._protocol = client.meta.service_model.protocol
    return fault.inject(client, operation)
