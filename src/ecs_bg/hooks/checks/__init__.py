"""The checks a hook can run, each configured by one hookDetails key.

A check is a ``Check``: its hookDetails key (``name``), ``Settings`` (a ``CheckSettings``
dataclass), the IAM ``permissions`` it needs, and ``run(ctx, settings) -> Verdict``; a built-in
check's module may also have ``prepare()``, what its first run would do before its own work (import
its HTTP library, make its AWS clients), for an init that Lambda runs ahead of invocations. The built-in
checks are modules of this package (their permissions in ``ecs_bg.hooks.permissions``), imported
only when a hook's hookDetails name them, so a hook that never checks CloudWatch never pays for
importing boto3. A user's own check is registered with ``register_check`` from the user's own
file; it is then validated, run, logged and granted exactly as the built-in ones.
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol

from ecs_bg.hooks.config import RUNTIME_KEYS, CheckSettings, ConfigError, parse_config
from ecs_bg.hooks.permissions import CHECK_PERMISSIONS, Permission

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext
    from ecs_bg.hooks.result import Verdict

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


class Check(Protocol):
    """What a check is: the built-in check modules are ones, and so is a user's registered check."""

    @property
    def Settings(self) -> type[CheckSettings]: ...

    def run(self, ctx: HookContext, settings: Any) -> Verdict: ...


@dataclass(frozen=True)
class CustomCheck:
    """A user's own check: hookDetails key ``name``, settings ``Settings``, IAM ``permissions``."""

    name: str
    Settings: type[CheckSettings]
    permissions: tuple[Permission, ...]
    run: Any  # (ctx, settings) -> Verdict

    registry: ClassVar[dict[str, CustomCheck]] = {}


def register_check(
    name: str, settings: type[CheckSettings], *, permissions: tuple[Permission, ...] = ()
) -> Any:
    """Decorate ``run(ctx, settings) -> Verdict`` to make it the check configured by hookDetails key
    ``name``. Its ``permissions`` are granted to the role of every hook whose code registers it
    (resources: an ``ecs_bg.hooks.permissions`` kind, or an ARN)."""
    if name in CHECKS or name in RUNTIME_KEYS:
        raise ValueError(f"check {name!r}: the name is taken by the library")
    if not (isinstance(settings, type) and issubclass(settings, CheckSettings)):
        raise TypeError(f"check {name!r}: settings must subclass CheckSettings, got {settings!r}")

    def register(run: Any) -> Any:
        CustomCheck.registry[name] = CustomCheck(name, settings, tuple(permissions), run)
        return run

    return register


def custom_checks() -> dict[str, CustomCheck]:
    """The checks registered in this process so far, by name."""
    return dict(CustomCheck.registry)


def known_checks() -> set[str]:
    return set(CHECKS) | set(CustomCheck.registry)


def check_module(name: str) -> Check:
    """The check configured by hookDetails key ``name``."""
    custom = CustomCheck.registry.get(name)
    if custom is not None:
        return custom
    return typing.cast(Check, importlib.import_module(CHECKS[name]))


def check_permissions(name: str) -> tuple[Permission, ...]:
    custom = CustomCheck.registry.get(name)
    return custom.permissions if custom is not None else CHECK_PERMISSIONS[name]


def prepare(name: str) -> None:
    """Do ahead what the check's first run would do first (nothing, for a check with no ``prepare``)."""
    preparing = getattr(check_module(name), "prepare", None)
    if preparing is not None:
        preparing()


def is_enabled(raw: object) -> bool:
    """A check key set to false (or null) switches off a check a default turned on."""
    return raw is not None and raw is not False


def parse_settings(name: str, raw: object) -> CheckSettings:
    settings = parse_config(check_module(name).Settings, raw, name)
    assert isinstance(settings, CheckSettings)
    return settings


def validate_hook_details(details: Mapping[str, Any], custom_keys: Iterable[str] = ()) -> list[ConfigError]:
    """Every problem in a hook's hookDetails: unknown keys and invalid check settings."""
    checks = known_checks()
    known = checks | RUNTIME_KEYS | set(custom_keys)
    errors: list[ConfigError] = []
    for key, raw in details.items():
        if key not in known:
            errors.append(ConfigError(key, f"unknown key; known checks: {', '.join(sorted(checks))}"))
        elif key in checks and is_enabled(raw):
            try:
                parse_settings(key, raw)
            except ConfigError as error:
                errors.append(error)
    return errors
