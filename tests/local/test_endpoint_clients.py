"""The local endpoint's clients are made under one lock: boto3's default session is not thread safe,
and clients of it made in threads at once each built its parts (botocore's endpoints.json, 1.2 MB,
parsed once per thread)."""

from __future__ import annotations

import subprocess
import sys

MADE_AT_ONCE = """
import threading
import botocore.loaders
parsed = []
load_file = botocore.loaders.JSONFileLoader.load_file
def counting(self, path):
    if path.endswith("/endpoints"):
        parsed.append(path)
    return load_file(self, path)
botocore.loaders.JSONFileLoader.load_file = counting
from ecs_bg.local.endpoint import endpoint_client
services = ("ecs", "logs", "cloudwatch", "ecs", "lambda", "ssm")
together = threading.Barrier(len(services))
def one(service):
    together.wait()
    endpoint_client(service, "http://127.0.0.1:9", "us-east-1", "local")
threads = [threading.Thread(target=one, args=(service,)) for service in services]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(parsed))
"""


def test_clients_made_in_threads_at_once_build_the_session_once() -> None:
    """Six threads at once (as ``boto3.client`` alone, each parses it: six times, measured)."""
    command = [sys.executable, "-c", MADE_AT_ONCE]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    assert int(done.stdout) == 1
