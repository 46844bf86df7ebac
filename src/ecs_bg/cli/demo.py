"""``ecs-bg demo``: run the seed's hooks through a deployment and a rollback, print each decision."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ecs_bg.cli.main import app
from ecs_bg.sim.demo import LAMBDA_DIR, load_hooks, run_deployment

DECISION_STYLE = {"SUCCEEDED": "green", "FAILED": "red", "IN_PROGRESS": "yellow"}


@app.command()
def demo(
    lambda_dir: Path = typer.Option(LAMBDA_DIR, help="Directory of the hook entry files."),
) -> None:
    """Invoke the four hooks as ECS would at every stage: a good deployment, then a broken green."""
    console = Console(width=max(Console().width, 140))
    if not lambda_dir.is_dir():
        console.print(f"[red]error:[/red] {lambda_dir}: no such directory (run from the repository root)")
        raise typer.Exit(2)
    hooks = load_hooks(lambda_dir)
    outcomes = []
    for title, green_status in (("healthy green", 200), ("green answers 500 on the test listener", 500)):
        status, rows = run_deployment(hooks, green_status)
        table = Table(title=f"BLUE_GREEN deployment, {title}: [bold]{status}[/bold]", title_justify="left")
        for column in ("stage", "hook", "decision"):
            table.add_column(column, no_wrap=True)
        table.add_column("ms", justify="right")
        table.add_column("why", overflow="fold")
        for row in rows:
            style = DECISION_STYLE.get(row.decision, "dim")
            ms = f"{row.duration_ms:.0f}" if row.duration_ms is not None else ""
            table.add_row(row.stage, row.hook, f"[{style}]{row.decision}[/{style}]", ms, row.reason)
        console.print(table)
        outcomes.append(status)
    if outcomes != ["SUCCESSFUL", "ROLLBACK_SUCCESSFUL"]:
        console.print(f"[red]unexpected outcomes: {outcomes}[/red]")
        raise typer.Exit(1)
