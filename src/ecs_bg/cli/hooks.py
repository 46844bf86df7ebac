"""``ecs-bg events`` and ``ecs-bg invoke``: a hook entry file, run on this machine as ECS would call it.

``invoke`` exit codes: 0 the hook answered SUCCEEDED; 1 ECS would roll back (FAILED, an exception,
a timeout, an invalid answer); 2 usage errors (no such hook file, bad JSON); 3 IN_PROGRESS (ECS
would invoke it again after ``callBackDelay``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ecs_bg.cli.main import app
from ecs_bg.cli.options import EndpointOption, ProfileOption, RegionOption, fail
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.project import find_cdk_json
from ecs_bg.hooks.config import HOOK_DETAILS_ENV
from ecs_bg.hooks.contract import judge
from ecs_bg.hooks.ecs import SHIFT_STAGES, TRAFFIC_SHIFT_STRATEGIES, HookStatus, Stage, Strategy, one_of
from ecs_bg.hooks.result import DEFAULT_CALLBACK_DELAY
from ecs_bg.lifecycle.events import ServiceIds, default_percent, lifecycle_event, step_count

if TYPE_CHECKING:  # imported where used, so that `ecs-bg --help` stays fast
    from ecs_bg.deploy.functions import LambdaFunction
    from ecs_bg.live.hook_event import RealDeployment
    from ecs_bg.local.lambda_.runner import Invocation

EXIT_CODES: dict[str, int] = {
    HookStatus.SUCCEEDED: 0,
    HookStatus.IN_PROGRESS: 3,
}  # anything else rolls back: 1
DECISION_STYLE: dict[str, str] = {HookStatus.SUCCEEDED: "green", HookStatus.IN_PROGRESS: "yellow"}


HookDetailsOption = Annotated[
    str | None, typer.Option("--hook-details", help="The hook's hookDetails, JSON: '{\"smokeTest\": false}'.")
]


def _hook_details(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        details = json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"--hook-details is not JSON: {error}")
    if not isinstance(details, dict):
        fail("--hook-details must be a JSON object")
    return details


@app.command()
def events(
    stage: Annotated[Stage, typer.Option("--stage", help="The lifecycle stage.")],
    strategy: Annotated[Strategy, typer.Option(help="The deployment strategy.")] = Strategy.BLUE_GREEN,
    step: Annotated[int, typer.Option(help="LINEAR/CANARY traffic shift, from 1.", min=1)] = 1,
    percent: Annotated[
        float | None,
        typer.Option(help="LINEAR stepPercent or CANARY canaryPercent (default 10 / 5).", min=0.1, max=100),
    ] = None,
    rollback: Annotated[bool, typer.Option(help="The re-invocation during a rollback.")] = False,
    first_deployment: Annotated[bool, typer.Option(help="No blue revision: the service's first.")] = False,
    hook_details: HookDetailsOption = None,
    cluster: Annotated[str | None, typer.Option(help="Cluster in the ARNs.")] = None,
    service: Annotated[str | None, typer.Option(help="Service in the ARNs.")] = None,
    region: Annotated[str | None, typer.Option(help="Region in the ARNs.")] = None,
    account: Annotated[str | None, typer.Option(help="Account in the ARNs.")] = None,
) -> None:
    """Print the event ECS sends a hook at STAGE, with the traffic weights of that stage."""
    if rollback and stage not in SHIFT_STAGES:
        fail("ECS re-invokes only TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT hooks during a rollback")
    if strategy not in TRAFFIC_SHIFT_STRATEGIES:
        fail(f"events are built for traffic-shift deployments: --strategy {one_of(TRAFFIC_SHIFT_STRATEGIES)}")
    steps = step_count(strategy, percent if percent is not None else default_percent(strategy))
    if step > steps:
        fail(f"a {strategy} deployment with these settings has {steps} traffic shift step(s), not {step}")
    given = {"cluster": cluster, "service": service, "region": region, "account": account}
    event = lifecycle_event(
        stage,
        ids=dataclasses.replace(ServiceIds(), **{k: v for k, v in given.items() if v is not None}),
        strategy=strategy,
        step=step,
        percent=percent,
        rollback=rollback,
        first_deployment=first_deployment,
        hook_details=_hook_details(hook_details),
    )
    typer.echo(json.dumps(event, indent=2))


def _function(hook: str, functions: dict[str, LambdaFunction]) -> LambdaFunction:
    """A stack function by hook (before_install, before-install), function name or entry-file name, or
    a .py file (its folder is the code folder; a stack function with that entry file keeps its settings)."""
    from ecs_bg.deploy.functions import LambdaFunction

    if hook.endswith(".py"):
        path = Path(hook).resolve()
        if not path.is_file():
            fail(f"{hook}: no such hook entry file")
        same = [f for f in functions.values() if f.entry_file() == path]
        return same[0] if same else LambdaFunction.for_entry(path)
    for function in functions.values():
        if hook in (function.name, function.hook, function.hook_id, function.module):
            return function
    names = sorted(f.hook_id for f in functions.values())
    return fail(f"{hook}: no such hook entry file or function (hooks: {', '.join(names) or 'none'})")


def _environment(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, found, value = pair.partition("=")
        if not found or not key:
            fail(f"--env {pair!r} must be KEY=VALUE")
        env[key] = value
    return env


def _invoker_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """What of this shell a hook run by ``invoke`` gets, besides Lambda's variables and the function's
    own: the user's access to AWS, which stands in for the execution role's and is meant for it, as
    the hook runs against the user's account (or --endpoint-url's): every AWS_* setting (keys,
    session token, profile, config and credentials files, endpoints, CA bundle) and HOME, under which
    boto3 finds ~/.aws (config, credentials, the SSO token cache); and the settings the stack gives
    its functions, as this shell sets them (ECS_BG_*, Powertools' POWERTOOLS_*). Nothing else of the
    shell reaches the hook; --env adds to it."""
    prefixes = ("AWS_", "ECS_BG_", "POWERTOOLS_")
    chosen = {k: v for k, v in environ.items() if k.startswith(prefixes)}
    if "HOME" in environ:
        chosen["HOME"] = environ["HOME"]
    return chosen


def _read_event(path: Path) -> dict[str, Any]:
    try:
        event = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        fail(f"{path}: cannot read the event: {error}")
    if not isinstance(event, dict):
        fail(f"{path}: the event must be a JSON object")
    return event


async def _invoke_once(function: LambdaFunction, event: dict[str, Any], env: dict[str, str]) -> Invocation:
    from ecs_bg.local.lambda_.runner import LambdaRunner

    runner = LambdaRunner({function.name: function}, environment=env)
    try:
        return await runner.invoke(function.name, event)
    finally:
        await runner.close()


@app.command()
def invoke(
    hook: Annotated[
        str,
        typer.Argument(
            help="A hook (before_install), one of the stack's function names, or a path to a .py file."
        ),
    ],
    stage: Annotated[
        Stage | None, typer.Option("--stage", help="Build the event ECS sends at this stage.")
    ] = None,
    event_file: Annotated[
        Path | None, typer.Option("--event", help="Send this event (JSON, e.g. from `ecs-bg events`).")
    ] = None,
    hook_details: HookDetailsOption = None,
    handler: Annotated[
        str | None,
        typer.Option(
            help="The handler, module.function as Lambda takes it (app.lambda_handler), or a function."
        ),
    ] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", help="KEY=VALUE in the function's environment (repeatable).")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="The function's timeout in seconds (default: the stack's).", min=1)
    ] = None,
    memory: Annotated[
        int | None,
        typer.Option(help="The function's memory in MB (default: the stack's).", min=128, max=10240),
    ] = None,
    deployment: Annotated[
        str | None,
        typer.Option(
            "--deployment",
            help="Build the event at --stage from this service deployment (its ARN), as ECS describes it "
            "through --endpoint-url/--region: its real revisions and weights.",
        ),
    ] = None,
    latest: Annotated[
        bool,
        typer.Option(
            "--latest", help="Like --deployment, with the current deployment of --cluster/--service."
        ),
    ] = False,
    step: Annotated[int, typer.Option(help="LINEAR/CANARY traffic shift, from 1.", min=1)] = 1,
    rollback: Annotated[
        bool, typer.Option(help="The re-invocation during a rollback (the shift stages only).")
    ] = False,
    cluster: Annotated[
        str | None, typer.Option(help="The cluster in the built event (with --latest: whose deployment).")
    ] = None,
    service: Annotated[
        str | None, typer.Option(help="The service in the built event (with --latest: whose deployment).")
    ] = None,
    lambda_dir: Annotated[
        Path | None, typer.Option(help="The hooks' code folder (default: the CDK app's hookCode).")
    ] = None,
    cdk_json: Annotated[
        Path | None,
        typer.Option(
            help="The CDK app's settings (its cdk.json, or its folder): each hook runs as its function "
            f"is defined there (handler, environment, timeout, memory, hookDetails as {HOOK_DETAILS_ENV} "
            "unless that variable is set here; default: cdk.json, else infrastructure/cdk.json, here)."
        ),
    ] = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Run one hook function as Lambda would, with ECS's event; print its answer, timing and output."""
    import asyncio

    from ecs_bg.deploy.functions import HANDLER
    from ecs_bg.local.lambda_.functions import local_functions

    if (deployment is not None or latest) and stage is None:
        fail("--deployment and --latest build the event at a --stage: give one")
    if (stage is None) == (event_file is None):
        fail("give --stage (an event is built for it) or --event FILE, not both")
    if deployment is not None and latest:
        fail("give --deployment ARN or --latest, not both")
    if latest and (cluster is None or service is None):
        fail("--latest needs --cluster and --service: the service whose current deployment to use")
    if rollback and stage not in SHIFT_STAGES:
        fail("ECS re-invokes only TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT hooks during a rollback")
    try:
        functions = local_functions(find_cdk_json(cdk_json), lambda_dir)
    except DefinitionError as error:
        fail(str(error))
    function = _function(hook, functions)
    # The function's own variables, each as this shell sets it if it does (set here wins).
    environment = {k: os.environ.get(k, v) for k, v in function.environment.items()}
    full_handler = function.handler
    if handler is not None:
        full_handler = handler if "." in handler else f"{function.module}.{handler}"
        if not HANDLER.fullmatch(full_handler):
            fail(f"--handler must be module.function (or a function of {function.module}), got {handler!r}")
    given_env = _environment(env or [])
    function = dataclasses.replace(
        function,
        handler=full_handler,
        environment={**environment, **given_env},
        timeout_seconds=timeout or function.timeout_seconds,
        memory_mb=memory or function.memory_mb,
    )
    details = _hook_details(hook_details)
    asked = region  # where to ask ECS for --latest: --region, else boto3's own (AWS_REGION, the profile)
    # The function runs in the deployment's region, as Lambda would: --region, else the environment's,
    # else the built event's default.
    region = (
        region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ServiceIds().region
    )
    if event_file is not None:
        event = _read_event(event_file)
        if details is not None:
            event["hookDetails"] = {**event.get("hookDetails", {}), **details}
    elif deployment is not None or latest:
        assert stage is not None
        real = _real_deployment(deployment, cluster, service, asked, profile, endpoint_url)
        region = real.region  # the function runs where the deployment is
        _check_step(real.strategy, real.percent, step)
        event = real.event(stage, step=step, rollback=rollback, hook_details=details)
    else:
        assert stage is not None
        given = {"region": region, "cluster": cluster, "service": service}
        ids = dataclasses.replace(ServiceIds(), **{k: v for k, v in given.items() if v is not None})
        _check_step(Strategy.BLUE_GREEN, default_percent(Strategy.BLUE_GREEN), step)
        event = lifecycle_event(stage, ids=ids, rollback=rollback, hook_details=details)
    if any("{{" in value for value in environment.values()):
        # The stack's hookFunctions environment may name its outputs: cdk synth resolves them into
        # the template; here they are read from CloudFormation (or --endpoint-url's), as `ecs-bg render`.
        rendered = _rendered(environment, function, cdk_json, region, profile, endpoint_url)
        function = dataclasses.replace(function, environment={**rendered, **given_env})
    # The hook reaches AWS with boto3 as in Lambda, through these; unset ones keep the environment's.
    given = {
        "AWS_REGION": region,
        "AWS_PROFILE": profile,
        "AWS_ENDPOINT_URL": endpoint_url,
    }
    access = {**_invoker_environment(os.environ), **{k: v for k, v in given.items() if v is not None}}
    done = asyncio.run(_invoke_once(function, event, access))
    _report(done)


def _rendered(
    environment: dict[str, str],
    function: LambdaFunction,
    cdk_json: Path | None,
    region: str,
    profile: str | None,
    endpoint_url: str | None,
) -> dict[str, str]:
    """``environment`` (the stack's, for ``function``) rendered with ``env`` and ``cfn_output``, the
    outputs read through DescribeStacks; what cannot be rendered is one line, exit 2."""
    from ecs_bg.deploy.functions import render_environment
    from ecs_bg.deploy.outputs import cloudformation_functions, cloudformation_source
    from ecs_bg.deploy.template import env_functions

    where = f"{find_cdk_json(cdk_json) or 'cdk.json'}: context: hookFunctions.{function.hook}.environment"
    try:
        source = cloudformation_source(region, profile, endpoint_url)
        functions = {**env_functions(os.environ), **cloudformation_functions(source)}
        return render_environment(environment, functions, where)
    except DefinitionError as error:
        fail(str(error))


def _check_step(strategy: Strategy, percent: float, step: int) -> None:
    steps = step_count(strategy, percent)
    if step > steps:
        fail(f"a {strategy} deployment with these settings has {steps} traffic shift step(s), not {step}")


def _real_deployment(
    arn: str | None,
    cluster: str | None,
    service: str | None,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
) -> RealDeployment:
    """The deployment ``arn``, or (None) the current one of ``cluster``/``service``, as ECS describes
    it; any failure to ask is one line, exit 2."""
    from ecs_bg.live.aws import AwsFailure, Connection
    from ecs_bg.live.deployments import find_deployment_arn
    from ecs_bg.live.hook_event import real_deployment

    if arn is not None:
        parts = arn.split(":", 5)
        if len(parts) != 6 or not parts[5].startswith("service-deployment/"):
            fail(
                f"--deployment {arn!r} is not a service-deployment ARN (arn:aws:ecs:REGION:ACCOUNT:"
                "service-deployment/CLUSTER/SERVICE/ID)"
            )
        region = parts[3]  # ECS answers for a deployment in its own region
    try:
        ecs = Connection(region, profile, endpoint_url).ecs()
        if arn is None:
            assert cluster is not None
            assert service is not None
            arn = find_deployment_arn(ecs, cluster, service)
        return real_deployment(ecs, arn)
    except AwsFailure as error:
        fail(str(error))


def _report(done: Invocation) -> None:
    from rich.console import Console
    from rich.json import JSON
    from rich.text import Text

    console = Console()
    answer = judge(done.response, done.error, DEFAULT_CALLBACK_DELAY)
    console.print(Text(f"{done.log_group} {done.log_stream}", style="dim"), soft_wrap=True)
    for raw in done.output.splitlines():
        line = _json_object(raw)
        if line is None:  # the function's own print, stderr, traceback: as written
            console.print(Text(raw), soft_wrap=True)
            continue
        level = line.get("level", "INFO")
        rest = {k: v for k, v in line.items() if k not in ("level", "message", "timestamp", "location")}
        # Text, not markup: a log line's own brackets must print as they are.
        message = str(line.get("message", ""))
        text = Text.assemble((f"{level:<7} ", "dim"), message, (f" {json.dumps(rest, default=str)}", "dim"))
        console.print(text, soft_wrap=True)
    if done.error is None:
        console.print(JSON(json.dumps(done.response, default=str)))
    else:
        console.print(Text(done.error, style="red"), soft_wrap=True)
    style = DECISION_STYLE.get(answer.status, "red")
    start = "cold" if done.cold else "warm"
    console.print(f"[{style}]{answer.status}[/{style}] in {done.duration_ms:.0f} ms ({start} start)")
    if answer.problem:
        console.print(Text(f"ECS would roll back: {answer.problem}"), soft_wrap=True)
    if answer.status == HookStatus.IN_PROGRESS:
        console.print(f"ECS would invoke it again after {answer.callback_delay} s")
    raise typer.Exit(EXIT_CODES.get(answer.status, 1))


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
