"""``ecs-bg simulate``: the whole ECS blue/green lifecycle on this machine, with your hooks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ecs_bg.cli.main import app
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.hooks.ecs import DeploymentStatus, HookStatus
from ecs_bg.simulate.scenarios import SCENARIOS

if TYPE_CHECKING:  # imported where used: the simulator (aiohttp, moto, boto3) loads only when it runs
    from rich.console import Console, Group

    from ecs_bg.local.runtime import RuntimeName
    from ecs_bg.simulate.outcome import Report
    from ecs_bg.simulate.simulation import Options, Simulation

STATUS_STYLE: dict[str, str] = {
    DeploymentStatus.SUCCESSFUL: "green",
    DeploymentStatus.ROLLBACK_SUCCESSFUL: "yellow",
}
HOOK_STYLE: dict[str, str] = {
    HookStatus.SUCCEEDED: "green",
    HookStatus.FAILED: "red",
    HookStatus.IN_PROGRESS: "yellow",
}


@app.command()
def simulate(
    scenario: str | None = typer.Option(
        None, help=f"One of: {', '.join(SCENARIOS)} (default: the config's, or good)."
    ),
    speed: float | None = typer.Option(
        None, help="Simulated seconds per real second (default: the config's, or 240)."
    ),
    hook_details_reading: str | None = typer.Option(
        None,
        help="replace or merge: how ECS hands IN_PROGRESS hookDetails on (default: the config's or replace).",
    ),
    sim_config: Path | None = typer.Option(
        None,
        help="The simulation config: local commands, speed, load (default: simulation.yml beside --config).",
    ),
    report: Path | None = typer.Option(None, help="Write the JSON report here."),
    html: Path | None = typer.Option(None, help="Write the report as a self-contained HTML page here."),
    config: Path | None = typer.Option(
        None, help="The ecspresso config (default: ecspresso.yml, else ecspresso/ecspresso.yml, here)."
    ),
    cdk_json: Path | None = typer.Option(
        None,
        help="The CDK app's settings (its cdk.json, or its folder): the hook functions the stack defines "
        "(default: simulation.yml's cdkApp, else cdk.json or infrastructure/cdk.json, here).",
    ),
    template: Path | None = typer.Option(
        None,
        help="Your synthesized stacks, a template file or a cloud assembly folder: the load balancer, "
        "target groups, functions, alarms and outputs the local world is built from (default: "
        "simulation.yml's template, else the CDK app's cdk.out).",
    ),
    quiet: bool = typer.Option(False, help="No live view; print the outcome only."),
    runtime: str | None = typer.Option(
        None,
        help="docker (each task runs its task definition's containers in this machine's Docker engine), "
        "process (each task's serving container is a host process) or auto (docker when an engine "
        "answers and the simulation config's containers: gives no host commands). Default: the config's "
        "runtime, or auto.",
    ),
    task_cpu: str | None = typer.Option(
        None,
        help="docker: a task's cpu as Fargate's hard limit (hard) or as CPU shares (shares: full speed "
        "while this machine is idle). Default: the config's taskCpu, or hard.",
    ),
) -> None:
    """Deploy green over blue as ECS would, invoking your hooks, and report what happened."""
    import asyncio

    from rich.console import Console
    from rich.markup import escape

    from ecs_bg.cli.local import RUNTIMES, TASK_CPU, _choice
    from ecs_bg.cli.signals import Stopped, until_stopped
    from ecs_bg.deploy.project import find_cdk_json, find_config, simulation_file
    from ecs_bg.report.html import render as render_html
    from ecs_bg.report.model import DeploymentReport
    from ecs_bg.simulate.config import apply as sim_config_apply
    from ecs_bg.simulate.config import hook_details_reading as read_hook_details_reading
    from ecs_bg.simulate.simulation import Options, SimulationFailed

    console = Console()
    wanted_runtime = _choice("--runtime", runtime, RUNTIMES)
    wanted_cpu = _choice("--task-cpu", task_cpu, TASK_CPU)
    try:
        found = find_config(config)
        options = Options(config=found)
        options.local.runtime = "auto"
        sim_config = sim_config or simulation_file(found)
        configured = sim_config_apply(sim_config, options) if sim_config is not None else None
        options.local.cdk_json = find_cdk_json(cdk_json or options.local.cdk_json)
        if template is not None:  # the command line over simulation.yml
            options.local.template = template
        scenario = scenario or configured or "good"
        chosen = SCENARIOS.get(scenario)
        if chosen is None:
            raise DefinitionError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
        if speed is not None:
            options.local.speed = speed
        if hook_details_reading is not None:
            options.local.hook_details_reading = read_hook_details_reading(
                hook_details_reading, "--hook-details-reading"
            )
        chosen.adjust(options)
        if wanted_cpu is not None:
            options.local.task_cpu = wanted_cpu
        result = asyncio.run(until_stopped(_run(options, console, live=not quiet, runtime=wanted_runtime)))
    except Stopped as stopped:
        console.print(f"stopped by {stopped}; every task and hook worker it started has been stopped")
        raise typer.Exit(128 + stopped.signum) from None
    except DefinitionError as error:
        # One line however narrow the terminal, and brackets in JSON paths ($.x[0]) are not markup.
        console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(2) from None
    except (SimulationFailed, RuntimeError) as error:  # RuntimeError: no engine for --runtime docker
        console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from None
    if report is not None:
        report.write_text(json.dumps(result.to_json(), indent=2))
    if html is not None:
        page = render_html(
            DeploymentReport.from_json(result.to_json()),
            title=f"ecs-bg simulate --scenario {scenario}",
            time_label="simulated seconds since the deployment started",
        )
        html.write_text(page, encoding="utf-8")
    style = STATUS_STYLE.get(result.status, "red")
    production = result.traffic["production"]
    console.print(
        f"scenario {scenario}: [{style}]{result.status}[/{style}] in {result.wall_seconds:.1f} s; production "
        f"{production.get('requests', 0)} requests, {production.get('errors', 0)} failed"
        + (f"; rollback: {result.rollback_reason}" if result.rollback_reason else "")
        + (_left(result) if result.status == DeploymentStatus.ROLLBACK_FAILED else "")
        + _not_evaluated(result)
    )
    raise typer.Exit(0 if result.status == DeploymentStatus.SUCCESSFUL else 1)


def _not_evaluated(result: Report) -> str:
    """Alarms the simulation could not evaluate are said, never left out silently."""
    missed = [a for a in result.alarms.get("watched", []) if not a.get("evaluated", True)]
    return "".join(f"; alarm {a['alarm']} not evaluated: {a['why']}" for a in missed)


def _left(result: Report) -> str:
    """What a failed rollback left: why it failed, where traffic is, which tasks still ran."""
    state = result.final_state
    running = ", ".join(f"{group} {count}" for group, count in state.get("runningTasks", {}).items())
    serving = "green still serves" if state.get("greenServing") else "traffic is back on blue"
    return f"; {result.status_reason}; {serving}; tasks running at the end: {running or 'none'}"


async def _run(options: Options, console: Console, *, live: bool, runtime: RuntimeName | None) -> Report:
    from ecs_bg.cli.local import resolve_runtime
    from ecs_bg.cli.logs import one_line_logs
    from ecs_bg.simulate.simulation import Simulation

    # Every file is read and checked first: a mistake is said before a Docker engine is even asked, and
    # before this process's logging is set up for the servers that run from here on.
    simulation = Simulation(options)
    tasks = resolve_runtime(simulation.local_options, runtime)
    with one_line_logs():
        return await _run_and_show(simulation, console, live=live, tasks_why=tasks.why)


async def _run_and_show(simulation: Simulation, console: Console, *, live: bool, tasks_why: str) -> Report:
    """Run the simulation, printing where it runs once it has started, and with ``live`` its view."""
    from rich.live import Live

    told: list[bool] = []

    def tell_once(sim: Simulation, where: Console) -> None:
        # A command to paste is printed whole (soft_wrap), never inside a table that crops or wraps it.
        if not told:
            told.append(True)
            where.print(f"tasks: {tasks_why}", soft_wrap=True, markup=False, highlight=False)
            where.print(_endpoint_hint(sim), soft_wrap=True, markup=False, highlight=False)

    if not live:
        simulation.on_update = lambda sim: tell_once(sim, console)
        return await simulation.run()
    with Live(console=console, refresh_per_second=8, transient=False) as view:

        def update(sim: Simulation) -> None:
            tell_once(sim, view.console)  # above the live view
            view.update(_render(sim))

        simulation.on_update = update
        report = await simulation.run()
    console.line()
    return report


def _endpoint_hint(sim: Simulation) -> str:
    """How to look at (and act on) the simulated deployment with the live-deployment commands."""
    from ecs_bg.live.aws import Connection
    from ecs_bg.live.commands import Where

    ids = sim.ids
    where = Where(ids.cluster, ids.service, Connection(region=ids.region, endpoint_url=sim.url))
    return f"local AWS endpoint {sim.url}; try: {where.ecs_bg('status')}"


def _render(sim: Simulation) -> Group:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from ecs_bg.simulate.deployment_report import hook_reason

    engine = sim.engine
    if engine is None:  # UpdateService made the deployment; the local ECS has not started it yet
        return Group(Text(f"deployment: {DeploymentStatus.PENDING}"))
    names = sim.names
    stages = Table(title=f"{engine.spec.strategy} deployment: {engine.status}", title_justify="left")
    for column in ("stage", "step", "sim start", "sim end"):
        stages.add_column(column)
    for record in engine.stages:
        end = f"{record.end:.0f}s" if record.end is not None else "…"
        stages.add_row(str(record.stage), str(record.step or ""), f"{record.start:.0f}s", end)
    hooks = Table(title="hook invocations", title_justify="left")
    for column in ("hook", "stage", "status", "reason"):
        hooks.add_column(column)
    for invocation in engine.invocations[-8:]:
        status = invocation.hook_status or "…"
        style = HOOK_STYLE.get(status, "white")
        reason = hook_reason(sim.deployment, invocation)[:90]
        name = names.hook(invocation.hook_id)
        hooks.add_row(name, str(invocation.stage), f"[{style}]{status}[/{style}]", reason)
    traffic = Table(title="traffic", title_justify="left")
    for column in ("listener", "weights", "requests", "errors"):
        traffic.add_column(column)
    server = sim.server
    if server is None:
        return Group(stages, hooks)
    stats = server.traffic()
    for listener in ("production", "test"):
        totals = stats.listeners.get(listener)
        weights = ", ".join(
            f"{group} {weight:g}" for group, weight in names.weights(server.weights(listener)).items()
        )
        traffic.add_row(
            listener,
            weights,
            str(totals.requests if totals else 0),
            str((totals.target_5xx + totals.elb_5xx) if totals else 0),
        )
    return Group(stages, hooks, traffic)
