"""``python -m ecs_bg.local.moto_server``: moto's server on ``$HOST:$PORT``, behind the local AWS endpoint.

A process of its own, not a thread of the local ECS: moto's imports (half a second, and more on each
service's first request) and its answers run beside the control plane, the load balancer and the
load generator instead of under their interpreter lock, and each start is an empty account.

Once it serves, it makes its own first SSM request in ``$REGION``: moto's SSM loads AWS's public
parameters on that first request (seconds on a busy machine), which would otherwise count against the
timeout of the first hook that reads a parameter.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import urllib.error
import urllib.request

from moto.server import main

WARM_UP_SECONDS = 60.0  # at most, waiting for the server to answer


def warm_up(url: str, region: str) -> None:
    headers = {
        "X-Amz-Target": "AmazonSSM.DescribeParameters",
        "Content-Type": "application/x-amz-json-1.1",
        # moto takes the region from the credential scope; it checks no signature.
        "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20260101/{region}/ssm/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    deadline = time.monotonic() + WARM_UP_SECONDS
    while time.monotonic() < deadline:
        request = urllib.request.Request(url, data=b"{}", headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - loopback, our own server
                return
        except urllib.error.HTTPError:
            return  # it answered: the backend is loaded
        except OSError:
            time.sleep(0.1)


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    host, port = os.environ["HOST"], os.environ["PORT"]
    region = os.environ.get("REGION", "us-east-1")
    with contextlib.suppress(RuntimeError):
        threading.Thread(target=warm_up, args=(f"http://{host}:{port}/", region), daemon=True).start()
    main(["--host", host, "--port", port])
