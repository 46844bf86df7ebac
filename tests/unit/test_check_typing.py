"""``register_check`` and ``Check`` are typed: mypy --strict refuses a check of the wrong shape, and at
run time a function that cannot be called as ``run(ctx, settings)`` is refused when it registers."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.hooks import CheckSettings, HookContext, Verdict, register_check
from ecs_bg.hooks.checks import CustomCheck, known_checks
from tests.conftest import ROOT

GOOD = """\
from dataclasses import dataclass

from ecs_bg.hooks import Check, CheckSettings, HookContext, Verdict, notify, register_check
from ecs_bg.hooks.checks import CustomCheck, http


@dataclass(frozen=True, kw_only=True)
class Limit(CheckSettings):
    most: int = 3


@register_check("limit", Limit)
def within_the_limit(ctx: HookContext, settings: Limit) -> Verdict:
    return Verdict.passed(f"at most {settings.most}")


registered: Check[Limit] = CustomCheck("limit", Limit, (), within_the_limit)
built_in: Check[http.Settings] = http
notifier: Check[notify.Settings] = notify
"""

# Each check here is of the wrong shape, on the line that says why.
BAD = """\
from dataclasses import dataclass

from ecs_bg.hooks import Check, CheckSettings, HookContext, Verdict, register_check
from ecs_bg.hooks.checks import ecs_readiness, http


@dataclass(frozen=True, kw_only=True)
class Limit(CheckSettings):
    most: int = 3


@dataclass(frozen=True, kw_only=True)
class Other(CheckSettings):
    name: str = "x"


@register_check("otherSettings", Limit)
def other_settings(ctx: HookContext, settings: Other) -> Verdict:  # settings not of the check's class
    return Verdict.passed(settings.name)


@register_check("noContext", Limit)
def no_context(settings: Limit) -> Verdict:  # no ctx
    return Verdict.passed("")


@register_check("text", Limit)
def text(ctx: HookContext, settings: Limit) -> str:  # not a Verdict
    return ""


@register_check("nothing", Limit)
def nothing(ctx: HookContext, settings: Limit) -> None:  # no Verdict at all
    pass


wrong_module: Check[http.Settings] = ecs_readiness  # another check's settings
"""


def _mypy_errors(*files: Path) -> dict[str, list[int]]:
    """mypy --strict (the project's configuration) over ``files``: the error lines of each file."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr  # 2: mypy itself failed
    errors: dict[str, list[int]] = {file.name: [] for file in files}
    for match in re.finditer(r"^(?:.*/)?([^/:]+\.py):(\d+): error:", done.stdout, re.MULTILINE):
        errors[match[1]].append(int(match[2]))
    return errors


@pytest.mark.slow
def test_mypy_strict_takes_a_well_typed_check_and_refuses_every_wrong_shape(tmp_path: Path) -> None:
    (tmp_path / "good_check.py").write_text(GOOD)
    (tmp_path / "bad_check.py").write_text(BAD)
    errors = _mypy_errors(tmp_path / "good_check.py", tmp_path / "bad_check.py")
    assert errors["good_check.py"] == []
    lines = BAD.splitlines()
    wrong = [i for i, line in enumerate(lines, 1) if line.startswith("@register_check")]
    wrong.append(next(i for i, line in enumerate(lines, 1) if line.startswith("wrong_module")))
    assert errors["bad_check.py"] == wrong


@dataclass(frozen=True, kw_only=True)
class Limit(CheckSettings):
    most: int = 3


@pytest.fixture
def registry() -> Iterator[dict[str, CustomCheck[Any]]]:
    """The registry of this test alone: what it registers is gone afterwards."""
    saved = dict(CustomCheck.registry)
    CustomCheck.registry.clear()
    try:
        yield CustomCheck.registry
    finally:
        CustomCheck.registry.clear()
        CustomCheck.registry.update(saved)


def test_a_check_registers_with_its_settings_and_permissions(registry: dict[str, CustomCheck[Any]]) -> None:
    @register_check("limit", Limit)
    def within_the_limit(ctx: HookContext, settings: Limit) -> Verdict:
        return Verdict.passed(f"at most {settings.most}")

    assert registry["limit"] == CustomCheck("limit", Limit, (), within_the_limit)
    assert "limit" in known_checks()


@pytest.mark.parametrize(
    ("run", "says"),
    [
        ("not a function", "register_check decorates a function, not str"),
        (lambda ctx: None, r"<lambda>\(ctx\) cannot be called as run\(ctx, settings\)"),
        (lambda: None, r"<lambda>\(\) cannot be called as run\(ctx, settings\)"),
        (lambda ctx, settings, extra: None, r"missing a required argument: 'extra'"),
        (lambda *, ctx, settings: None, r"too many positional arguments"),
    ],
)
def test_a_function_of_the_wrong_shape_is_refused_when_it_registers(
    registry: dict[str, CustomCheck[Any]], run: Any, says: str
) -> None:
    with pytest.raises(TypeError, match=r"check 'limit': .*" + says):
        register_check("limit", Limit)(run)
    assert registry == {}


def test_functions_that_take_ctx_and_settings_however_declared_register(
    registry: dict[str, CustomCheck[Any]],
) -> None:
    register_check("defaults", Limit)(lambda ctx, settings, extra=1: Verdict.passed(""))
    register_check("varargs", Limit)(lambda *args: Verdict.passed(""))
    assert sorted(registry) == ["defaults", "varargs"]


def test_permissions_must_be_permission_objects(registry: dict[str, CustomCheck[Any]]) -> None:
    with pytest.raises(TypeError, match="check 'limit': permissions must be Permission objects"):
        register_check("limit", Limit, permissions=[("ssm:GetParameter", "*")])  # type: ignore[list-item]
