"""The AWS SDK for JavaScript v3 against ``ecs-bg local``: js/bluegreen.mjs creates a blue/green
service, updates it, rolls updates back (a PAUSE answered ROLLBACK, and StopServiceDeployment),
continues PAUSEs and deletes the service, asserting on what the SDK parsed. Its packages are pinned
in package.json; ``make test`` installs them (npm ci). Without them the test is skipped here and
fails in CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.service import PAUSE_AFTER_TEST_TRAFFIC, definitions, write
from tests.sim.local_ecs_process import ROOT, SERVICE, local_ecs

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).parent / "js" / "bluegreen.mjs"
PACKAGES = ("@aws-sdk/client-ecs", "@aws-sdk/client-elastic-load-balancing-v2")


def _node() -> str:
    """node, with the SDK's packages installed; a skip when they are not, a failure in CI."""
    node = shutil.which("node")
    missing = [name for name in PACKAGES if not (ROOT / "node_modules" / name / "package.json").is_file()]
    if node is None or missing:
        why = "node is not on PATH" if node is None else f"{', '.join(missing)} not installed (npm ci)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}: make test installs them in CI")
        pytest.skip(f"{why}; make test installs them")
    return node


def test_the_javascript_sdk_creates_updates_rolls_back_and_continues(tmp_path: Path) -> None:
    node = _node()
    with local_ecs() as local:
        task, create = definitions(local, SERVICE, [PAUSE_AFTER_TEST_TRAFFIC])
        source = write(tmp_path, "input.json", {"task": task, "create": create})
        done = subprocess.run(
            [node, str(SCRIPT), str(source)],
            env=local.env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-4000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["deployments"] == [
        "SUCCESSFUL", "SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "SUCCESSFUL"
    ]  # fmt: skip
    assert seen["afterRollback"]["taskDefinition"].endswith(":1"), seen
    assert sorted(seen["weights"].values()) == [0, 100], seen
