"""ecspresso/simulation.yml: read into the simulation's options; mistakes name the file and key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.sim.config import apply
from ecs_bg.sim.simulation import Options
from tests.conftest import ROOT


def test_the_repository_config_sets_the_options() -> None:
    options = Options()
    scenario = apply(ROOT / "ecspresso" / "simulation.yml", options, "app")
    assert scenario == "good"
    assert (options.speed, options.tasks, options.load_rate, options.load_path) == (
        60.0,
        2,
        20.0,
        "/api/products",
    )
    assert options.command == [sys.executable, "-m", "app"]  # "python" is the simulator's interpreter
    assert options.function_timeout == 60.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("speed: 60\nbogus: 1\n", "unknown key 'bogus'"),
        ("speed: fast\n", "speed must be a positive number, got 'fast'"),
        ("load: {rate: -1}\n", "load.rate must be a positive number"),
        ("containers: {app: {command: python -m app}}\n", "containers.app.command must be a list of strings"),
        ("- a list\n", "expected a mapping"),
        ("speed: [\n", "while parsing"),
    ],
)
def test_mistakes_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "simulation.yml"
    path.write_text(text)
    with pytest.raises(DefinitionError) as caught:
        apply(path, Options(), "app")
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)
