"""The sample stack's committed template (infrastructure/template/, which ecspresso/simulation.yml
builds the local world from) is what the CDK app synthesizes today: `make template` rewrites it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

COMMITTED = ROOT / "infrastructure" / "template"
# An asset's hash follows every byte of its folder (the hooks' code included); the local world never
# reads it (a function's code comes from the stack's hooks), so a changed hash alone is no staleness.
ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def test_the_committed_template_is_what_the_app_synthesizes(tmp_path: Path) -> None:
    environment = {**os.environ, "SAMPLE_TEMPLATE_DIR": str(tmp_path), "PYTHON": sys.executable}
    subprocess.run(
        [ROOT / "scripts" / "sample-template"], env=environment, check=True, capture_output=True, timeout=300
    )
    fresh = sorted(path.name for path in tmp_path.glob("*.template.json"))
    assert fresh == sorted(path.name for path in COMMITTED.glob("*.template.json"))
    for name in fresh:
        now = ASSET_HASH.sub("<hash>", (tmp_path / name).read_text())
        committed = ASSET_HASH.sub("<hash>", (COMMITTED / name).read_text())
        assert now == committed, f"infrastructure/template/{name} is stale: run `make template`"
