"""Loopback ports for what ``ecs-bg`` starts: tasks, moto, the endpoint and the listeners.

A port is chosen free and bound later, by a child or by this process, so another bind may take it in
between. Most such binds are the kernel's own: every outgoing connection takes a source port from the
ephemeral range (``net.ipv4.ip_local_port_range``), and the local load balancer opens one per health
check, many a second. A port chosen as the kernel chooses (``bind(0)``, from that same range) was
taken so once, and the task, unable to listen, exited (uvicorn: status 3) and failed a deployment.
Ports are therefore chosen below that range, where no outgoing connection goes.
"""

from __future__ import annotations

import random
import socket
import sys
from pathlib import Path

FIRST = 10000  # below: the ports services are commonly configured on (3000, 5432, 8080, ...)
LINUX_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
EPHEMERAL_DEFAULT = 32768  # Linux's default start
IANA_EPHEMERAL = 49152  # where macOS and Windows start theirs (IANA's dynamic range, RFC 6335)
ATTEMPTS = 200


def ephemeral_start() -> int:
    """Where this machine's ephemeral ports start."""
    if sys.platform.startswith("linux"):
        try:
            return int(LINUX_EPHEMERAL.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return EPHEMERAL_DEFAULT
    return IANA_EPHEMERAL


def free_port(host: str = "127.0.0.1") -> int:
    """A port of ``host`` free a moment ago, below the ephemeral range when there is room; the kernel's
    choice otherwise (a machine whose ephemeral range starts below FIRST)."""
    below = ephemeral_start()
    for _ in range(ATTEMPTS if below > FIRST else 0):
        port = random.randrange(FIRST, below)  # noqa: S311 - a port, not a secret
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:  # in use, or lingering in TIME_WAIT
                continue
            return port
    with socket.socket() as sock:
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        return chosen
