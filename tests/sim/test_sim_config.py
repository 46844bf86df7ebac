"""ecspresso/simulation.yml: read into the simulation's options; mistakes name the file and key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.sim.config import apply
from ecs_bg.sim.setup import TARGET_GROUPS
from ecs_bg.sim.simulation import Options, health_check
from tests.conftest import ROOT


def test_the_repository_config_sets_the_options() -> None:
    options = Options(speed=1.0)
    scenario = apply(ROOT / "ecspresso" / "simulation.yml", options, "app")
    assert scenario == "good"
    assert (options.speed, options.tasks, options.load_rate, options.load_path) == (
        240.0,
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


@pytest.mark.parametrize(
    ("speed", "interval", "timeout", "drain"),
    [
        (1, 15, 5, 30),  # real time: the stack's own settings
        (60, 0.25, 0.2, 0.5),  # ALB's 5 s timeout would be 83 ms: too short for a busy machine
        (240, 0.2, 0.2, 0.125),  # the interval cannot be shorter than the timeout, as on ALB
    ],
)
def test_target_groups_run_on_the_simulated_clock(
    speed: float, interval: float, timeout: float, drain: float
) -> None:
    check = health_check(TARGET_GROUPS, speed)
    assert (check.interval, check.timeout) == (interval, timeout)
    assert (check.healthy_threshold, check.unhealthy_threshold, check.matcher) == (2, 3, "200")
    assert TARGET_GROUPS.deregistration_delay / speed == drain
