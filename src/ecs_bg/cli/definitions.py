"""`ecs-bg render` and `ecs-bg lint`: the ecspresso files as ECS will receive them."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ecs_bg.cli.main import app
from ecs_bg.cli.options import fail
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.project import find_cdk_json, find_config

if TYPE_CHECKING:  # imported where used: cfn-lint and boto3 load only for the command that needs them
    from ecs_bg.deploy.definitions import Definitions, OutputSourceFactory
    from ecs_bg.deploy.outputs import OutputSource


class What(StrEnum):
    service = "service"
    task = "task"
    config = "config"
    all = "all"


class Format(StrEnum):
    text = "text"
    json = "json"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="The ecspresso config (default: ecspresso.yml, else ecspresso/ecspresso.yml, here)."
    ),
]
OutputsFileOption = Annotated[
    Path | None,
    typer.Option("--outputs-file", help="Read cfn_output values from a `cdk deploy --outputs-file` file."),
]
RegionOption = Annotated[
    str | None, typer.Option("--region", help="CloudFormation region (default: ecspresso.yml's).")
]
ProfileOption = Annotated[str | None, typer.Option("--profile", help="AWS profile for CloudFormation.")]
EndpointOption = Annotated[str | None, typer.Option("--endpoint-url", help="CloudFormation endpoint URL.")]


def _outputs(
    outputs_file: Path | None, region: str | None, profile: str | None, endpoint_url: str | None
) -> OutputSourceFactory:
    def factory(config_region: str | None) -> OutputSource:
        from ecs_bg.deploy.outputs import OutputsFile, cloudformation_source

        if outputs_file is not None:
            return OutputsFile(outputs_file)
        return cloudformation_source(region or config_region, profile, endpoint_url)

    return factory


def _load(config: Path | None, outputs: OutputSourceFactory) -> Definitions:
    from ecs_bg.deploy.definitions import load_definitions

    try:
        return load_definitions(find_config(config), os.environ, outputs)
    except DefinitionError as error:
        fail(str(error))


@app.command()
def render(
    what: Annotated[What, typer.Argument(help="Which rendered file to print.")] = What.all,
    config: ConfigOption = None,
    outputs_file: OutputsFileOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Render the ecspresso templates and print the JSON ecspresso would send to ECS."""
    definitions = _load(config, _outputs(outputs_file, region, profile, endpoint_url))
    documents: dict[str, Any] = {
        "config": definitions.config.document,
        "service": definitions.service,
        "task": definitions.task,
    }
    typer.echo(json.dumps(documents if what is What.all else documents[what.value], indent=2))


@app.command("lint")
def lint_command(
    config: ConfigOption = None,
    outputs_file: OutputsFileOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
    image_platform: Annotated[
        list[str] | None,
        typer.Option(
            "--image-platform",
            help="Platforms the image is built for, as given to docker buildx (linux/arm64,linux/amd64).",
        ),
    ] = None,
    output_format: Annotated[Format, typer.Option("--format", help="text or json.")] = Format.text,
    cdk_json: Annotated[
        Path | None,
        typer.Option(
            help="The CDK app's settings (its cdk.json, or its folder): which hook functions the stack "
            "has, to judge their hookDetails (default: cdk.json, else infrastructure/cdk.json, here)."
        ),
    ] = None,
) -> None:
    """Check the rendered definitions against ECS's API model and blue/green rules; exit 1 on errors."""
    from ecs_bg.deploy.lint import has_errors, image_architectures, lint
    from ecs_bg.deploy.rules import LintOptions
    from ecs_bg.local.lambda_.functions import local_functions

    definitions = _load(config, _outputs(outputs_file, region, profile, endpoint_url))
    try:
        options = LintOptions(
            image_architectures=image_architectures(image_platform or []),
            functions=local_functions(find_cdk_json(cdk_json)),
        )
    except DefinitionError as error:
        fail(str(error))
    findings = lint(definitions, options)
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if output_format is Format.json:
        report = {"findings": [f.as_dict() for f in findings], "errors": errors, "warnings": warnings}
        typer.echo(json.dumps(report, indent=2))
    else:
        for f in findings:
            typer.echo(f"{f.file}: {f.path}: {f.rule} {f.severity}: {f.message}\n    fix: {f.hint}")
        typer.echo(f"{errors} error(s), {warnings} warning(s)")
    if has_errors(findings):
        raise typer.Exit(1)
