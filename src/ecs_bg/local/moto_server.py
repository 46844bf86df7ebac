"""``python -m ecs_bg.local.moto_server``: moto's server on ``$HOST:$PORT``, behind the local AWS endpoint.

A process of its own, not a thread of the local ECS: moto's imports (half a second, and more on each
service's first request) and its answers run beside the control plane, the load balancer and the
load generator instead of under their interpreter lock. Each start is an empty account, and so is
each reset, by which a process's next world takes the server this one gave back (``moto_servers``).

Once it serves, it makes its own first SSM request in ``$REGION``: moto's SSM loads AWS's public
parameters on that first request (seconds on a busy machine), which would otherwise count against the
timeout of the first hook that reads a parameter.

Given ``ECS_BG_MOTO_TOKEN``, it answers only requests that carry that token in ``X-Ecs-Bg-Endpoint``,
which the endpoint adds to what it proxies: a web page that finds moto's port on 127.0.0.1 gets 403,
not moto's grant of CORS to any origin, so the endpoint's request policy (``request_policy``) is the
only way in.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from ecs_bg.local import botocore_data
from ecs_bg.local.parent_death import until_gone

# Names, not secrets; this module is imported by the endpoint and moto_servers for them, so moto loads
# only in main.
TOKEN_ENV = "ECS_BG_MOTO_TOKEN"  # noqa: S105
TOKEN_HEADER = "X-Ecs-Bg-Endpoint"  # noqa: S105
PARENT_ENV = "ECS_BG_PARENT_PID"  # the ecs-bg that started it: it ends when that one has gone
WARM_UP_SECONDS = 60.0  # at most, waiting for the server to answer
# How moto_servers starts it. -P: the working directory (the user's repository) is not on its path,
# where a werkzeug.py or a yaml.py of theirs would stand in for moto's own libraries.
COMMAND = (sys.executable, "-P", "-m", "ecs_bg.local.moto_server")
Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def only_with(token: str, app: Wsgi) -> Wsgi:
    """``app`` for requests that carry ``token`` in TOKEN_HEADER; 403 for any other."""
    key = "HTTP_" + TOKEN_HEADER.upper().replace("-", "_")

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if hmac.compare_digest(environ.get(key, "").encode(), token.encode()):
            return app(environ, start_response)
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"moto answers the ecs-bg local endpoint only\n"]

    return guarded


def warm_up(url: str, region: str, token: str | None) -> None:
    headers = {
        "X-Amz-Target": "AmazonSSM.DescribeParameters",
        "Content-Type": "application/x-amz-json-1.1",
        # moto takes the region from the credential scope; it checks no signature.
        "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20260101/{region}/ssm/aws4_request, "
        "SignedHeaders=host, Signature=0",
        **({TOKEN_HEADER: token} if token else {}),
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


def exit_with(parent: int, every: float = 1.0) -> None:
    """End this process once ``parent`` (the ecs-bg that started it) has gone, however it ended: a
    SIGKILL gives it no chance to stop its children, and moto would hold its port for good."""
    until_gone(parent, every)
    os._exit(0)


class Ec2BackendsOnUse:
    """moto's ``ec2_backends`` as SSM's backend holds it, imported when SSM first uses it: only to find
    the instances a Run Command's ``Targets`` name."""

    @staticmethod
    def _backends() -> Any:
        from moto.ec2.models import ec2_backends

        return ec2_backends

    def __getitem__(self, account: str) -> Any:
        return self._backends()[account]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backends(), name)


def import_ssm_without_ec2() -> None:
    """Import moto's SSM backend without its EC2 backend, which it imports at the top and uses only for
    Run Command's ``Targets``. The world's stacks have SSM parameters, and nothing of the local AWS uses
    EC2: its import was a third of the CPU moto's server spent up to its first SSM answer (1.25 s of
    CPU down to 0.85 s). ``moto.ec2`` stands in only while SSM
    imports; any later import of it (an EC2 request, Run Command) is the real one."""
    if "moto.ec2" in sys.modules:
        return
    stand_in = ModuleType("moto.ec2")
    stand_in.ec2_backends = Ec2BackendsOnUse()  # type: ignore[attr-defined]
    sys.modules["moto.ec2"] = stand_in
    try:
        import moto.ssm.models  # noqa: F401
    finally:
        del sys.modules["moto.ec2"]


def main(token: str | None) -> None:
    # The parent's pid as it gave it: one killed before this line runs has already gone.
    parent = int(os.environ.get(PARENT_ENV) or os.getppid())
    threading.Thread(target=exit_with, args=(parent,), daemon=True).start()
    botocore_data.share()  # one loader for moto's many sessions
    import_ssm_without_ec2()
    import moto.server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    host, port = os.environ["HOST"], os.environ["PORT"]
    region = os.environ.get("REGION", "us-east-1")
    if token is not None:
        serve = moto.server.run_simple  # type: ignore[attr-defined]

        def run_simple(host: str, port: int, app: Wsgi, **options: Any) -> None:
            serve(host, port, only_with(token, app), **options)

        # What moto's main serves with, guarded.
        moto.server.run_simple = run_simple  # type: ignore[attr-defined,assignment]
    with contextlib.suppress(RuntimeError):
        threading.Thread(target=warm_up, args=(f"http://{host}:{port}/", region, token), daemon=True).start()
    moto.server.main(["--host", host, "--port", port])


if __name__ == "__main__":
    main(os.environ.get(TOKEN_ENV) or None)
