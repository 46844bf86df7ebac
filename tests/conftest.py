from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_OUTPUTS = ROOT / "tests" / "fixtures" / "cdk-outputs.json"
CONFIG = ROOT / "ecspresso" / "ecspresso.yml"


@pytest.fixture
def repo_root() -> Path:
    return ROOT
