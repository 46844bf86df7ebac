"""``ecs-bg local``: a local ECS that the AWS CLI, boto3 and deploy tools drive, lifecycle hooks and all."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from ecs_bg.cli.main import app
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.lifecycle.plan import FIRST_DEPLOYMENT_STABLE, ROLLED_BACK_DEPLOYMENT

if TYPE_CHECKING:  # imported where used: aiohttp and moto load only when `local` runs
    from ecs_bg.local.options import LocalOptions
    from ecs_bg.local.runtime import Choice, RuntimeName, TaskCpu
    from ecs_bg.local.server import LocalEcsServer

# As ecs_bg.local.runtime.RUNTIMES and TASK_CPU (not imported here: `ecs-bg --help` stays quick).
RUNTIMES: tuple[RuntimeName, ...] = ("docker", "process", "auto")
TASK_CPU: tuple[TaskCpu, ...] = ("hard", "shares")

SIM_CONFIG = "simulation.yml"  # as `ecs-bg simulate` reads it beside the ecspresso config
DEFAULT_PORT = 4566
T = TypeVar("T", bound=str)  # the port local AWS emulators conventionally answer on


@app.command()
def local(
    port: int = typer.Option(DEFAULT_PORT, help="The port to answer on (127.0.0.1)."),
    region: str = typer.Option("ap-northeast-1", help="The region the local ECS pretends to be."),
    speed: float = typer.Option(240.0, help="Simulated seconds per real second (bake times, timeouts)."),
    config: Path | None = typer.Option(
        None,
        help="The ecspresso config (default: ecspresso.yml, else ecspresso/ecspresso.yml, here): its "
        f"cluster exists from the start; {SIM_CONFIG} beside it, when present, gives functions, lambdaDir, "
        "functionTimeoutSeconds, runtime, images, container commands, alarms, cdkApp, template and the "
        "readings of what ECS leaves unconfirmed.",
    ),
    cdk_json: Path | None = typer.Option(
        None,
        help="The CDK app's settings (its cdk.json, or its folder): the hook functions the stack defines "
        f"(default: {SIM_CONFIG}'s cdkApp, else cdk.json or infrastructure/cdk.json, here).",
    ),
    template: Path | None = typer.Option(
        None,
        help="Your synthesized stacks, a template file or a cloud assembly folder: the load balancer, "
        "target groups, functions, alarms and outputs the local world is built from (default: "
        f"{SIM_CONFIG}'s template, else the CDK app's cdk.out).",
    ),
    runtime: str | None = typer.Option(
        None,
        help="docker (each task runs its task definition's containers in the Docker engine of this "
        "machine), process (each task's serving container is a host process) or auto (docker when an "
        f"engine answers and {SIM_CONFIG}'s containers: gives no host commands). Default: {SIM_CONFIG}'s "
        "runtime, or auto.",
    ),
    task_cpu: str | None = typer.Option(
        None,
        help="docker: a task's cpu as Fargate's hard limit (hard) or as CPU shares (shares: full speed "
        f"while this machine is idle, as ECS on EC2 weighs a container's cpu). Default: {SIM_CONFIG}'s "
        "taskCpu, or hard.",
    ),
    first_deployment_stable: str | None = typer.Option(
        None,
        help=f"{' or '.join(FIRST_DEPLOYMENT_STABLE)}: while a first deployment's hooks run, "
        "DescribeServices counts its running tasks as running, or as pending until the deployment "
        "ends, which holds `services-stable` back (UNCONFIRMED which ECS does; default: "
        f"{SIM_CONFIG}'s, or tasks-running).",
    ),
    rolled_back_deployment: str | None = typer.Option(
        None,
        help=f"{' or '.join(ROLLED_BACK_DEPLOYMENT)}: whether DescribeServices keeps listing a rolled-back "
        "update's revision in `deployments` (ACTIVE, rolloutState FAILED) for five simulated minutes, or "
        f"lists only what serves (UNCONFIRMED which ECS does; default: {SIM_CONFIG}'s, or listed).",
    ),
    allow_origin: list[str] | None = typer.Option(
        None,
        "--allow-origin",
        help="A web page's origin (scheme://host[:port]) that may call the endpoint, with CORS; "
        "repeatable, and ECS_BG_EXTRA_CORS_ALLOWED_ORIGINS (comma-separated) adds more. None by default.",
    ),
) -> None:
    """Serve a local ECS (and moto for the rest of AWS) until Ctrl-C or SIGTERM."""
    import asyncio

    from ecs_bg.cli.logs import one_line_logs
    from ecs_bg.cli.signals import Stopped, until_stopped
    from ecs_bg.deploy.project import find_cdk_json, find_config, simulation_file
    from ecs_bg.local.options import LocalOptions
    from ecs_bg.simulate.config import apply_local

    if not 0 < port < 65536:
        typer.echo(f"error: --port must be 1-65535, got {port}", err=True)
        raise typer.Exit(2)
    if speed <= 0:
        typer.echo(f"error: --speed must be positive, got {speed:g}", err=True)
        raise typer.Exit(2)
    stable = _choice("--first-deployment-stable", first_deployment_stable, FIRST_DEPLOYMENT_STABLE)
    rolled_back = _choice("--rolled-back-deployment", rolled_back_deployment, ROLLED_BACK_DEPLOYMENT)
    origins = _origins(allow_origin or [])
    wanted_runtime = _choice("--runtime", runtime, RUNTIMES)
    wanted_cpu = _choice("--task-cpu", task_cpu, TASK_CPU)
    try:
        options = LocalOptions(
            port=port,
            region=region,
            speed=speed,
            config=find_config(config),
            allowed_origins=origins,
            runtime="auto",
        )
        sim_config = simulation_file(options.config or Path())
        if sim_config is not None:  # its functions, lambdaDir, functionTimeoutSeconds, containers, …
            apply_local(sim_config, options)
        options.cdk_json = find_cdk_json(cdk_json or options.cdk_json)
        if template is not None:  # the command line over simulation.yml
            options.template = template
    except DefinitionError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    if stable is not None:  # the command line over simulation.yml
        options.first_deployment_stable = stable
    if rolled_back is not None:
        options.rolled_back_deployment = rolled_back
    if wanted_cpu is not None:
        options.task_cpu = wanted_cpu
    try:
        chosen = resolve_runtime(options, wanted_runtime)
    except RuntimeError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        with one_line_logs():
            asyncio.run(until_stopped(_serve(options, chosen)))
    except Stopped:
        return  # the way `local` is meant to end: every task and hook worker has been stopped
    except DefinitionError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    except OSError as error:
        typer.echo(f"error: cannot serve on 127.0.0.1:{port}: {error.strerror or error}", err=True)
        raise typer.Exit(1) from None
    except RuntimeError as error:  # the Docker runtime could not be set up (its network, its endpoint)
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def resolve_runtime(options: LocalOptions, flag: RuntimeName | None) -> Choice:
    """The runtime the command line (or else simulation.yml, or else auto) names, resolved; set in
    ``options``. RuntimeError when docker is asked for and no engine answers."""
    from ecs_bg.local.runtime import choose

    given_by = "--runtime" if flag is not None else f"{SIM_CONFIG}'s runtime:"
    if flag is not None:
        options.runtime = flag
    chosen = choose(options.runtime, bool(options.container_commands), given_by)
    options.runtime = chosen.name
    return chosen


def _origins(given: list[str]) -> tuple[str, ...]:
    """The web pages' origins allowed besides the endpoint's own: ECS_BG_EXTRA_CORS_ALLOWED_ORIGINS's,
    then --allow-origin's; a usage error names the malformed one."""
    from ecs_bg.local.request_policy import extra_origins, origin

    try:
        found = list(extra_origins(os.environ))
        for value in given:
            try:
                found.append(origin(value))
            except ValueError as error:
                raise ValueError(f"--allow-origin: {error}") from None
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    return tuple(dict.fromkeys(found))


