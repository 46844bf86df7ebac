"""The ``ecs-bg`` entry point; each module below registers its commands on ``app``."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="ecs-bg",
    help="Amazon ECS native blue/green deployments with Lambda lifecycle hooks.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """Amazon ECS native blue/green deployments with Lambda lifecycle hooks."""


from ecs_bg.cli import demo  # noqa: E402  - registers its commands on app

__all__ = ["app", "demo"]
