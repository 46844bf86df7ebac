"""status, watch, approve and reject against a simulated deployment held at a PAUSE hook.

The simulation runs in its own thread and event loop, serving ECS's API on its local endpoint; the
commands reach it with unmodified boto3 through ``--endpoint-url``, as they reach ECS.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.validate import validate_parameters
from typer.testing import CliRunner

from ecs_bg.cli.main import app
from ecs_bg.simulate.outcome import Report
from ecs_bg.simulate.scenarios import SCENARIOS
from ecs_bg.simulate.simulation import Simulation
from tests.conftest import sample_options
from tests.sim.local_ecs_process import finished

pytestmark = pytest.mark.slow  # each test runs a whole simulated deployment
runner = CliRunner()


@dataclass
class Running:
    sim: Simulation
    outcome: Future[Report]

    @property
    def where(self) -> list[str]:
        ids = self.sim.ids
        return ["--cluster", ids.cluster, "--service", ids.service, "--region", ids.region,
                "--endpoint-url", self.sim.url]  # fmt: skip

    def run(self, *args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, [*args, *self.where])
        return result.exit_code, result.stdout, result.stderr

    def wait_for_pause(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            engine = self.sim.engine
            if engine is not None and any(
                h["status"] == "AWAITING_ACTION" for h in engine.lifecycle_hook_details()
            ):
                return
            assert not self.outcome.done(), self.outcome.result().to_json()
            time.sleep(0.1)
        raise AssertionError("the PAUSE hook never awaited action")


@pytest.fixture
def paused() -> Iterator[Running]:
    """The pause scenario with nobody to decide: it waits at POST_TEST_TRAFFIC_SHIFT for us."""
    options = sample_options()
    SCENARIOS["pause-approve"].adjust(options)
    options.pause_decisions.clear()
    sim = Simulation(options)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    outcome = asyncio.run_coroutine_threadsafe(sim.run(), loop)
    running = Running(sim, outcome)
    try:
        running.wait_for_pause()
        yield running
    finally:
        if (
            sim.deployment is not None and not sim.deployment.final
        ):  # still paused: end it, not wait out its timeout
            ecs = boto3.client("ecs", region_name=sim.ids.region, endpoint_url=sim.url)
            arn = sim.deployment.arn
            ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
            # Looked at until it has ended, as the watch that follows a decision does: the endpoint
            # waits for that watch (up to 15 s) before it closes.
            finished(ecs, arn, timeout=60)
        outcome.result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def test_approve_continues_the_pause_and_watch_exits_0(paused: Running) -> None:
    code, out, _ = paused.run("status", "--plain")
    assert code == 0
    assert "IN_PROGRESS at POST_TEST_TRAFFIC_SHIFT" in out
    assert "hook ecs-pause-1 (PAUSE): AWAITING_ACTION" in out
    assert "then ROLLBACK" in out
    # Wall-clock time (the PAUSE's simulated hour is 15 real seconds at 240x), not the sim's own clock.
    expires = re.search(r"expires (\S+), then", out)
    assert expires, out
    assert abs(datetime.fromisoformat(expires[1]) - datetime.now(UTC)) < timedelta(minutes=5)
    assert "production 0%, test 100%" in out  # green's weights after the test shift
    assert "production 100%, test 0%" in out  # blue's
    assert "ecs-bg approve --hook-id ecs-pause-1 --cluster" in out
    assert "aws ecs continue-service-deployment" in out

    code, out, _ = paused.run("status")  # the rich view says the same
    assert code == 0
    assert "AWAITING_ACTION" in out
    assert "ACTION NEEDED" in out

    code, out, err = paused.run("watch", "--plain", "--interval", "0.2", "--timeout", "0.5")
    assert code == 3
    assert out.count("PAUSE hook ecs-pause-1 is AWAITING_ACTION") == 1  # loud, once
    assert "had not ended" in err

    code, out, _ = paused.run("approve")
    assert code == 0, out
    assert "ecs-pause-1 at POST_TEST_TRAFFIC_SHIFT approved" in out

    code, out, _ = paused.run("watch", "--plain", "--interval", "0.2", "--timeout", "120")
    assert code == 0, out
    assert out.strip().endswith("SUCCESSFUL")
    assert paused.outcome.result(timeout=60).status == "SUCCESSFUL"


def test_reject_rolls_back_and_watch_exits_1(paused: Running) -> None:
    code, out, _ = paused.run("reject", "--hook-id", "ecs-pause-1")
    assert code == 0, out
    assert "rejected: ECS rolls back" in out
    code, out, _ = paused.run("watch", "--interval", "0.2", "--timeout", "120")  # the live table
    out = " ".join(out.split())  # as rich wrapped it
    assert code == 1, out
    assert "ROLLBACK_SUCCESSFUL" in out
    assert (
        # As the local ECS names the hook: by its place in lifecycleHooks (ECS gives a PAUSE hook no name).
        "at POST_TEST_TRAFFIC_SHIFT (ecs-pause-1) was continued with ROLLBACK" in out
    )
    assert paused.outcome.result(timeout=60).status == "ROLLBACK_SUCCESSFUL"


def test_the_simulated_answers_have_botocore_shapes(paused: Running) -> None:
    ids, deployment = paused.sim.ids, paused.sim.deployment
    assert deployment is not None
    ecs = boto3.client("ecs", region_name=ids.region, endpoint_url=paused.sim.url)
    model = ecs.meta.service_model
    for operation, answer, listed in (
        (
            "ListServiceDeployments",
            ecs.list_service_deployments(cluster=ids.cluster, service=ids.service),
            "serviceDeployments",
        ),
        (
            "DescribeServiceDeployments",
            ecs.describe_service_deployments(serviceDeploymentArns=[deployment.arn]),
            "serviceDeployments",
        ),
        (
            "DescribeServiceRevisions",
            ecs.describe_service_revisions(serviceRevisionArns=[deployment.target.arn]),
            "serviceRevisions",
        ),
    ):
        body = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
        # An empty list validates against any shape: there must be something to check.
        assert body[listed], f"{operation} answered no {listed}: {body}"
        validate_parameters(body, model.operation_model(operation).output_shape)
