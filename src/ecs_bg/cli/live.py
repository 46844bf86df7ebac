"""``ecs-bg status``, ``watch``, ``approve`` and ``reject``: a live service deployment in ECS.

Exit codes: 0 the deployment is SUCCESSFUL (watch) or the command did its work; 1 the deployment
ended otherwise (ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED, STOPPED), or approve/reject found nothing to
act on; 2 usage and AWS errors (no credentials, access denied, unknown service); 3 watch timed out.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ecs_bg.cli.main import app
from ecs_bg.cli.options import EndpointOption, ProfileOption, RegionOption, fail
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.hooks.ecs import DeploymentStatus, HookAction

if TYPE_CHECKING:  # imported where used: boto3 and rich load only when a command runs
    from mypy_boto3_ecs import ECSClient
    from rich.console import Console

    from ecs_bg.live.aws import Connection
    from ecs_bg.live.commands import Where
    from ecs_bg.live.decisions import Why
    from ecs_bg.live.deployments import Deployment, Hook

TIMED_OUT = 3
# A CI log shows the watch is alive: a line at least this often while nothing changes, from polls
# at least every PLAIN_POLL_SECONDS, so the gap between two lines stays under a minute.
HEARTBEAT_SECONDS = 45.0
PLAIN_POLL_SECONDS = 10.0

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
DeploymentOption = Annotated[
    str, typer.Option("--deployment", help="A service-deployment ARN, or latest: the service's current one.")
]
HtmlOption = Annotated[Path | None, typer.Option(help="Write the report as a self-contained HTML page here.")]
JsonOption = Annotated[Path | None, typer.Option("--json", help="Write the report's data as JSON here.")]


@contextmanager
def _one_line_errors() -> Iterator[None]:
    from ecs_bg.live.aws import AwsFailure
    from ecs_bg.live.deployments import Refused

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
) -> tuple[Connection, str, str]:
    """How to reach AWS, the cluster and the service; the config fills what is not given."""
    from ecs_bg.deploy.config import load_config
    from ecs_bg.live.aws import Connection

    if cluster is None or service is None:
        ecspresso = load_config(config, os.environ)
        cluster, service = cluster or ecspresso.cluster, service or ecspresso.service
        region = region or ecspresso.region
    return Connection(region, profile, endpoint_url), cluster, service


def _current(
    cluster: str | None,
    service: str | None,
    config: Path,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
) -> tuple[ECSClient, str]:
    """The ECS client and the service's current deployment ARN; the config fills what is not given."""
    from ecs_bg.live import deployments

    connection, cluster, service = _service(cluster, service, config, region, profile, endpoint_url)
    ecs = connection.ecs()
    return ecs, deployments.find_deployment_arn(ecs, cluster, service)


def _where(connection: Connection, deployment: Deployment) -> Where:
    """Where printed commands go: this deployment's service, through the connection this command used."""
    from ecs_bg.live.commands import Where

    return Where(deployment.cluster, deployment.service, replace(connection, region=deployment.region))


def _print_commands(console: Console, lines: list[str]) -> None:
    # soft_wrap: never break a command a person will paste, whatever the width (80 when not a terminal).
    for line in lines:
        console.print(line, soft_wrap=True, markup=False, highlight=False)


