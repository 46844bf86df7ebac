"""Loopback ports for what ``ecs-bg`` starts: tasks, moto, the endpoint and the listeners.

A port is chosen free and bound later, by a child or by this process, so another bind may take it in
between. Most such binds are the kernel's own: every outgoing connection takes a source port from the
ephemeral range (``net.ipv4.ip_local_port_range``), and the local load balancer opens one per health
check, many a second. A port chosen as the kernel chooses (``bind(0)``, from that same range) was
taken so once, and the task, unable to listen, exited (uvicorn: status 3) and failed a deployment.
Ports are therefore chosen below that range, where no outgoing connection goes.

The other binds that can come in between are those of other ``ecs-bg`` processes choosing at the same
moment (the test suite runs simulations in three processes at once; a developer may run ``ecs-bg
local`` and ``ecs-bg simulate`` side by side). Two of them once chose the same port: one task could
not listen, and the other's task, failing its health checks on purpose, answered the first's (a
deployment failed on 503s that its own app never sent). So a chosen port is also claimed, for
LEASE_SECONDS, against every process on this machine: on Linux by binding an abstract Unix socket
named after it (unix(7): the name goes with the socket, no file is left behind, and a process that
dies releases it). Elsewhere the claim holds within this process only.
"""

from __future__ import annotations

import random
import socket
import sys
import threading
import time
from pathlib import Path

FIRST = 10000  # below: the ports services are commonly configured on (3000, 5432, 8080, ...)
LINUX_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
EPHEMERAL_DEFAULT = 32768  # Linux's default start
IANA_EPHEMERAL = 49152  # where macOS and Windows start theirs (IANA's dynamic range, RFC 6335)
ATTEMPTS = 200
# Long enough for what binds a chosen port to start: a task's app, moto's server. Past its bind, the
# port is passed over for being in use, claimed or not.
LEASE_SECONDS = 60.0
CLAIM_NAME = "\0ecs-bg-port-{port}"  # abstract: the leading NUL (unix(7))
ABSTRACT_SOCKETS = sys.platform.startswith("linux")

_claims: dict[int, tuple[float, socket.socket | None]] = {}  # port: (claimed until, its socket)
_claiming = threading.Lock()


def ephemeral_start() -> int:
    """Where this machine's ephemeral ports start."""
    if sys.platform.startswith("linux"):
        try:
            return int(LINUX_EPHEMERAL.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return EPHEMERAL_DEFAULT
    return IANA_EPHEMERAL


def _claim(port: int) -> bool:
    """Claim ``port`` for LEASE_SECONDS unless this or another process on this machine holds it."""
    now = time.monotonic()
    with _claiming:
        for held, (until, claim) in list(_claims.items()):
            if until <= now:
                del _claims[held]
                if claim is not None:
                    claim.close()
        if port in _claims:
            return False
        claim = None
        if ABSTRACT_SOCKETS:
            claim = socket.socket(socket.AF_UNIX)
            try:
                claim.bind(CLAIM_NAME.format(port=port))
            except OSError:  # EADDRINUSE: another process claimed it
                claim.close()
                return False
        _claims[port] = (now + LEASE_SECONDS, claim)
        return True


def _binds(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:  # in use, or lingering in TIME_WAIT
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port of ``host`` free a moment ago and claimed for whoever binds it next, below the ephemeral
    range when there is room; the kernel's choice otherwise (a machine whose ephemeral range starts
    below FIRST)."""
    below = ephemeral_start()
    for _ in range(ATTEMPTS if below > FIRST else 0):
        port = random.randrange(FIRST, below)  # noqa: S311 - a port, not a secret
        if _binds(host, port) and _claim(port):  # a port in use is not claimed
            return port
    for _ in range(ATTEMPTS):
        with socket.socket() as sock:
            sock.bind((host, 0))
            chosen: int = sock.getsockname()[1]
        if _claim(chosen):
            return chosen
    raise OSError(f"no free port on {host}: {ATTEMPTS} chosen by the kernel were all claimed")
