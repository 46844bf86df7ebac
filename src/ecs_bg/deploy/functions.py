"""One model of a hook's Lambda function, shared by the CDK app, ``ecs-bg invoke`` and the simulator.

A function has a name, a code folder (what Lambda unpacks to ``/var/task``), a handler
``module.function``, its environment, a timeout and memory. The stack's hook functions are one per
entry file ``*_hook.py`` in the code folder, plus any hook named in the ``hookFunctions`` context;
the same context sets a function's handler, environment, timeout and memory. ``infrastructure/``
builds its functions from ``stack_functions``, and the simulator maps a hook's ARN to the function
of that name, never by a name pattern. ``ecspresso/simulation.yml`` can override any function
(``functions:``, keyed by function name) or add one the stack does not have.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import ecs_bg.hooks
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.settings import setting
from ecs_bg.deploy.template import Functions, TemplateError, render
from ecs_bg.hooks.config import HOOK_DETAILS_ENV

ENTRY_SUFFIX: Final = "_hook.py"
DEFAULT_TIMEOUT_SECONDS: Final = 300.0  # the seed's; longer work returns IN_PROGRESS
DEFAULT_MEMORY_MB: Final = 256
# Lambda's bounds: memory 128 to 10,240 MB, timeout up to 900 s (Lambda developer guide, "Configuring
# function memory" and "Configuring function timeout").
MEMORY = setting(minimum=128, maximum=10240, key="memoryMB")
TIMEOUT = setting(positive=True, maximum=900)
HANDLER: Final = re.compile(r"(?P<module>[A-Za-z_][\w.]*)\.(?P<function>[A-Za-z_]\w*)")
# What the public Powertools for AWS Lambda (Python) layer the stack attaches to its hooks holds.
POWERTOOLS_LAYER: Final = ("aws-lambda-powertools", "typing_extensions")
HOOK_NAME: Final = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


@dataclass(frozen=True)
class FunctionSettings:
    """What the ``hookFunctions`` context sets on one hook's function; absent keys keep the defaults."""

    handler: str | None = None  # module.function, e.g. app.lambda_handler
    environment: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float | None = field(default=None, metadata=TIMEOUT)
    memory_mb: int | None = field(default=None, metadata=MEMORY)

    def __post_init__(self) -> None:
        if self.handler is not None and not HANDLER.fullmatch(self.handler):
            raise ValueError(f"handler must be module.function, got {self.handler!r}")


@dataclass(frozen=True)
class FunctionOverride(FunctionSettings):
    """One entry of ``functions:`` in simulation.yml: the same, plus the code folder to run."""

    code: str | None = None  # relative to simulation.yml's folder


