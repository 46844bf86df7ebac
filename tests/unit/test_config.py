"""hookDetails as typed settings: layering, validation, and messages that name the field."""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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
from ecs_bg.lifecycle.events import lifecycle_event


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
        ({"name": 5}, "probe.name", "expected a string, got number 5"),
        ({"name": "x", "mode": "slow"}, "probe.mode", "must be one of 'fast', 'thorough', got 'slow'"),
        ({"name": "x", "retries": 2.5}, "probe.retries", "expected an integer, got 2.5"),
        ({"name": "x", "retries": True}, "probe.retries", "expected an integer, got True"),
        ({"name": "x", "retries": 11}, "probe.retries", "11 is out of range [0, 10]"),
        ({"name": "x", "ratio": "half"}, "probe.ratio", "expected a number, got 'half'"),
        ({"name": "x", "codes": 200}, "probe.codes", "expected an array, got number 200"),
        ({"name": "x", "codes": [200, "ok"]}, "probe.codes[1]", "expected an integer, got 'ok'"),
        ({"name": "x", "labels": {"a": 1}}, "probe.labels.a", "expected a string, got number 1"),
        ({"name": "x", "dryRun": "yes"}, "probe.dryRun", 'expected true or false, got string "yes"'),
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


@dataclass(frozen=True, kw_only=True)
class Window:
    start: int
    end: int | None = None


@dataclass(frozen=True, kw_only=True)
class Rich(CheckSettings):
    tags: list[str] = field(default_factory=list)
    limit: int | str = 0
    pair: tuple[str, int] | None = None
    windows: tuple[Window, ...] = ()
    lookup: dict[str, list[int]] = field(default_factory=dict)
    extra: Any = None


def test_lists_unions_fixed_tuples_and_nested_dataclasses_are_settings() -> None:
    rich = parse_config(
        Rich,
        {"tags": ["a", "b"], "pair": ["x", 1], "windows": [{"start": 1}], "lookup": {"k": [1]}, "extra": [1]},
        "rich",
    )
    assert rich.tags == ["a", "b"]
    assert rich.pair == ("x", 1)
    assert rich.windows == (Window(start=1),)
    assert rich.lookup == {"k": [1]}
    assert parse_config(Rich, {"limit": 5}, "rich").limit == 5
    assert parse_config(Rich, {"limit": "5"}, "rich").limit == "5"  # the exact JSON kind wins


@pytest.mark.parametrize(
    ("data", "path", "reason"),
    [
        ({"tags": "a"}, "rich.tags", 'expected an array, got string "a"'),
        ({"tags": ["a", 1]}, "rich.tags[1]", "expected a string, got number 1"),
        ({"limit": True}, "rich.limit", "expected an integer or a string, got boolean true"),
        ({"limit": [5]}, "rich.limit", "expected an integer or a string, got array"),
        ({"pair": ["x"]}, "rich.pair", "expected an array of 2 items, got 1"),
        ({"tags": "x" * 100}, "rich.tags", f'expected an array, got string "{"x" * 59}…'),
        ({"windows": [{"start": "1"}]}, "rich.windows[0].start", "expected an integer, got '1'"),
    ],
)
def test_bad_lists_and_unions_name_the_field(data: object, path: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(Rich, data, "rich")
    assert (caught.value.path, caught.value.reason) == (path, reason)


@pytest.mark.parametrize(
    ("annotation", "field_name"),
    [("set[int]", "ids"), ("dict[int, str]", "ids"), ("io.StringIO", "ids"), ("list[bytes]", "ids")],
)
def test_an_unsupported_setting_type_fails_when_the_class_is_declared(
    annotation: str, field_name: str
) -> None:
    import io  # noqa: F401 - resolved from this frame by the annotation "io.StringIO"

    with pytest.raises(TypeError, match=rf"Bad\.{field_name}: unsupported setting type"):
        type("Bad", (CheckSettings,), {"__annotations__": {field_name: annotation}, "__module__": __name__})


ENTRY_FILE = """
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Literal

from ecs_bg.hooks import CheckSettings, HookContext, HookResult, LifecycleHook, Stage


@dataclass(frozen=True, kw_only=True)
class Team(CheckSettings):
    channels: list[str] = field(default_factory=list)
    limit: int | str = 0
    mode: Literal["strict", "lenient"] = "strict"
    windows: tuple[tuple[int, int], ...] = ()


LOG = io.StringIO()
hook = LifecycleHook("unregistered-entry", custom_keys=["team"], log_stream=LOG)


@hook.stage(Stage.POST_SCALE_UP)
def check(ctx: HookContext) -> HookResult:
    team = ctx.settings(Team, "team")
    return HookResult.succeeded(f"{team.channels} {team.limit!r} {team.mode} {team.windows}")


handler = hook.handler
"""


def test_an_entry_file_not_in_sys_modules_declares_settings_under_future_annotations(
    tmp_path: Path,
) -> None:
    path = tmp_path / "unregistered_entry.py"
    path.write_text(ENTRY_FILE)
    spec = importlib.util.spec_from_file_location("unregistered_entry", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # never put in sys.modules, as the simulator's loader does
    assert "unregistered_entry" not in sys.modules

    details = {"team": {"channels": ["#deploys"], "limit": "5", "windows": [[1, 2]]}}
    assert module.handler(lifecycle_event("POST_SCALE_UP", hook_details=details)) == {
        "hookStatus": "SUCCEEDED"
    }
    decision = json.loads(module.LOG.getvalue().splitlines()[-1])
    assert decision["reason"] == "['#deploys'] '5' strict ((1, 2),)"
