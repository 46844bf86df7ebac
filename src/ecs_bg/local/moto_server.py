"""``python -m ecs_bg.local.moto_server``: moto's server on ``$HOST:$PORT``, behind the local AWS endpoint.

A process of its own, not a thread of the local ECS: moto's imports (half a second, and more on each
service's first request) and its answers run beside the control plane, the load balancer and the
load generator instead of under their interpreter lock, and each start is an empty account.
"""

from __future__ import annotations

import logging
import os

from moto.server import main

if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    main(["--host", os.environ["HOST"], "--port", os.environ["PORT"]])
