"""The hook library's public API: one error base class, everything exported, typed."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import ecs_bg.hooks
from ecs_bg.hooks import AwsCallFailed, CheckFailed, ConfigError, EventError, HookError, NotFound
from tests.conftest import ROOT


@pytest.mark.parametrize(
    "error",
    [
        ConfigError("smokeTest.path", "bad"),
        EventError("resourceArn", "bad"),
        CheckFailed("smokeTest", "503"),
        AwsCallFailed("AccessDenied calling ecs:DescribeServiceRevisions", "AccessDenied"),
        NotFound("service revision not found"),
    ],
)
def test_every_library_error_shares_one_base_class(error: HookError) -> None:
    assert isinstance(error, HookError)
    assert not isinstance(error, KeyError | IndexError)  # a lookup bug is never one of these


def test_the_old_bases_still_hold_for_callers_that_catch_them() -> None:
    assert issubclass(ConfigError, ValueError)
    assert issubclass(EventError, ValueError)
    assert issubclass(NotFound, LookupError)


def test_every_exported_name_exists_and_the_package_is_typed() -> None:
    assert all(hasattr(ecs_bg.hooks, name) for name in ecs_bg.hooks.__all__)
    # Its own marker: ecs-bg-hooks installs without ecs-bg, whose ecs_bg/py.typed covers the rest.
    assert (Path(ecs_bg.hooks.__file__).parent / "py.typed").is_file()


def test_every_name_the_examples_import_from_the_library_is_exported() -> None:
    # mypy --strict (make test) refuses only re-exports a module does not list; this holds the modules'
    # own names to their __all__ too, so what a hook author copies from examples/ is public API.
    imported = [
        (node.module, alias.name)
        for path in sorted((ROOT / "examples").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ecs_bg.hooks")
        for alias in node.names
    ]
    assert ("ecs_bg.hooks.aws", "call") in imported
    assert [(m, name) for m, name in imported if name not in importlib.import_module(m).__all__] == []
