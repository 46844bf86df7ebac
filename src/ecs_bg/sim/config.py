"""The small simulation config beside the ecspresso files (``ecspresso/simulation.yml``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.sim.plan import HOOK_DETAILS_READINGS, HookDetailsReading
from ecs_bg.sim.simulation import Options

KEYS = {"scenario", "speed", "tasks", "containers", "load", "functionTimeoutSeconds", "hookDetailsReading"}


def apply(path: Path, options: Options, container: str) -> str | None:
    """Set ``options`` from the file; returns its scenario. Errors name the file and the key."""
    try:
        document: Any = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise DefinitionError(f"{path}: {error}") from None
    if not isinstance(document, dict):
        raise DefinitionError(f"{path}: expected a mapping of settings")
    unknown = sorted(set(document) - KEYS)
    if unknown:
        raise DefinitionError(f"{path}: unknown key {unknown[0]!r}; known: {', '.join(sorted(KEYS))}")

    def number(key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise DefinitionError(f"{path}: {key} must be a positive number, got {value!r}")
        return float(value)

    if "speed" in document:
        options.speed = number("speed", document["speed"])
    if "tasks" in document:
        options.tasks = int(number("tasks", document["tasks"]))
    if "functionTimeoutSeconds" in document:
        options.function_timeout = number("functionTimeoutSeconds", document["functionTimeoutSeconds"])
    if "hookDetailsReading" in document:
        options.hook_details_reading = hook_details_reading(
            document["hookDetailsReading"], f"{path}: hookDetailsReading"
        )
    load = document.get("load") or {}
    if "rate" in load:
        options.load_rate = number("load.rate", load["rate"])
    if "path" in load:
        options.load_path = str(load["path"])
    command = (document.get("containers") or {}).get(container, {}).get("command")
    if command is not None:
        if not isinstance(command, list) or not command or not all(isinstance(part, str) for part in command):
            raise DefinitionError(f"{path}: containers.{container}.command must be a list of strings")
        # "python" means the simulator's own interpreter, which has the sample service's dependencies.
        options.command = [
            sys.executable if command[0] in ("python", "python3") else command[0],
            *command[1:],
        ]
    scenario = document.get("scenario")
    return str(scenario) if scenario is not None else None


def hook_details_reading(value: object, where: str) -> HookDetailsReading:
    """A valid reading of how ECS passes IN_PROGRESS hookDetails on; errors start with ``where``."""
    if value in HOOK_DETAILS_READINGS:
        return value
    raise DefinitionError(f"{where} must be {' or '.join(HOOK_DETAILS_READINGS)}, got {value!r}")
