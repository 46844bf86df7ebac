"""The functions a local run invokes, as the user's stacks define them, with simulation.yml's changes.

A function is the template's (its name, handler, environment, timeout, memory, layers; its code the
CDK asset of the cloud assembly). Where the template was read without its assets, the code of the
function of the same name the CDK app's settings define (cdk.json's ``hookCode``, packaged as the
stack packages its hooks) is taken. The CDK app's hooks the template lacks are added as the app
defines them, and simulation.yml's ``functions:`` override or add, last.

``ecs-bg invoke`` and lint take the CDK app's functions alone (``local_functions``); the local world
takes the template's too (``world_functions``).

A value of a function's ``environment`` in simulation.yml may use ecspresso's template functions
(``{{ cfn_output "stack" "Key" }}``, ``{{ env "NAME" "default" }}``, ``cfn_export``, ``must_env``),
rendered as ecspresso renders its files, against the local stacks' outputs (their listener URLs on
this machine): a hook that takes its target from a variable of its own (``ALB_URL``) reaches the
local load balancer.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import (
    POWERTOOLS_LAYER,
    FunctionOverride,
    LambdaFunction,
    apply_overrides,
    entry_hooks,
    render_environment,
)
from ecs_bg.deploy.outputs import cloudformation_functions
from ecs_bg.deploy.stack_context import Env, StackContext, hook_functions, read_cdk_json
from ecs_bg.deploy.template import LookupFailed, env_functions
from ecs_bg.local.cloudformation.cloud import LocalCloud
from ecs_bg.local.lambda_.packages import cache_dir

POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPython"  # in the public layers' ARNs, every version's


def local_functions(
    cdk_json: Path | None,
    code: Path | None = None,
    overrides: Mapping[str, FunctionOverride] | None = None,
    where: str = "simulation.yml:",
    env: Env | None = None,
) -> dict[str, LambdaFunction]:
    """By function name: the CDK app's hook functions (``code`` replaces the context's hookCode folder,
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


def world_functions(
    cloud: LocalCloud,
    app: Mapping[str, LambdaFunction],
    overrides: Mapping[str, FunctionOverride],
    where: str,
    environ: Mapping[str, str] = os.environ,
) -> dict[str, LambdaFunction]:
    """By function name: the templates' functions (``app``: the CDK app's, for code the templates were
    read without), the app's the templates lack, then ``overrides``, their environment rendered
    against ``cloud`` and ``environ`` (``rendered_overrides``)."""
    functions = dict(app)
    for stack in cloud.resources:
        for function in stack.functions:
            known = app.get(function.name)
            layers = POWERTOOLS_LAYER if any(POWERTOOLS_LAYER_NAME in arn for arn in function.layers) else ()
            made = LambdaFunction(
                function.name,
                Path(),
                function.handler,
                {key: cloud.local(value) for key, value in function.environment.items()},
                float(function.timeout_seconds),
                function.memory_mb,
                hook=known.hook if known is not None else None,
                layer_packages=layers,
            )
            if function.code is not None or function.inline_code is not None:
                made = dataclasses.replace(made, code=function.code_folder(cache_dir() / "code"))
            elif known is not None:  # packaged as the app packages its hooks, from their source
                made = dataclasses.replace(made, code=known.code, staged=known.staged)
            else:
                made = dataclasses.replace(made, unavailable=function.missing_code)
            functions[function.name] = made
    return apply_overrides(functions, rendered_overrides(overrides, cloud, environ, where), Path.cwd(), where)


class _LocalOutputs:
    """``cfn_output`` and ``cfn_export`` answered by the local stacks, their failures the renderer's to
    place (it names the expression)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def output(self, stack: str, key: str) -> str:
        try:
            return self.cloud.output(stack, key)
        except DefinitionError as error:
            raise LookupFailed(str(error)) from None

    def export(self, name: str) -> str:
        try:
            return self.cloud.export(name)
        except DefinitionError as error:
            raise LookupFailed(str(error)) from None


def rendered_overrides(
    overrides: Mapping[str, FunctionOverride], cloud: LocalCloud, environ: Mapping[str, str], where: str
) -> dict[str, FunctionOverride]:
    """``overrides`` with each environment value rendered as ecspresso renders a template, its
    ``cfn_output``/``cfn_export`` answered by the local stacks; a value it cannot render is a
    ``DefinitionError`` naming the file (``where``), the function, the variable and the expression."""
    functions = {**env_functions(environ), **cloudformation_functions(_LocalOutputs(cloud))}
    return {
        name: dataclasses.replace(
            override,
            environment=render_environment(
                override.environment, functions, f"{where} functions.{name}.environment"
            ),
        )
        for name, override in overrides.items()
    }
