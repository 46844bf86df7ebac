"""moto's server reads botocore's data once: every botocore session it makes shares one loader, so
EC2's region list (three sessions, which SSM's backend imports) parses endpoints.json once."""

from __future__ import annotations

import subprocess
import sys

SESSIONS = """
import botocore.session
from ecs_bg.local.moto_server import share_botocore_data
{share}
loaders = {{id(botocore.session.Session().get_component("data_loader")) for _ in range(3)}}
print(len(loaders))
"""


def sessions_loaders(share: str) -> int:
    script = SESSIONS.format(share=share)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_every_session_of_moto_s_process_shares_one_loader() -> None:
    assert sessions_loaders("share_botocore_data()") == 1


def test_otherwise_each_session_has_its_own() -> None:
    assert sessions_loaders("") == 3
