"""``ecs-bg status``, ``watch``, ``approve`` and ``reject``: a live service deployment in ECS.

Exit codes: 0 the deployment is SUCCESSFUL (watch) or the command did its work; 1 the deployment
ended otherwise (ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED, STOPPED), or approve/reject found nothing to
act on; 2 usage and AWS errors (no credentials, access denied, unknown service); 3 watch timed out.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.live import Live

from ecs_bg.cli.main import app
from ecs_bg.cli.options import EndpointOption, ProfileOption, RegionOption, fail
from ecs_bg.deploy.config import load_config
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.hooks.ecs import DeploymentStatus, HookAction
from ecs_bg.live import deployments
from ecs_bg.live.aws import AwsFailure, Connection, ecs_client
from ecs_bg.live.deployments import Deployment, Refused
from ecs_bg.live.view import headline, pause_instructions, plain_lines, rich_view

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

TIMED_OUT = 3

ClusterOption = Annotated[str | None, typer.Option("--cluster", help="ECS cluster (default: the config's).")]
ServiceOption = Annotated[str | None, typer.Option("--service", help="ECS service (default: the config's).")]
ConfigOption = Annotated[
    Path,
    typer.Option("--config", help="ecspresso config naming region, cluster and service (rendered with env)."),
]
PlainOption = Annotated[bool, typer.Option("--plain", help="Plain text lines (CI logs) instead of tables.")]
HookIdOption = Annotated[
    str | None, typer.Option("--hook-id", help="The PAUSE hook (default: the only one awaiting action).")
]
DEFAULT_CONFIG = Path("ecspresso/ecspresso.yml")


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except (AwsFailure, DefinitionError) as error:
        fail(str(error))
    except Refused as error:
        fail(f"refused: {error}", code=1)


def _service(
    cluster: str | None,
    service: str | None,
    config: Path,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
) -> tuple[ECSClient, str, str]:
    """The ECS client, cluster and service; the config fills what is not given."""
    if cluster is None or service is None:
        ecspresso = load_config(config, os.environ)
        cluster, service = cluster or ecspresso.cluster, service or ecspresso.service
        region = region or ecspresso.region
    return ecs_client(Connection(region, profile, endpoint_url)), cluster, service


def _print(deployment: Deployment, plain: bool) -> None:
    if plain:
        typer.echo("\n".join(plain_lines(deployment)))
        for hook in deployment.awaiting_action:
            typer.echo("\n".join(pause_instructions(deployment, hook)))
    else:
        Console().print(rich_view(deployment))


@app.command()
def status(
    cluster: ClusterOption = None,
    service: ServiceOption = None,
    config: ConfigOption = DEFAULT_CONFIG,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
    plain: PlainOption = False,
) -> None:
    """Show the service's current deployment: stage, revisions, traffic weights, hooks."""
    with _one_line_errors():
        ecs, cluster, service = _service(cluster, service, config, region, profile, endpoint_url)
        arn = deployments.find_deployment_arn(ecs, cluster, service)
        _print(deployments.describe(ecs, arn), plain)


@app.command()
def watch(
    cluster: ClusterOption = None,
    service: ServiceOption = None,
    config: ConfigOption = DEFAULT_CONFIG,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
    plain: PlainOption = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls.", min=0.1)] = 10.0,
    timeout: Annotated[float, typer.Option(help="Give up (exit 3) after this many seconds.", min=0)] = 3600.0,
    started_after: Annotated[
        str | None,
        typer.Option(
            help="Follow only a deployment ECS created at or after this time (ISO 8601 or epoch seconds), "
            "waiting for it to appear: right after a deploy, the newest deployment may be the previous one."
        ),
    ] = None,
) -> None:
    """Follow the current deployment until it ends: exit 0 on SUCCESSFUL, 1 on a rollback or stop."""
    since = _moment("--started-after", started_after) if started_after is not None else None
    deadline = time.monotonic() + timeout
    with _one_line_errors():
        ecs, cluster, service = _service(cluster, service, config, region, profile, endpoint_url)
        arn = _await_deployment(ecs, cluster, service, since, deadline, interval)
        remaining = max(0.0, deadline - time.monotonic())
        if plain:
            ended = deployments.watch(ecs, arn, interval=interval, timeout=remaining, show=_PlainLog().show)
        else:
            with Live(console=Console(), refresh_per_second=4, transient=False) as live:
                ended = deployments.watch(
                    ecs, arn, interval=interval, timeout=remaining, show=lambda d: live.update(rich_view(d))
                )
    if ended is None:
        typer.echo(f"error: the deployment had not ended after {timeout:g} s: {arn}", err=True)
        raise typer.Exit(TIMED_OUT)
    if plain:  # the live table's title already says how it ended
        typer.echo(headline(ended))
    raise typer.Exit(0 if ended.status == DeploymentStatus.SUCCESSFUL else 1)


