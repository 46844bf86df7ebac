"""The permissions map grants each check every AWS action its code calls, and nothing unknown."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from ecs_bg.hooks import deployment
from ecs_bg.hooks.checks import CHECKS
from ecs_bg.hooks.permissions import CHECK_PERMISSIONS, RUNTIME_PERMISSIONS, permissions_for

CALL = re.compile(r'(?:call|pages)\(\s*"(?P<api>[a-z0-9]+)",\s*[^,]+,\s*"(?P<operation>[A-Za-z]+)"')
IAM_PREFIX = {"elbv2": "elasticloadbalancing"}


def actions_called(module: object) -> set[str]:
    source = inspect.getsource(module)  # type: ignore[arg-type]
    return {f"{IAM_PREFIX.get(m['api'], m['api'])}:{m['operation']}" for m in CALL.finditer(source)}


def granted(permissions: tuple) -> set[str]:
    return {action for permission in permissions for action in permission.actions}


def test_every_registered_check_has_an_entry() -> None:
    assert set(CHECKS) == set(CHECK_PERMISSIONS)


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_a_check_is_granted_what_it_calls(check: str) -> None:
    called = actions_called(importlib.import_module(CHECKS[check]))
    missing = called - granted(permissions_for([check]))
    assert not missing, f"{check} calls {sorted(missing)} but permissions.py does not grant them"


def test_the_runtime_lookups_are_granted_to_every_hook() -> None:
    assert actions_called(deployment) <= granted(RUNTIME_PERMISSIONS)
    assert actions_called(deployment)  # the scan finds calls at all


def test_unknown_checks_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown check"):
        permissions_for(["smokeTst"])
