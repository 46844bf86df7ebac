"""The user's ecspresso files as ``ecs-bg simulate`` deploys them: rendered as for a real deployment,
with ``cfn_output`` answered by the local stacks (``cloudformation.cloud``), and refused where ECS (or
lint) would refuse them.

A hook's ARN leads to the function of that name: the stack's, or one simulation.yml's ``functions:``
adds; the simulation refuses one that names neither before anything starts (on AWS the hook would fail
at its first invocation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_bg.deploy.definitions import Definitions, load_definitions
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import LambdaFunction
from ecs_bg.deploy.lint import lint
from ecs_bg.deploy.rules import LintOptions
from ecs_bg.hooks.ecs import TargetType, function_name
from ecs_bg.lifecycle.events import ServiceIds
from ecs_bg.local.cloudformation.cloud import LocalCloud


@dataclass(frozen=True)
class UserFiles:
    definitions: Definitions
    ids: ServiceIds
    container: str  # the container the load balancer routes to (loadBalancers[0].containerName)
    # Each lifecycleHooks entry as the report and the scenarios name it: its function's hook name
    # (before_install, or the function's own name), or pause-<index>.
    hook_names: tuple[str, ...]


def load(
    config: Path, cloud: LocalCloud, functions: Mapping[str, LambdaFunction], environ: Mapping[str, str]
) -> UserFiles:
    """``functions`` by name: the local world's (the stacks', the CDK app's, simulation.yml's)."""
    definitions = load_definitions(config, environ, lambda _region: cloud)
    refuse_lint_errors(definitions, functions)
    stack = cloud.resources[0]
    ids = ServiceIds(
        region=stack.region,
        account=stack.account,
        cluster=definitions.config.cluster,
        service=definitions.config.service,
    )
    names = []
    hooks = definitions.service.get("deploymentConfiguration", {}).get("lifecycleHooks", [])
    for index, hook in enumerate(hooks):
        if hook.get("targetType", TargetType.AWS_LAMBDA) != TargetType.AWS_LAMBDA:
            names.append(f"pause-{index}")
            continue
        arn = str(hook.get("hookTargetArn", ""))
        function = functions.get(function_name(arn))
        if function is None:
            where = f"{definitions.service_file}: lifecycleHooks[{index}].hookTargetArn"
            raise DefinitionError(
                f"{where} {arn!r} is none of the stack's hook functions nor a function in "
                f"simulation.yml's functions: ({', '.join(sorted(functions)) or 'none'})"
            )
        names.append(function.hook_id)
    balancers = definitions.service.get("loadBalancers") or [{}]
    container = str(balancers[0].get("containerName", ""))
    return UserFiles(definitions, ids, container, tuple(names))


def refuse_definition_errors(config: Path, cloud: LocalCloud, environ: Mapping[str, str]) -> None:
    """The errors of the definitions themselves, before any hook function's code is probed (a process
    each): what ``load`` refuses but for the hookDetails a function's own code judges (ECS025)."""
    refuse_lint_errors(load_definitions(config, environ, lambda _region: cloud), {})


def revision_task(config: Path, environ: Mapping[str, str], cloud: LocalCloud) -> dict[str, Any]:
    """One revision's task definition: the same files rendered with that revision's variables (and
    the stacks' outputs: the service definition is rendered too)."""
    return load_definitions(config, environ, lambda _region: cloud).task


def refuse_lint_errors(definitions: Definitions, functions: Mapping[str, LambdaFunction]) -> None:
    """What ``ecs-bg lint`` refuses, ECS's API refuses: the simulation does not start on it. A hook's
    hookDetails are judged by its own function's code, simulation.yml's included (ECS025: imported in
    a process of its own, only for a hook that has hookDetails)."""
    findings = lint(definitions, LintOptions(functions=functions))
    errors = [finding for finding in findings if finding.severity == "error"]
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more; run ecs-bg lint)" if len(errors) > 1 else ""
        message = " ".join(first.message.split())
        raise DefinitionError(f"{first.file}: {first.path}: {message} ({first.rule}){more}")
