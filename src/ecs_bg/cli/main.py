"""The `ecs-bg` application; each command group registers itself from its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="ecs-bg",
    help="Amazon ECS native blue/green deployments with Lambda lifecycle hooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Imported for their side effect: the commands attach themselves to `app`.
from ecs_bg.cli import definitions as _definitions  # noqa: E402, F401
