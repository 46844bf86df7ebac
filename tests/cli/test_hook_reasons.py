"""``watch`` and ``status`` say why: each hook's own ``hook decision`` line next to ECS's status.

ECS's answers come from the local endpoint (tests/cli/local_ecs.py); CloudWatch Logs is moto's, behind
the same URL, seeded with the lines a real hook handler wrote. (The simulator does not write its
hooks' output to CloudWatch Logs yet, so a simulated deployment cannot show them.)
"""

from __future__ import annotations

import io
import itertools
import json
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from typer.testing import CliRunner

from ecs_bg.cli.live import PlainLog
from ecs_bg.cli.main import app
from ecs_bg.hooks import HookContext, HookResult, LifecycleHook, Stage
from ecs_bg.lifecycle.events import ServiceIds, lifecycle_event
from ecs_bg.live import deployments
from ecs_bg.live.aws import Connection
from ecs_bg.live.decisions import HookReasons
from tests.cli.local_ecs import IDS, Ecs, hook
from tests.conftest import LocalServer, VirtualClock

runner = CliRunner()
FUNCTION = "after-install"
FUNCTION_ARN = f"arn:aws:lambda:{IDS.region}:{IDS.account}:function:{FUNCTION}"
_names = itertools.count()


def decision_lines(stage: Stage, *answers: HookResult, ids: ServiceIds = IDS) -> list[str]:
    """The log lines a real hook handler writes answering ``answers`` in turn at ``stage``."""
    stream = io.StringIO()
    # A unique logger name per hook: Powertools loggers of one name share their first handler.
    real = LifecycleHook(f"{FUNCTION}-{next(_names)}", log_stream=stream)
    given = iter(answers)

    @real.stage(stage)
    def decide(ctx: HookContext) -> HookResult:
        return next(given)

    for _ in answers:
        real.handler(lifecycle_event(stage, ids=ids))
    return [line for line in stream.getvalue().splitlines() if '"hook decision"' in line]


def put_lines(url: str, function: str, lines: list[tuple[datetime, str]]) -> None:
    """Lines into the function's log group, as Lambda writes them."""
    logs = boto3.client("logs", region_name=IDS.region, endpoint_url=url)
    group = f"/aws/lambda/{function}"
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
    stream = f"2026/11/30/[$LATEST]{next(_names)}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    events = [{"timestamp": int(at.timestamp() * 1000), "message": line} for at, line in lines]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


@pytest.fixture
def failed(ecs: tuple[Ecs, str]) -> tuple[Ecs, str]:
    """A deployment rolled back because the after-install hook failed; its lines are in its log group."""
    fake, url = ecs
    started = datetime.now(UTC) - timedelta(minutes=10)
    fake.created_at, fake.finished_at = started.timestamp(), (started + timedelta(minutes=9)).timestamp()
    fake.status, fake.stage = "ROLLBACK_SUCCESSFUL", "CLEAN_UP"
    fake.rollback_reason = "Lifecycle hook after-install failed at POST_SCALE_UP"
    fake.hooks = [hook("after-install-hook", "FAILED", "AWS_LAMBDA", FUNCTION_ARN)]
    waiting, failing = decision_lines(
        Stage.POST_SCALE_UP,
        HookResult.in_progress("green has 1/2 tasks healthy", callback_delay=30),
        HookResult.failed("green has 1/2 tasks healthy after 300 s: task abc stopped (exit 1)"),
    )
    before = decision_lines(Stage.POST_SCALE_UP, HookResult.failed("the previous deployment's failure"))[0]
    other = decision_lines(
        Stage.POST_SCALE_UP, HookResult.failed("another service's failure"), ids=ServiceIds(service="other")
    )[0]
    put_lines(
        url,
        FUNCTION,
        [
            (started - timedelta(minutes=5), before),  # an earlier deployment: outside the window
            (started + timedelta(minutes=1), waiting),
            (started + timedelta(minutes=6), failing),
            (started + timedelta(minutes=7), other),  # another service logging through the same function
        ],
    )
    return fake, url


def test_watch_shows_the_hooks_own_reason_next_to_ecs_status(failed: tuple[Ecs, str]) -> None:
    _, url = failed
    result = runner.invoke(app, ["watch", "--plain", "--cluster", IDS.cluster, "--service", IDS.service,
                                 "--endpoint-url", url])  # fmt: skip
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    hook_line = next(i for i, line in enumerate(lines) if "hook after-install-hook" in line)
    assert lines[hook_line + 1].startswith(
        "    why: green has 1/2 tasks healthy after 300 s: task abc stopped (exit 1) "
        "(answered FAILED at POST_SCALE_UP, "
    )
    assert "reason: Lifecycle hook after-install failed at POST_SCALE_UP" in result.stdout
    assert "previous deployment" not in result.stdout
    assert "another service" not in result.stdout
    assert "note:" not in result.stdout