def _new_pauses(deployment: Deployment, announced: set[str]) -> list[Hook]:
    """The PAUSE hooks awaiting action that have not been announced yet (now they are)."""
    new = [hook for hook in deployment.awaiting_action if hook.hook_id not in announced]
    announced.update(hook.hook_id for hook in new)
    return new


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
    """Show the service's current deployment: stage, revisions, traffic weights, hooks and why."""
    from rich.console import Console

    from ecs_bg.live import deployments
    from ecs_bg.live.decisions import HookReasons
    from ecs_bg.live.view import pause_commands, pause_instructions, plain_lines, rich_view

    with _one_line_errors():
        connection, cluster, service = _service(cluster, service, config, region, profile, endpoint_url)
        ecs = connection.ecs()
        deployment = deployments.describe(ecs, deployments.find_deployment_arn(ecs, cluster, service))
        why = HookReasons(connection.logs())(deployment)
    where = _where(connection, deployment)
    if plain:
        typer.echo("\n".join(plain_lines(deployment, why)))
        for hook in deployment.awaiting_action:
            typer.echo("\n".join(pause_instructions(deployment, hook, where)))
        return
    console = Console()
    console.print(rich_view(deployment, why))
    for hook in deployment.awaiting_action:
        _print_commands(console, pause_commands(deployment, hook, where))


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
    """Follow the current deployment until it ends: exit 0 on SUCCESSFUL, 1 on a rollback or stop.

    With --plain, a line at least once a minute while nothing changes, so a CI log shows it is alive."""
    from rich.console import Console
    from rich.live import Live

    from ecs_bg.live import deployments
    from ecs_bg.live.decisions import HookReasons
    from ecs_bg.live.view import headline, pause_commands, rich_view

    since = _moment("--started-after", started_after) if started_after is not None else None
    deadline = time.monotonic() + timeout
    with _one_line_errors():
        connection, cluster, service = _service(cluster, service, config, region, profile, endpoint_url)
        ecs = connection.ecs()
        arn = _await_deployment(ecs, cluster, service, since, deadline, interval)
        remaining = max(0.0, deadline - time.monotonic())
        reasons = HookReasons(connection.logs())
        if plain:
            log = PlainLog(connection)
            ended = deployments.watch(
                ecs,
                arn,
                interval=min(interval, PLAIN_POLL_SECONDS),
                timeout=remaining,
                show=lambda d: log.show(d, reasons(d)),
            )
        else:
            console = Console()
            announced: set[str] = set()
            with Live(console=console, refresh_per_second=4, transient=False) as live:

                def show(deployment: Deployment) -> None:
                    live.update(rich_view(deployment, reasons(deployment)))
                    for hook in _new_pauses(deployment, announced):  # above the live view, once
                        where = _where(connection, deployment)
                        _print_commands(live.console, pause_commands(deployment, hook, where))

                ended = deployments.watch(ecs, arn, interval=interval, timeout=remaining, show=show)
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
    from ecs_bg.live import deployments

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


class PlainLog:
    """CI logs get a block only when something changed, each PAUSE's instructions once, and a
    heartbeat line when nothing changed for HEARTBEAT_SECONDS."""

    def __init__(
        self,
        connection: Connection,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.connection, self.clock, self.now = connection, clock, now
        self.started = self.changed = self.printed = clock()
        self.last: list[str] = []
        self.announced: set[str] = set()

    def show(self, deployment: Deployment, why: Why) -> None:
        from ecs_bg.live.view import pause_instructions, plain_lines

        lines = plain_lines(deployment, why)
        moment = self.clock()
        if lines != self.last:
            self.last, self.changed, self.printed = lines, moment, moment
            typer.echo(f"[{moment - self.started:6.0f}s] " + "\n".join(lines))
        elif moment - self.printed >= HEARTBEAT_SECONDS:
            self.printed = moment
            stage = f" at {deployment.stage}" if deployment.stage else ""
            unchanged = int(moment - self.changed)
            typer.echo(
                f"{self.now().astimezone(UTC):%H:%M:%S} still {deployment.status}{stage} "
                f"(unchanged for {unchanged // 60}m {unchanged % 60:02d}s)"
            )
        for hook in _new_pauses(deployment, self.announced):
            banner = "!" * 100
            instructions = pause_instructions(deployment, hook, _where(self.connection, deployment))
            typer.secho("\n".join([banner, *instructions, banner]), bold=True)


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
    from ecs_bg.live import deployments

    with _one_line_errors():
        ecs, arn = _current(cluster, service, config, region, profile, endpoint_url)
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


@app.command()
def report(
    deployment: DeploymentOption = "latest",
    html: HtmlOption = None,
    json_file: JsonOption = None,
    cluster: ClusterOption = None,
    service: ServiceOption = None,
    config: ConfigOption = DEFAULT_CONFIG,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Report a real deployment: ECS's record, the hooks' decisions and the load balancer's traffic."""
    from ecs_bg.live import deployments
    from ecs_bg.live.aws import Connection
    from ecs_bg.live.report import build as build_report
    from ecs_bg.report.html import render as render_html

    if html is None and json_file is None:
        fail("nothing to write: give --html FILE and/or --json FILE")
    with _one_line_errors():
        if deployment == "latest":
            connection, cluster, service = _service(cluster, service, config, region, profile, endpoint_url)
            arn = deployments.find_deployment_arn(connection.ecs(), cluster, service)
        else:  # the ARN names its region: arn:aws:ecs:REGION:ACCOUNT:service-deployment/...
            arn = deployment
            connection = Connection(region or arn.split(":")[3], profile, endpoint_url)
        built = build_report(connection, arn)
    if html is not None:
        html.write_text(render_html(built, title=arn), encoding="utf-8")
    if json_file is not None:
        json_file.write_text(json.dumps(dataclasses.asdict(built), indent=2))
    typer.echo(f"{built.status}: {arn}" + "".join(f" -> {path}" for path in (html, json_file) if path))