@dataclass(frozen=True)
class LambdaFunction:
    name: str  # the function's name, as in its ARN: ecs-bg-before-install-dev
    code: Path  # the code folder, on sys.path as /var/task is
    handler: str  # module.function
    environment: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB
    hook: str | None = None  # the stack's hook name (before-install); None for a function it lacks
    # Distributions the function's layers add to what the runtime has (the stack's hooks: Powertools,
    # from its public layer).
    layer_packages: tuple[str, ...] = ()
    # Deployed as the stack stages it (``stage_asset``: the code folder and ecs_bg.hooks), not the
    # code folder as it is.
    staged: bool = False
    unavailable: str | None = None  # why its code is not here to run (a template without its assets)

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def function(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def output_key(self) -> str | None:
        """The stack output holding its ARN: before-install -> BeforeInstallHookArn."""
        return (
            None if self.hook is None else "".join(p.capitalize() for p in self.hook.split("-")) + "HookArn"
        )

    @property
    def hook_id(self) -> str:
        """How the simulator and its report name it: before_install, or the function's name."""
        return self.hook.replace("-", "_") if self.hook else self.name

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"  # Lambda's default log group for a function

    def entry_file(self) -> Path:
        return self.code / (self.module.replace(".", "/") + ".py")

    def with_settings(self, settings: FunctionSettings, base: Path | None = None) -> LambdaFunction:
        """This function with ``settings`` applied; ``code`` is read relative to ``base``."""
        code = getattr(settings, "code", None)
        return dataclasses.replace(
            self,
            code=(base / code).resolve() if code is not None and base is not None else self.code,
            handler=settings.handler or self.handler,
            environment={**self.environment, **settings.environment},
            timeout_seconds=settings.timeout_seconds or self.timeout_seconds,
            memory_mb=settings.memory_mb or self.memory_mb,
            unavailable=None if code is not None else self.unavailable,
        )

    @classmethod
    def for_entry(cls, path: Path, name: str | None = None, handler: str = "handler") -> LambdaFunction:
        """A function whose code folder is ``path``'s folder and whose module is ``path``."""
        return cls(name or path.stem, path.parent.resolve(), f"{path.stem}.{handler}")


def entry_hooks(code: Path) -> list[str]:
    """The hook names of the entry files in ``code``: before_install_hook.py -> before-install."""
    return [
        p.name.removesuffix(ENTRY_SUFFIX).replace("_", "-") for p in sorted(code.glob(f"*{ENTRY_SUFFIX}"))
    ]


def stack_functions(
    code: Path,
    name: Callable[[str], str],
    settings: Mapping[str, FunctionSettings],
    hook_details: Mapping[str, Mapping[str, Any]],
) -> list[LambdaFunction]:
    """The stack's hook functions: one per entry file in ``code`` and per hook ``settings`` names.

    ``name`` turns a hook name into its function's name (``ecs-bg-<hook>-<env>``). A hook without an
    entry file of its own must say which module is its handler. A hook's ``hook_details`` (the
    stack's context) reach its function as ECS_BG_HOOK_DETAILS: ecspresso cannot pass hookDetails.
    """
    unknown = sorted(set(hook_details) - set(entry_hooks(code)) - set(settings))
    if unknown:
        raise DefinitionError(
            f"hookDetails names no hook: {unknown} (hooks: entry files in {code}, hookFunctions)"
        )
    hooks = dict.fromkeys([*entry_hooks(code), *settings])
    functions = []
    for hook in hooks:
        if not HOOK_NAME.fullmatch(hook):
            raise DefinitionError(f"hookFunctions: {hook!r} is not a hook name (lowercase words joined by -)")
        module = hook.replace("-", "_") + ENTRY_SUFFIX.removesuffix(".py")
        given = settings.get(hook, FunctionSettings())
        if given.handler is None and not (code / f"{module}.py").is_file():
            raise DefinitionError(
                f"hookFunctions.{hook}: no entry file {module}.py in {code}; give a handler"
            )
        environment = (
            {HOOK_DETAILS_ENV: json.dumps(hook_details[hook], sort_keys=True)} if hook in hook_details else {}
        )
        function = LambdaFunction(
            name(hook),
            code,
            f"{module}.handler",
            environment,
            hook=hook,
            layer_packages=POWERTOOLS_LAYER,
            staged=True,
        )
        function = function.with_settings(given)
        functions.append(function)
    return functions


def apply_overrides(
    functions: Mapping[str, LambdaFunction], overrides: Mapping[str, FunctionOverride], base: Path, where: str
) -> dict[str, LambdaFunction]:
    """``functions`` (by name) with simulation.yml's ``functions:`` applied; a new name needs code and
    a handler."""
    merged = dict(functions)
    for name, override in overrides.items():
        known = merged.get(name)
        if known is None:
            if override.code is None or override.handler is None:
                raise DefinitionError(
                    f"{where} functions.{name}: not one of the stack's functions "
                    f"({', '.join(sorted(merged)) or 'none'}); a new one needs code and handler"
                )
            known = LambdaFunction(name, base, override.handler)
        merged[name] = known.with_settings(override, base)
    return merged


def render_environment(environment: Mapping[str, str], functions: Functions, where: str) -> dict[str, str]:
    """``environment`` with each value rendered as ecspresso renders its files (``cfn_output``,
    ``env``, ...: ``functions``), except ECS_BG_HOOK_DETAILS, the hook's settings as JSON, which pass
    intact. A value that cannot be rendered is a ``DefinitionError`` naming ``where`` (the file and
    the function: ``simulation.yml: functions.NAME.environment``), the variable and the expression."""
    rendered = {}
    for key, value in environment.items():
        if key == HOOK_DETAILS_ENV:
            rendered[key] = value
            continue
        try:
            rendered[key] = render(value, f"{where}.{key}", functions)
        except TemplateError as error:
            raise DefinitionError(f"{where}.{key}: {error.reason} in {error.expression}") from None
    return rendered


def stage_asset(code: Path, destination: Path) -> list[str]:
    """The stack's hook asset, as the CDK app stages it and Lambda unpacks it: the code folder's Python
    files (entry files and their helper modules) and the ``ecs_bg.hooks`` package, copied into
    ``destination``; returns the files, relative."""
    # Wherever ecs-bg-hooks is installed: ecs_bg is a namespace package that two distributions share,
    # so the library is found by its own location, not beside this module. The asset holds no
    # ecs_bg/__init__.py either: in Lambda too, ecs_bg is a namespace package.
    hooks = Path(ecs_bg.hooks.__file__).resolve().parent
    sources = {p.relative_to(code).as_posix(): p for p in code.rglob("*.py") if "__pycache__" not in p.parts}
    for path in hooks.rglob("*.py"):
        relative = path.relative_to(hooks.parent)
        if "__pycache__" in relative.parts or "tests" in relative.parts:
            continue
        sources[f"ecs_bg/{relative.as_posix()}"] = path
    for name, source in sources.items():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)  # contents only: the asset hash must not depend on mtimes
    return sorted(sources)
