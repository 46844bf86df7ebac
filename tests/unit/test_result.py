"""The response contract ECS reads (docs/aws-facts.md §2)."""

from __future__ import annotations

import pytest

from ecs_bg.hooks.result import MAX_CALLBACK_DELAY, HookResult, HookStatus


def test_succeeded_and_failed_carry_only_the_status() -> None:
    assert HookResult.succeeded("all good").to_response() == {"hookStatus": "SUCCEEDED"}
    assert HookResult.failed("smoke test: status 500").to_response() == {"hookStatus": "FAILED"}


def test_in_progress_carries_callback_delay_and_hook_details() -> None:
    response = HookResult.in_progress(
        "migrating", callback_delay=45, hook_details={"taskArn": "t"}
    ).to_response()
    assert response == {"hookStatus": "IN_PROGRESS", "callBackDelay": 45, "hookDetails": {"taskArn": "t"}}
    assert "callBackDelaySeconds" not in response  # the misspelling ECS silently ignores


def test_in_progress_defaults_to_ecs_default_delay_and_omits_empty_details() -> None:
    assert HookResult.in_progress().to_response() == {"hookStatus": "IN_PROGRESS", "callBackDelay": 30}


@pytest.mark.parametrize("delay", [0, -5, 1.5, True, "30", MAX_CALLBACK_DELAY + 1])
def test_callback_delay_must_be_whole_seconds_in_range(delay: object) -> None:
    with pytest.raises(ValueError, match="callBackDelay must be whole seconds"):
        HookResult(HookStatus.IN_PROGRESS, callback_delay=delay)  # type: ignore[arg-type]


def test_callback_delay_only_with_in_progress() -> None:
    with pytest.raises(ValueError, match="only to IN_PROGRESS"):
        HookResult(HookStatus.SUCCEEDED, callback_delay=30)
