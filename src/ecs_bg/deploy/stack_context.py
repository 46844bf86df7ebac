"""The CDK stack's context keys (``infrastructure/cdk.json``, ``-c key=value``), typed, without CDK.

The stack (``infrastructure/lib/config.py``) builds its settings from these; the simulator and
``ecs-bg invoke`` read the same file for the hook settings each function gets as
``ECS_BG_HOOK_DETAILS``. Every key of the context table in docs/deploying.md is a field here,
with its default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ecs_bg.deploy.ecspresso_release import ECSPRESSO_RELEASE
from ecs_bg.deploy.environments import resource_name
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import FunctionSettings, LambdaFunction, stack_functions
from ecs_bg.deploy.probe import probe
from ecs_bg.deploy.settings import parse_settings, setting

Env = Literal["dev", "stg", "prod"]
Egress = Literal["nat", "endpoints"]
PORT = setting(minimum=1, maximum=65535)


@dataclass(frozen=True)
class StackContext:
    env: Env = "dev"
    stack_name: str | None = None  # default: environments.default_stack_name(env)
    service_name: str = "ecs-bg-app"
    task_family: str = "ecs-bg-app"
    container_port: int = field(default=8080, metadata=PORT)
    health_check_path: str = "/health"
    task_cpu_architecture: str = field(default="ARM64", metadata=setting(choices=("ARM64", "X86_64")))
    vpc_cidr: str = "10.0.0.0/16"
    egress: Egress = "nat"
    nat_gateways: int = field(default=1, metadata=setting(minimum=0))
    internal_alb: bool = False
    production_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    test_listener_port: int = field(default=10080, metadata=PORT)
    test_cidrs: tuple[str, ...] = ()
    certificate_arn: str | None = None
    production_hostname: str | None = None
    hooks_in_vpc: bool = True
    hook_checks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Per hook name (before-install, ...): the hook's settings, given to its function as
    # ECS_BG_HOOK_DETAILS. Unlike hookDetails in ecs-service-def.json, ecspresso never touches them.
    hook_details: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The hooks' code folder, relative to the CDK app (cdk.json's folder): one function per *_hook.py.
    hook_code: str = "lib/constructs/lambda"
    # Per hook name: its function's handler, environment, timeoutSeconds and memoryMB; a hook named
    # here without an entry file of its own runs the handler it names.
    hook_functions: dict[str, FunctionSettings] = field(default_factory=dict)
    powertools_layer_version: int | None = field(default=None, metadata=setting(minimum=1))
    approval_bucket: str | None = None
    log_retention: str = "ONE_MONTH"  # an aws_logs.RetentionDays name, any case; the stack checks it
    alarm_5xx_threshold: int = field(default=5, metadata=setting(key="alarm5xxThreshold", minimum=1))
    alarm_latency_p95_seconds: float = field(default=1.0, metadata=setting(positive=True))
    pipeline: bool = False
    connection_arn: str | None = None
    repository: str | None = None  # owner/name
    branch: str = "main"
    ecspresso_version: str = ECSPRESSO_RELEASE


def cdk_owns(key: str) -> bool:
    """Context keys of CDK itself (feature flags, lookups, aws:cdk:*), never spelled like ours."""
    return ":" in key or key.startswith("@") or "-" in key


def parse_context(context: Mapping[str, Any], where: str = "CDK context:") -> StackContext:
    """The stack's context, cdk.json's typed values and ``-c``'s strings alike."""
    return parse_settings(StackContext, context, where, strings=True, ignore=cdk_owns)


def read_cdk_json(path: Path) -> StackContext:
    """The context in ``cdk.json`` as the stack would read it without ``-c`` overrides."""
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise DefinitionError(f"{path}: cannot read the CDK app's settings: {error}") from None
    context = document.get("context", {}) if isinstance(document, dict) else None
    if not isinstance(context, dict):
        raise DefinitionError(f"{path}: context must be a JSON object")
    return parse_context(context, f"{path}: context:")


def hook_functions(context: StackContext, app_dir: Path, where: str | None = None) -> list[LambdaFunction]:
    """The stack's hook functions, as the CDK app in ``app_dir`` builds them from ``context``.

    Their hookDetails context is judged first, as ``hook_details_problems`` says: a ``DefinitionError``
    before anything runs. ``where`` names the context in it (default: the app's cdk.json)."""
    functions = stack_hook_functions(context, app_dir)
    problems = hook_details_problems(
        context.hook_details, functions, where or f"{app_dir / 'cdk.json'}: context:"
    )
    if problems:
        raise DefinitionError("\n".join(problems))  # one a line: a problem's reason may hold "; "
    return functions


def stack_hook_functions(context: StackContext, app_dir: Path) -> list[LambdaFunction]:
    """``hook_functions`` without judging their hookDetails: the CDK app judges them in a validation
    of its own (``cdk synth`` reports them with any other finding)."""
    return stack_functions(
        (app_dir / context.hook_code).resolve(),
        lambda hook: resource_name(context.env, hook),
        context.hook_functions,
        context.hook_details,
    )


def hook_details_problems(
    hook_details: Mapping[str, Mapping[str, Any]], functions: Sequence[LambdaFunction], where: str
) -> list[str]:
    """Every problem of the stack's hookDetails context, each naming the hook, the key and the value:
    ``<where> hookDetails.<hook>.<key>: <why>``.

    Each hook's object is judged by the code of the function that gets it, imported in its own process
    (``probe``) as ECS_BG_HOOK_DETAILS, as the hook judges it when it starts: its ``custom_keys``, the
    built-in checks' settings and those of the checks its code registers. A hook not built on ecs_bg
    takes any keys. ``DefinitionError`` if a hook's code cannot be imported."""
    configured = [f for f in functions if f.hook is not None and hook_details.get(f.hook)]
    # One interpreter per hook (a check one hook's code registers is no other's); they start together.
    with ThreadPoolExecutor(max_workers=max(1, len(configured))) as pool:
        judged = list(pool.map(lambda f: probe(f, [dict(hook_details[str(f.hook)])]), configured))
    return [
        f"{where} hookDetails.{function.hook}.{path}: {reason}"
        for function, probed in zip(configured, judged, strict=True)
        for path, reason in probed.problems[0]
    ]
