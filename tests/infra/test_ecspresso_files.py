"""The repository's ecspresso files against the synthesized stack: every output they read exists,
and with the stack's own literal values they render and lint clean.

Values CloudFormation only knows at deploy time (ARNs, ids) come from the cdk-outputs fixture,
which must name exactly the stack's outputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.deploy.definitions import load_definitions
from ecs_bg.deploy.lint import lint
from ecs_bg.deploy.outputs import OutputsFile
from tests.conftest import CONFIG, FIXTURE_OUTPUTS
from tests.infra.conftest import STACK_NAME, Synthesized

pytestmark = pytest.mark.slow  # every test reads a synthesis


def stack_outputs(app: Synthesized) -> dict[str, Any]:
    return {key: output["Value"] for key, output in app.template["Outputs"].items()}


def test_the_fixture_names_exactly_the_stack_outputs(default_app: Synthesized) -> None:
    fixture = json.loads(FIXTURE_OUTPUTS.read_text())[STACK_NAME]
    assert set(fixture) == set(stack_outputs(default_app))


def test_the_ecspresso_files_render_against_the_stack_and_lint_clean(
    default_app: Synthesized, tmp_path: Path
) -> None:
    fixture = json.loads(FIXTURE_OUTPUTS.read_text())[STACK_NAME]
    # Literal values (names, ports, architecture) are the stack's; tokens get the fixture's realistic value.
    values = {
        key: value if isinstance(value, str) else fixture[key]
        for key, value in stack_outputs(default_app).items()
    }
    outputs_file = tmp_path / "cdk-outputs.json"
    outputs_file.write_text(json.dumps({STACK_NAME: values}))
    definitions = load_definitions(CONFIG, {}, lambda _region: OutputsFile(outputs_file))
    assert definitions.service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    findings = [f for f in lint(definitions) if f.severity == "error"]
    assert findings == []
