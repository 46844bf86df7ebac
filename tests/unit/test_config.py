"""hookDetails as typed settings: layering, validation, and messages that name the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from ecs_bg.hooks.checks import validate_hook_details
from ecs_bg.hooks.config import (
    HOOK_DETAILS_ENV,
    CheckSettings,
    ConfigError,
    bounded,
    layered_details,
    merge,
    parse_config,
)


@dataclass(frozen=True, kw_only=True)
class Probe(CheckSettings):
    name: str
    mode: Literal["fast", "thorough"] = "fast"
    retries: int = field(default=3, metadata=bounded(0, 10))
    ratio: float = 0.5
    codes: tuple[int, ...] = (200,)
    labels: dict[str, str] = field(default_factory=dict)
    budget_ms: float | None = None


def test_camel_case_keys_fill_snake_case_fields_with_defaults() -> None:
    probe = parse_config(Probe, {"name": "x", "budgetMs": 250, "codes": [200, 204], "dryRun": True}, "probe")
    assert probe == Probe(name="x", budget_ms=250.0, codes=(200, 204), dry_run=True)


@pytest.mark.parametrize(
    ("data", "path", "reason"),
    [
        ([], "probe", "expected an object, got array"),
        ({}, "probe.name", "missing (required)"),
        ({"name": "x", "retrys": 2}, "probe.retrys", "unknown setting; known: budgetMs, codes, dryRun"),
        ({"name": 5}, "probe.name", "expected a string, got number"),
        ({"name": "x", "mode": "slow"}, "probe.mode", "must be one of 'fast', 'thorough', got 'slow'"),
        ({"name": "x", "retries": 2.5}, "probe.retries", "expected an integer, got 2.5"),
        ({"name": "x", "retries": True}, "probe.retries", "expected an integer, got True"),
        ({"name": "x", "retries": 11}, "probe.retries", "11 is out of range [0, 10]"),
        ({"name": "x", "ratio": "half"}, "probe.ratio", "expected a number, got 'half'"),
        ({"name": "x", "codes": 200}, "probe.codes", "expected an array, got number"),
        ({"name": "x", "codes": [200, "ok"]}, "probe.codes[1]", "expected an integer, got 'ok'"),
        ({"name": "x", "labels": {"a": 1}}, "probe.labels.a", "expected a string, got number"),
        ({"name": "x", "dryRun": "yes"}, "probe.dryRun", "expected true or false, got string"),
    ],
)
def test_bad_settings_name_the_field(data: object, path: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(Probe, data, "probe")
    assert caught.value.path == path
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"hookDetails.{path}: ")


def test_merge_is_deep_and_later_layers_win() -> None:
    assert merge({"a": {"x": 1, "y": 2}, "b": 1}, {"a": {"y": 3}, "c": 4}) == {
        "a": {"x": 1, "y": 3},
        "b": 1,
        "c": 4,
    }


def test_layers_defaults_then_environment_then_hook_details(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOOK_DETAILS_ENV, '{"smokeTest": {"path": "/health", "attempts": 5}}')
    details = layered_details(
        {"smokeTest": {"listener": "test", "path": "/"}}, {"smokeTest": {"attempts": 2}}
    )
    assert details == {"smokeTest": {"listener": "test", "path": "/health", "attempts": 2}}


@pytest.mark.parametrize(
    ("value", "reason"), [("{not json", "not valid JSON"), ("[1]", "must be a JSON object")]
)
def test_a_broken_environment_default_is_named(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv(HOOK_DETAILS_ENV, value)
    with pytest.raises(ConfigError, match=reason) as caught:
        layered_details({}, {})
    assert HOOK_DETAILS_ENV in caught.value.path


def test_validate_hook_details_catches_typos_and_bad_check_settings() -> None:
    errors = validate_hook_details(
        {"smokeTets": {}, "smokeTest": {"timeoutSeconds": "5"}, "runOnRollback": True}
    )
    assert [(e.path, e.reason.split(";")[0]) for e in errors] == [
        ("smokeTets", "unknown key"),
        ("smokeTest.timeoutSeconds", "expected a number, got '5'"),
    ]
    assert validate_hook_details({"smokeTest": False}) == []  # false switches a default check off
    assert validate_hook_details({"team": "payments"}, custom_keys=["team"]) == []
