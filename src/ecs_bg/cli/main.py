"""The ``ecs-bg`` entry point; each module below registers its commands on ``app``."""

from __future__ import annotations

import atexit
import gc

import typer

# At exit the interpreter's last collections walk every object the command's imports made (~0.3 s
# once boto3, moto and aiohttp are loaded) only to free memory the OS reclaims anyway. Registered
# first, this runs after every other exit handler, when the command has closed all it opened.
atexit.register(gc.freeze)

app = typer.Typer(
    name="ecs-bg",
    help="Amazon ECS native blue/green deployments with Lambda lifecycle hooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Amazon ECS native blue/green deployments with Lambda lifecycle hooks."""


# Imported for their side effect: the commands attach themselves to ``app``. Each of these modules
# imports at its top only what typer needs to build the commands (typer, and the types and defaults
# their options show); a command imports boto3, aiohttp, moto, cfn-lint, rich and the simulator in its
# own body. `ecs-bg --help` and a usage error stay fast, and a command pays only for what it uses
# (tests/cli/test_lazy_imports.py keeps it so).
from ecs_bg.cli import definitions, hooks, live, local, simulate  # noqa: E402

__all__ = ["app", "definitions", "hooks", "live", "local", "simulate"]
