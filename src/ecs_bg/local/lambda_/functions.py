"""The functions a local run invokes: the stack's (as its cdk.json defines them), with overrides.

``ecs-bg invoke`` and ``ecs-bg simulate`` both start here, so a hook runs locally with the name,
handler, environment, timeout and memory it is deployed with (``ecs_bg.deploy.functions``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from ecs_bg.deploy.functions import FunctionOverride, LambdaFunction, apply_overrides, entry_hooks
from ecs_bg.deploy.stack_context import Env, StackContext, hook_functions, read_cdk_json


def local_functions(
    cdk_json: Path | None,
    code: Path | None = None,
    overrides: Mapping[str, FunctionOverride] | None = None,
    where: str = "simulation.yml:",
    env: Env | None = None,
) -> dict[str, LambdaFunction]:
    """By function name: the stack's hook functions (``code`` replaces the context's hookCode folder,
    ``env`` its environment, which names them), then ``overrides`` (simulation.yml's ``functions:``,
    their ``code`` already absolute)."""
    context = read_cdk_json(cdk_json) if cdk_json is not None else StackContext()
    if code is not None:
        # The stack's hookDetails for hooks this folder lacks configure nothing that runs here (the
        # CDK app still refuses them for the real stack's folder).
        own = set(entry_hooks(code)) | set(context.hook_functions)
        details = {hook: value for hook, value in context.hook_details.items() if hook in own}
        context = dataclasses.replace(context, hook_code=str(code.resolve()), hook_details=details)
    if env is not None:
        context = dataclasses.replace(context, env=env)
    functions = {}
    if cdk_json is not None:  # without a CDK app or a code folder, only simulation.yml's functions: exist
        functions = {f.name: f for f in hook_functions(context, cdk_json.parent, f"{cdk_json}: context:")}
    elif code is not None:
        functions = {f.name: f for f in hook_functions(context, code, "the default CDK context:")}
    return apply_overrides(functions, overrides or {}, Path.cwd(), where)
