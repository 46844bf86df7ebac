"""The checks a hook can run, each configured by one hookDetails key.

A check module defines ``Settings`` (a ``CheckSettings`` dataclass) and
``run(ctx, settings) -> Verdict``. Modules are imported only when a hook's hookDetails name them,
so a hook that never checks CloudWatch never pays for importing boto3.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any, Final

from ecs_bg.hooks.config import RUNTIME_KEYS, CheckSettings, ConfigError, parse_config

# hookDetails key -> module implementing the check.
CHECKS: Final[dict[str, str]] = {
    "smokeTest": "ecs_bg.hooks.checks.http",
    "ecsReadiness": "ecs_bg.hooks.checks.ecs_readiness",
    "targetHealth": "ecs_bg.hooks.checks.target_health",
    "alarmGate": "ecs_bg.hooks.checks.alarms",
    "metricGate": "ecs_bg.hooks.checks.metrics",
    "migration": "ecs_bg.hooks.checks.migration",
    "approval": "ecs_bg.hooks.checks.approval",
    "notify": "ecs_bg.hooks.notify",
}


def check_module(name: str) -> ModuleType:
    return importlib.import_module(CHECKS[name])


def is_enabled(raw: object) -> bool:
    """A check key set to false (or null) switches off a check a default turned on."""
    return raw is not None and raw is not False


def parse_settings(name: str, raw: object) -> CheckSettings:
    settings = parse_config(check_module(name).Settings, raw, name)
    assert isinstance(settings, CheckSettings)
    return settings


def validate_hook_details(details: Mapping[str, Any], custom_keys: Iterable[str] = ()) -> list[ConfigError]:
    """Every problem in a hook's hookDetails: unknown keys and invalid check settings."""
    known = CHECKS.keys() | RUNTIME_KEYS | set(custom_keys)
    errors: list[ConfigError] = []
    for key, raw in details.items():
        if key not in known:
            errors.append(ConfigError(key, f"unknown key; known checks: {', '.join(sorted(CHECKS))}"))
        elif key in CHECKS and is_enabled(raw):
            try:
                parse_settings(key, raw)
            except ConfigError as error:
                errors.append(error)
    return errors
