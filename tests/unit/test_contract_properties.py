"""No input makes a hook raise or answer outside the contract ECS reads (docs/aws-facts.md §2)."""

from __future__ import annotations

import copy
import json
import os
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_bg.hooks.config import HOOK_DETAILS_ENV
from ecs_bg.hooks.event import Stage
from ecs_bg.lifecycle.events import lifecycle_event
from ecs_bg.local.lambda_.context import LocalLambdaContext
from tests.conftest import ENTRY_FILES, load_entry
from tests.examples_budget import examples

AWS_CHECKS = ("ecsReadiness", "targetHealth", "alarmGate", "metricGate", "migration", "approval", "notify")
HOOKS = {name: load_entry(name) for name in ENTRY_FILES}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["executionId", "lifecycleStage", "resourceArn", "executionDetails", "hookDetails", "serviceArn"]
)
detail_names = st.sampled_from(
    ["serviceArn", "targetServiceRevisionArn", "testTrafficWeights", "productionTrafficWeights"]
)


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    """A real event with parts replaced by arbitrary JSON, removed, or hookDetails scrambled."""
    event = lifecycle_event(draw(st.sampled_from(list(Stage))), rollback=draw(st.booleans()))
    event = copy.deepcopy(event)
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["top", "details", "hookDetails"]))
        if where == "top":
            key = draw(field_names)
            if draw(st.booleans()):
                event.pop(key, None)
            else:
                event[key] = draw(json_values)
        elif where == "details" and isinstance(event.get("executionDetails"), dict):
            event["executionDetails"][draw(detail_names)] = draw(json_values)
        else:
            event["hookDetails"] = draw(
                st.dictionaries(
                    st.sampled_from(["smokeTest", "runOnRollback", "ecsBgState", "x"]), json_values
                )
            )
    return event


def assert_contract(response: object) -> None:
    assert isinstance(response, dict)
    assert response["hookStatus"] in {"SUCCEEDED", "FAILED", "IN_PROGRESS"}
    allowed = (
        {"hookStatus", "callBackDelay", "hookDetails"}
        if response["hookStatus"] == "IN_PROGRESS"
        else {"hookStatus"}
    )
    assert set(response) <= allowed
    if "callBackDelay" in response:
        delay = response["callBackDelay"]
        assert isinstance(delay, int)
        assert not isinstance(delay, bool)
        assert delay >= 1


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(ENTRY_FILES), raw=json_values | mutated_events())
def test_no_input_escapes_the_contract(name: str, raw: Any) -> None:
    # No listener URL is set here, so any smoke test that runs fails at once instead of reaching out;
    # the defaults that ask AWS are off (and AWS_ENDPOINT_URL is a closed local port anyway).
    assert "ECS_BG_TEST_URL" not in os.environ
    assert "ECS_BG_PRODUCTION_URL" not in os.environ
    context = LocalLambdaContext("property", timeout_seconds=5)
    with mock.patch.dict(os.environ, {HOOK_DETAILS_ENV: json.dumps(dict.fromkeys(AWS_CHECKS, False))}):
        response = HOOKS[name].handler(raw, context)
    assert_contract(response)
