"""What several commands share: the AWS connection options, and one-line failures."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer

RegionOption = Annotated[str | None, typer.Option("--region", help="AWS region (default: AWS_REGION).")]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="AWS profile (default: AWS_PROFILE).")]
EndpointOption = Annotated[
    str | None,
    typer.Option("--endpoint-url", help="AWS endpoint URL, e.g. the simulator's local endpoint."),
]


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