def _await_deployment(
    ecs: ECSClient, cluster: str, service: str, since: datetime | None, deadline: float, interval: float
) -> str:
    """The deployment to follow; with ``since``, polled for until ECS lists one created since then."""
    while True:
        try:
            return deployments.find_deployment_arn(ecs, cluster, service, created_after=since)
        except deployments.NotStartedYet as error:
            if time.monotonic() + interval > deadline:
                typer.echo(f"error: {error}", err=True)
                raise typer.Exit(TIMED_OUT) from None
        time.sleep(interval)


def _moment(option: str, value: str) -> datetime:
    """ISO 8601 (``Z`` or an offset; naive means UTC) or epoch seconds, as an aware datetime."""
    try:
        moment = (
            datetime.fromtimestamp(float(value), UTC)
            if value.replace(".", "", 1).isdigit()
            else datetime.fromisoformat(value)
        )
    except ValueError:
        fail(f"{option}: {value!r} is neither ISO 8601 (2026-11-30T12:00:00Z) nor epoch seconds")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _PlainLog:
    """CI logs get a block only when something changed, and each PAUSE's instructions once."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last: list[str] = []
        self.announced: set[str] = set()

    def show(self, deployment: Deployment) -> None:
        lines = plain_lines(deployment)
        if lines != self.last:
            self.last = lines
            typer.echo(f"[{time.monotonic() - self.started:6.0f}s] " + "\n".join(lines))
        for hook in deployment.awaiting_action:
            if hook.hook_id not in self.announced:
                self.announced.add(hook.hook_id)
                banner = "!" * 100
                typer.secho("\n".join([banner, *pause_instructions(deployment, hook), banner]), bold=True)


def _continue(
    action: HookAction,
    hook_id: str | None,
    cluster: str | None,
    service: str | None,
    config: Path,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
) -> None:
    with _one_line_errors():
        ecs, cluster, service = _service(cluster, service, config, region, profile, endpoint_url)
        arn = deployments.find_deployment_arn(ecs, cluster, service)
        deployment = deployments.describe(ecs, arn)
        hook = deployments.paused_hook(deployment, hook_id)
        deployments.continue_deployment(ecs, deployment, hook, action)
    verb = (
        "approved: the deployment continues" if action == HookAction.CONTINUE else "rejected: ECS rolls back"
    )
    typer.echo(f"{hook.hook_id} at {deployment.stage} {verb} ({deployment.arn})")


@app.command()
def approve(
    hook_id: HookIdOption = None,
    cluster: ClusterOption = None,
    service: ServiceOption = None,
    config: ConfigOption = DEFAULT_CONFIG,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Continue the deployment past its PAUSE hook (ContinueServiceDeployment, CONTINUE)."""
    _continue(HookAction.CONTINUE, hook_id, cluster, service, config, region, profile, endpoint_url)


@app.command()
def reject(
    hook_id: HookIdOption = None,
    cluster: ClusterOption = None,
    service: ServiceOption = None,
    config: ConfigOption = DEFAULT_CONFIG,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Roll the deployment back at its PAUSE hook (ContinueServiceDeployment, ROLLBACK)."""
    _continue(HookAction.ROLLBACK, hook_id, cluster, service, config, region, profile, endpoint_url)
