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
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, Protocol, TypeVar

from ecs_bg.hooks.config import RUNTIME_KEYS, CheckSettings, ConfigError, parse_config
from ecs_bg.hooks.permissions import CHECK_PERMISSIONS, Permission

if TYPE_CHECKING:
    from ecs_bg.hooks.context import HookContext
    from ecs_bg.hooks.result import Verdict

__all__ = [
    "CHECKS",
    "Check",
    "CheckRun",
    "CustomCheck",
    "check_module",
    "check_permissions",
    "custom_checks",
    "is_enabled",
    "known_checks",
    "parse_settings",
    "prepare",
    "register_check",
    "validate_hook_details",
]

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

# A check's settings class. Invariant in Check: ``Settings`` hands the class out, ``run`` takes its
# instances in.
S = TypeVar("S", bound=CheckSettings)

# What a check runs: ``run(ctx, settings) -> Verdict``, settings of the check's own class.
CheckRun = Callable[["HookContext", S], "Verdict"]


class Check(Protocol[S]):
    """What a check is: the built-in check modules are ones (``Check[http.Settings]`` is
    ``ecs_bg.hooks.checks.http``), and so is a user's registered check."""

    @property
    def Settings(self) -> type[S]: ...

    def run(self, ctx: HookContext, settings: S, /) -> Verdict: ...


@dataclass(frozen=True)
class CustomCheck(Generic[S]):
    """A user's own check: hookDetails key ``name``, settings ``Settings``, IAM ``permissions``."""

    name: str
    Settings: type[S]
    permissions: tuple[Permission, ...]
    run: CheckRun[S]

    # By name; each entry has its own settings class, so the registry as a whole holds any.
    registry: ClassVar[dict[str, CustomCheck[Any]]] = {}


def register_check(
    name: str, settings: type[S], *, permissions: Iterable[Permission] = ()
) -> Callable[[CheckRun[S]], CheckRun[S]]:
    """Decorate ``run(ctx: HookContext, settings: <settings>) -> Verdict`` to make it the check
    configured by hookDetails key ``name``. Its ``permissions`` are granted to the role of every
    hook whose code registers it (resources: an ``ecs_bg.hooks.permissions`` kind, or an ARN).

    The decorator is typed: mypy refuses a function whose parameters are not ``(HookContext,
    <settings>)`` or that does not return a ``Verdict``. At run time one that cannot be called as
    ``run(ctx, settings)`` is a ``TypeError`` naming the check, raised here rather than at the first
    deployment that enables it."""
    if name in CHECKS or name in RUNTIME_KEYS:
        raise ValueError(f"check {name!r}: the name is taken by the library")
    if not (isinstance(settings, type) and issubclass(settings, CheckSettings)):
        raise TypeError(f"check {name!r}: settings must subclass CheckSettings, got {settings!r}")
    granted = tuple(permissions)
    for permission in granted:
        if not isinstance(permission, Permission):
            raise TypeError(f"check {name!r}: permissions must be Permission objects, got {permission!r}")

    def register(run: CheckRun[S]) -> CheckRun[S]:
        _check_callable_as_run(name, run)
        CustomCheck.registry[name] = CustomCheck(name, settings, granted, run)
        return run

    return register


def _check_callable_as_run(name: str, run: object) -> None:
    """``TypeError`` naming check ``name`` unless ``run(ctx, settings)`` is a call ``run`` accepts."""
    if not callable(run):
        raise TypeError(f"check {name!r}: register_check decorates a function, not {type(run).__name__}")
    try:
        signature = inspect.signature(run)
    except (TypeError, ValueError):  # a builtin without a signature: nothing to judge it by
        return
    try:
        signature.bind(None, None)
    except TypeError as error:
        what = getattr(run, "__qualname__", repr(run))
        raise TypeError(
            f"check {name!r}: {what}{signature} cannot be called as run(ctx, settings): {error}"
        ) from None


def custom_checks() -> dict[str, CustomCheck[Any]]:
    """The checks registered in this process so far, by name."""
    return dict(CustomCheck.registry)


def known_checks() -> set[str]:
    return set(CHECKS) | set(CustomCheck.registry)


def check_module(name: str) -> Check[Any]:
    """The check configured by hookDetails key ``name``. Its settings class depends on ``name``, known
    only at run time: ``parse_settings(name, ...)`` builds an instance of that very class."""
    custom = CustomCheck.registry.get(name)
    if custom is not None:
        return custom
    return typing.cast("Check[Any]", importlib.import_module(CHECKS[name]))


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


if TYPE_CHECKING:
    # Each built-in check module is a Check of its own Settings: mypy holds them to the protocol here,
    # without importing them at run time (each is imported only when a hook's hookDetails name it).
    from ecs_bg.hooks import notify
    from ecs_bg.hooks.checks import alarms, approval, ecs_readiness, http, metrics, migration, target_health

    _BUILT_IN: tuple[
        Check[http.Settings],
        Check[ecs_readiness.Settings],
        Check[target_health.Settings],
        Check[alarms.Settings],
        Check[metrics.Settings],
        Check[migration.Settings],
        Check[approval.Settings],
        Check[notify.Settings],
    ] = (http, ecs_readiness, target_health, alarms, metrics, migration, approval, notify)
