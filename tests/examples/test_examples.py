"""The custom hooks in examples/, invoked through their handlers with the events ECS sends:
green is a local HTTP server, AWS is moto."""

from __future__ import annotations

import itertools
import json
import os
from typing import Any
from unittest import mock

import boto3
import pytest

from ecs_bg.hooks import Stage, aws
from ecs_bg.lifecycle.events import ServiceIds, lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.conftest import ROOT, LocalServer
from tests.examples.invoke import Invocation, LoadedHook, load_hook
from tests.examples.invoke import invoke as invoke_hook
from tests.faults import fail

EXAMPLES = ROOT / "examples"
_loads = itertools.count()


def load_example(name: str) -> LoadedHook:
    """``examples/<name>_hook.py`` imported as Lambda imports it (a cold start), its log captured.

    Each import gets its own service name: Powertools keeps one logger per name in a process, and
    its first stream would otherwise swallow the next test's lines."""
    with mock.patch.dict(os.environ, {"POWERTOOLS_SERVICE_NAME": f"{name}-{next(_loads)}"}):
        return load_hook(EXAMPLES / f"{name}_hook.py")


def invoke(hook: LoadedHook, stage: Stage, details: dict[str, Any], timeout: float = 60) -> Invocation:
    event = lifecycle_event(stage, hook_details=details)
    return invoke_hook(hook, event, LocalLambdaContext("example", timeout_seconds=timeout))


def status(invocation: Invocation) -> str:
    return str(invocation.response["hookStatus"])


@pytest.fixture
def green(http_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """Green behind the test listener, as the stack's ECS_BG_TEST_URL names it."""
    monkeypatch.setenv("ECS_BG_TEST_URL", http_server.url)
    return http_server


def test_expected_revision_passes_fails_and_names_a_wrong_setting(green: LocalServer) -> None:
    green.routes["/version"] = (200, json.dumps({"revision": "r2", "colour": "green"}))
    hook = load_example("expected_revision")
    stage = Stage.POST_TEST_TRAFFIC_SHIFT
    assert status(invoke(hook, stage, {"expectedRevision": {"revision": "r2"}})) == "SUCCEEDED"
    failed = invoke(hook, stage, {"expectedRevision": {"revision": "r3"}})
    assert status(failed) == "FAILED"
    assert "expectedRevision: green reports 'r2', expected 'r3'" in failed.reason
    missing = invoke(hook, stage, {})
    assert status(missing) == "FAILED"
    assert "hookDetails.expectedRevision.revision" in missing.reason
    unknown = invoke(hook, stage, {"expectedRevision": {"revision": "r2", "colour": "x"}})
    assert status(unknown) == "FAILED"
    assert "hookDetails.expectedRevision.colour: unknown setting" in unknown.reason


def test_warm_up_waits_inside_the_invocation_until_green_is_warm(green: LocalServer) -> None:
    answers = iter([(503, "warming"), (503, "warming"), (200, "ok")])
    green.routes["/ready"] = lambda request: next(answers)
    done = invoke(load_example("warm_up"), Stage.TEST_TRAFFIC_SHIFT, {"warmUp": {"intervalSeconds": 0.05}})
    assert status(done) == "SUCCEEDED"
    assert green.hits["/ready"] == 3
    (over,) = [line for line in done.logs if line["message"] == "wait over"]
    assert over["polls"] == 3


def test_warm_up_answers_in_progress_when_the_function_runs_short(green: LocalServer) -> None:
    green.routes["/ready"] = (503, "warming")
    hook = load_example("warm_up")
    done = invoke(hook, Stage.TEST_TRAFFIC_SHIFT, {"warmUp": {"intervalSeconds": 5}}, timeout=3)
    assert status(done) == "IN_PROGRESS"
    assert done.response["callBackDelay"] == 5
    # ECS sends the returned hookDetails back: the wait resumes where it was.
    green.routes["/ready"] = (200, "ok")
    event = lifecycle_event(Stage.TEST_TRAFFIC_SHIFT, hook_details=done.response["hookDetails"])
    again = invoke_hook(hook, event, LocalLambdaContext("example", timeout_seconds=3))
    assert status(again) == "SUCCEEDED"
    assert green.hits["/ready"] == 2


def test_deploy_freeze_reads_its_parameter(moto: None) -> None:
    ssm = boto3.client("ssm", region_name=ServiceIds().region)
    hook = load_example("deploy_freeze")
    assert status(invoke(hook, Stage.PRE_SCALE_UP, {})) == "SUCCEEDED"  # no parameter, no freeze
    ssm.put_parameter(Name="/ecs-bg/deploy-freeze", Value="quarter-end close", Type="String")
    frozen = invoke(hook, Stage.PRE_SCALE_UP, {})
    assert status(frozen) == "FAILED"
    assert "freeze: deployments are frozen: quarter-end close" in frozen.reason
    ssm.put_parameter(Name="/ops/freeze", Value=" ", Type="String")
    assert status(invoke(hook, Stage.PRE_SCALE_UP, {"freeze": {"parameter": "/ops/freeze"}})) == "SUCCEEDED"


def test_deploy_freeze_names_the_permission_it_lacks(moto: None) -> None:
    fail(aws.client("ssm", ServiceIds().region), "GetParameter", "AccessDeniedException")
    denied = invoke(load_example("deploy_freeze"), Stage.PRE_SCALE_UP, {})
    assert status(denied) == "FAILED"
    assert "AccessDeniedException calling ssm:GetParameter: the hook function's role lacks" in denied.reason


def test_a_registered_check_runs_as_the_built_in_ones_do(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))  # the code folder, as Lambda has /var/task
    ssm = boto3.client("ssm", region_name=ServiceIds().region)
    hook = load_example("release_window")
    ssm.put_parameter(Name="/ecs-bg/release-window", Value="open", Type="String")
    passed = invoke(hook, Stage.PRE_SCALE_UP, {})
    assert status(passed) == "SUCCEEDED"
    (verdict,) = [line for line in passed.logs if line["message"] == "check verdict"]
    assert (verdict["check"], verdict["verdict"], verdict["dryRun"]) == ("releaseWindow", "PASSED", False)
    ssm.put_parameter(Name="/ecs-bg/release-window", Value="closed", Type="String", Overwrite=True)
    closed = invoke(hook, Stage.PRE_SCALE_UP, {})
    assert status(closed) == "FAILED"
    assert "releaseWindow: the release window is 'closed', not 'open'" in closed.reason
    dry = invoke(hook, Stage.PRE_SCALE_UP, {"releaseWindow": {"dryRun": True}})
    assert status(dry) == "SUCCEEDED"
    assert any(line["message"].startswith("dryRun: the check would have failed") for line in dry.logs)
    wrong = invoke(hook, Stage.PRE_SCALE_UP, {"releaseWindow": {"paramter": "/x"}})
    assert status(wrong) == "FAILED"
    assert "releaseWindow.paramter" in wrong.reason
    missing = invoke(hook, Stage.PRE_SCALE_UP, {"releaseWindow": {"parameter": "/nope"}})
    assert status(missing) == "FAILED"  # AWS's own error is the check's verdict
    assert "ParameterNotFound" in missing.reason


def test_a_check_cannot_take_a_built_in_name() -> None:
    from ecs_bg.hooks import CheckSettings, register_check

    with pytest.raises(ValueError, match="'smokeTest': the name is taken"):
        register_check("smokeTest", CheckSettings)
    with pytest.raises(TypeError, match="must subclass CheckSettings"):
        register_check("mine", dict)  # type: ignore[arg-type]
