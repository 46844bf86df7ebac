"""ECS's vocabulary is defined once (ecs_bg.hooks.ecs) and agrees with ECS's own API model."""

from __future__ import annotations

import ast
from enum import StrEnum
from pathlib import Path

import botocore.session
import pytest

from ecs_bg.hooks import ecs

SRC = Path(__file__).resolve().parents[2] / "src" / "ecs_bg"
VOCABULARY = Path(ecs.__file__).resolve()
ENUMS = [
    value
    for value in vars(ecs).values()
    if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
]
WORDS = {member.value: enum.__name__ for enum in ENUMS for member in enum}
# Enums of the project's own that happen to share a word with ECS (a check's verdict may be FAILED).
OWN_ENUMS = {"VerdictStatus"}
# Hooks written as a user writes them, without this library: they answer ECS in plain strings.
USER_CODE = SRC / "simulate" / "scenario_hooks"


def _literals(path: Path) -> list[tuple[int, str]]:
    """String constants in code (docstrings aside) that spell one of ECS's words: one walk of the tree,
    as the whole source is scanned."""
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()  # docstrings, and what the project's own enums spell
    candidates: list[ast.Constant] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))
        if isinstance(node, ast.ClassDef) and node.name in OWN_ENUMS:
            skipped.update(id(inner) for inner in ast.walk(node))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WORDS:
            candidates.append(node)
    return [(node.lineno, node.value) for node in candidates if id(node) not in skipped]


def test_no_stage_status_or_strategy_is_spelled_outside_the_vocabulary() -> None:
    found = [
        f"{path.relative_to(SRC.parent)}:{line}: {word!r} (use ecs.{WORDS[word]})"
        for path in sorted(SRC.rglob("*.py"))
        if path.resolve() != VOCABULARY and USER_CODE not in path.parents
        for line, word in _literals(path)
    ]
    assert found == []


def test_the_scan_finds_a_literal(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""SUCCESSFUL in a docstring is prose."""\nstatus = "ROLLBACK_SUCCESSFUL"\n')
    assert _literals(sample) == [(2, "ROLLBACK_SUCCESSFUL")]


MODEL = botocore.session.get_session().get_service_model("ecs")


@pytest.mark.parametrize(
    ("enum", "shape"),
    [
        (ecs.DeploymentStatus, "ServiceDeploymentStatus"),
        (ecs.Strategy, "DeploymentStrategy"),
        (ecs.TargetType, "DeploymentLifecycleHookTargetType"),
        (ecs.HookAction, "DeploymentLifecycleHookAction"),
        (ecs.LifecycleHookStatus, "DeploymentLifecycleHookStatus"),
        (ecs.TaskStatus, "DesiredStatus"),
        (ecs.RolloutState, "DeploymentRolloutState"),
    ],
)
def test_each_enum_is_exactly_the_api_model_s(enum: type[StrEnum], shape: str) -> None:
    assert {member.value for member in enum} == set(MODEL.shape_for(shape).enum)


def test_hook_stages_are_the_api_model_s() -> None:
    assert {member.value for member in ecs.Stage} == set(MODEL.shape_for("DeploymentLifecycleHookStage").enum)


def test_reported_stages_are_the_api_model_s() -> None:
    """DescribeServiceDeployments' lifecycleStage names every stage, hooked or not.

    The model's enum lacks PRE_PRODUCTION_TRAFFIC_SHIFT, though hooks run there (ecspresso's
    ``--wait-until ecs:<STAGE>`` rejects it for the same reason): reading the stage, accept it.
    """
    reported = set(MODEL.shape_for("ServiceDeploymentLifecycleStage").enum)
    ours = {member.value for member in ecs.Stage} | {member.value for member in ecs.WorkStage}
    assert ours - reported == {ecs.Stage.PRE_PRODUCTION_TRAFFIC_SHIFT.value}
    assert reported <= ours


def test_limits_admit_their_own_bounds_and_defaults() -> None:
    limits = [value for value in vars(ecs).values() if isinstance(value, ecs.Limit)]
    assert len(limits) >= 8
    for limit in limits:
        assert limit.admits(limit.minimum)
        assert limit.admits(limit.maximum)
        assert not limit.admits(limit.maximum + 1)
        assert limit.default is None or limit.admits(limit.default)