def test_status_shows_the_reason_in_its_table(failed: tuple[Ecs, str]) -> None:
    _, url = failed
    result = runner.invoke(app, ["status", "--cluster", IDS.cluster, "--service", IDS.service,
                                 "--endpoint-url", url], env={"COLUMNS": "250"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "hook's reason" in result.stdout
    assert "green has 1/2 tasks healthy after 300 s: task abc stopped (exit 1)" in result.stdout


def test_no_log_group_degrades_to_ecs_reason_with_a_note(ecs: tuple[Ecs, str]) -> None:
    fake, url = ecs
    fake.created_at = time.time() - 60
    fake.hooks = [hook("after-install-hook", "FAILED", "AWS_LAMBDA", FUNCTION_ARN)]
    result = runner.invoke(app, ["status", "--plain", "--cluster", IDS.cluster, "--service", IDS.service,
                                 "--endpoint-url", url])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        f"  note: hook reasons of {FUNCTION} unavailable: no log group /aws/lambda/{FUNCTION}"
        in result.stdout
    )


def test_access_denied_degrades_to_ecs_reason_with_a_note(
    ecs: tuple[Ecs, str], http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = ecs
    fake.created_at = time.time() - 60
    fake.hooks = [hook("after-install-hook", "FAILED", "AWS_LAMBDA", FUNCTION_ARN)]
    denied = {
        "__type": "AccessDeniedException",
        "message": "User: x is not authorized to perform: logs:Filter",
    }
    http_server.routes["/"] = (400, json.dumps(denied))
    # ECS from the local endpoint, CloudWatch Logs from a server that says no (service-specific endpoints).
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", http_server.url)
    for args in (["status", "--plain"], ["watch", "--plain", "--timeout", "0"], ["status"]):
        result = runner.invoke(app, [*args, "--cluster", IDS.cluster, "--service", IDS.service],
                               env={"COLUMNS": "300"})  # fmt: skip
        assert result.exit_code in (0, 3), result.output  # watch times out, nothing fails
        assert (
            f"note: hook reasons of {FUNCTION} unavailable: access denied calling logs:FilterLogEvents "
            f"on /aws/lambda/{FUNCTION}" in result.stdout
        )
    assert http_server.hits["/"] == 3  # once per command, never more


def test_a_watch_looks_up_reasons_only_when_a_hook_changes_or_is_still_working(ecs: tuple[Ecs, str]) -> None:
    fake, url = ecs
    started = datetime.now(UTC) - timedelta(minutes=10)
    fake.created_at = started.timestamp()
    fake.hooks = [hook("after-install-hook", "IN_PROGRESS", "AWS_LAMBDA", FUNCTION_ARN)]
    waiting, done = decision_lines(
        Stage.POST_SCALE_UP,
        HookResult.in_progress("waiting for green", callback_delay=30),
        HookResult.succeeded(),
    )
    put_lines(url, FUNCTION, [(started + timedelta(minutes=1), waiting)])
    connection = Connection(IDS.region, endpoint_url=url)
    logs = connection.logs()
    calls: list[str] = []
    logs.meta.events.register("before-call.logs.FilterLogEvents", lambda **_: calls.append("filter"))
    clock = VirtualClock()
    reasons = HookReasons(logs, clock=clock.monotonic)
    seen: list[str] = []

    def show(deployment: deployments.Deployment) -> None:
        why = reasons(deployment)
        seen.append(why.reasons["after-install-hook"].status if why.reasons else "-")
        if clock.now - 1_000_000 >= 100 and fake.hooks[0]["status"] == "IN_PROGRESS":
            put_lines(url, FUNCTION, [(started + timedelta(minutes=2), done)])
            fake.hooks = [hook("after-install-hook", "SUCCEEDED", "AWS_LAMBDA", FUNCTION_ARN)]

    deployments.watch(
        connection.ecs(), IDS.deployment_arn, interval=10, timeout=300, show=show,
        clock=clock.monotonic, sleep=clock.sleep,
    )  # fmt: skip
    # 31 polls: a lookup at the first, again 60 s later while IN_PROGRESS, once on the change to
    # SUCCEEDED; then the decision agrees with ECS and nothing is asked any more.
    assert len(seen) == 31
    assert calls == ["filter"] * 3
    assert seen[:11] == ["IN_PROGRESS"] * 11
    assert seen[-1] == "SUCCEEDED"


def test_watch_plain_prints_a_heartbeat_at_least_once_a_minute(
    ecs: tuple[Ecs, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, url = ecs
    connection = Connection(IDS.region, endpoint_url=url)
    clock = VirtualClock()
    log = PlainLog(connection, clock=clock.monotonic, now=lambda: datetime.fromtimestamp(clock.now, UTC))
    reasons = HookReasons(connection.logs(), clock=clock.monotonic)
    deployments.watch(
        connection.ecs(), IDS.deployment_arn, interval=10, timeout=600,
        show=lambda d: log.show(d, reasons(d)), clock=clock.monotonic, sleep=clock.sleep,
    )  # fmt: skip
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[     0s] my-service (my-cluster): IN_PROGRESS at POST_SCALE_UP")
    beats = [line for line in out if " still " in line]
    assert beats[0] == "13:47:30 still IN_PROGRESS at POST_SCALE_UP (unchanged for 0m 50s)"
    assert beats[-1].endswith("(unchanged for 10m 00s)")
    seconds = [0] + [int(line.split("for ")[1].split("m")[0]) * 60 + int(line[-4:-2]) for line in beats]
    assert max(b - a for a, b in itertools.pairwise(seconds)) <= 60
    assert len(out) == len(plain_block(out)) + len(beats)  # nothing else printed: the block once


def plain_block(out: list[str]) -> list[str]:
    return list(itertools.takewhile(lambda line: " still " not in line, out))
