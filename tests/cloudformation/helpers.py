"""Stacks built from templates held in memory, for tests that need no files."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from ecs_bg.local.cloudformation.assembly import TemplateSource
from ecs_bg.local.cloudformation.template import Assembly, Stack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cloudformation"
REGION = "eu-west-1"
ACCOUNT = "111122223333"


def stack_of(body: dict[str, Any], name: str = "t", base_dir: Path = Path("."), **options: Any) -> Stack:
    """The one stack of an assembly made of ``body`` alone, deployed in eu-west-1, 111122223333."""
    source = TemplateSource(Path(f"{name}.template.json"), name, body, base_dir)
    return Assembly((source,), region=REGION, account=ACCOUNT, **options).stacks[0]


def fixture(*parts: str) -> dict[str, Any]:
    """A fixture template's document, a fresh copy a test may change."""
    return copy.deepcopy(json.loads(FIXTURES.joinpath(*parts).read_text()))


def output_of(value: Any, **resources: Any) -> str:
    """The value of an output ``Value: value`` in a template with ``resources`` (a topic if none)."""
    body = {"Resources": resources or {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"O": {"Value": value}}}
    return stack_of(body).output("O").value


def by_logical_id(items: Any, logical_id: str) -> Any:
    """The one extracted resource of ``items`` with that logical id."""
    (found,) = [item for item in items if item.logical_id == logical_id]
    return found