def _choice(flag: str, value: str | None, readings: tuple[T, ...]) -> T | None:
    """The reading ``value`` names, None when the flag is not given; a usage error for any other."""
    if value is None:
        return None
    for reading in readings:
        if value == reading:
            return reading
    typer.echo(f"error: {flag} must be {' or '.join(readings)}, got {value!r}", err=True)
    raise typer.Exit(2)


async def _serve(options: LocalOptions, chosen: Choice) -> None:
    import asyncio

    from ecs_bg.local.server import LocalEcsServer

    async with LocalEcsServer(options) as server:
        # The shell lines first, alone on stdout, so `eval "$(ecs-bg local | head -3)"` works; then
        # comments: the runtime, the listeners.
        region = options.region
        print(f"export AWS_ENDPOINT_URL={server.url}")
        print(f"export AWS_REGION={region} AWS_DEFAULT_REGION={region}")
        print("export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local")
        print(f"# runtime: {chosen.why}{_runtime_notes(server, options)}")
        listeners = ", ".join(f"{name} listener {url}" for name, url in server.listener_urls.items())
        print(f"# {listeners}; Ctrl-C stops", flush=True)
        sys.stdout.flush()
        await asyncio.Event().wait()  # until a signal cancels this


def _runtime_notes(server: LocalEcsServer, options: LocalOptions) -> str:
    """What the runtime line adds: the Docker runtime's task network and what an earlier killed run
    left that was removed; container commands that the Docker runtime does not use."""
    tasks = server.world.tasks
    if tasks.name != "docker":
        return ""
    from ecs_bg.local.runtime.docker import GATEWAY, NETWORK, SUBNET, DockerRuntime

    assert isinstance(tasks, DockerRuntime)
    notes = f"; tasks on the network {NETWORK} ({SUBNET}), the endpoint also at {GATEWAY} for them"
    notes += f"; task cpu as {'a hard limit' if options.task_cpu == 'hard' else 'CPU shares'}"
    if tasks.removed_leftovers:
        notes += f"; removed {tasks.removed_leftovers} container(s) an earlier killed run left"
    if options.container_commands:
        notes += f"; {SIM_CONFIG}'s containers: commands are for the process runtime and unused"
    return notes
