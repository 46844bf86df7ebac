"""Typed reads of a template's values, as CloudFormation reads them, each error naming the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ecs_bg.local.cloudformation.errors import TemplateError
from ecs_bg.local.cloudformation.fields import Node

NODE = Node(
    {
        "Port": "8080",
        "Ratio": "0.5",
        "Whole": 3.0,
        "On": "TRUE",
        "Count": 7,
        "Items": [{"Key": "a"}],
        "Words": ["a", 1, True],
        "Map": {"A": "1", "B": 2},
    },
    Path("t.json"),
    ("Resources", "R", "Properties"),
)


def test_scalars_are_read_as_cloudformation_reads_them() -> None:
    assert NODE.integer("Port") == 8080
    assert NODE.integer("Whole") == 3
    assert NODE.number("Ratio") == 0.5
    assert NODE.number("Count") == 7.0
    assert NODE.flag("On", False) is True
    assert NODE.flag("Off", True) is True  # absent: the default
    assert NODE.text("Count") == "7"
    assert NODE.texts("Words") == ("a", "1", "true")
    assert NODE.text_map("Map") == {"A": "1", "B": "2"}
    assert NODE.maybe_text("Nothing") is None
    assert NODE.maybe_integer("Nothing") is None
    assert NODE.integer("Nothing", 5) == 5
    assert NODE.nodes("Nothing") == []
    (item,) = NODE.nodes("Items")
    assert item.path == ("Resources", "R", "Properties", "Items", 0)


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        (
            lambda: NODE.integer("Ratio"),
            "Resources.R.Properties.Ratio: the value must be an integer, got '0.5'",
        ),
        (lambda: NODE.number("On"), "Resources.R.Properties.On: must be a number, got 'TRUE'"),
        (lambda: NODE.flag("Port", False), "Resources.R.Properties.Port: must be true or false, got '8080'"),
        (
            lambda: NODE.text("Items"),
            'Resources.R.Properties.Items: the value must be a string, got a list: [{"Key": "a"}]',
        ),
        (lambda: NODE.nodes("Port"), "Resources.R.Properties.Port: must be a list, got str"),
        (lambda: NODE.node("Port"), "Resources.R.Properties.Port: must be an object, got str"),
        (lambda: NODE.text("Nothing"), "Resources.R.Properties.Nothing: is missing"),
        (lambda: NODE.nodes("Words"), "Resources.R.Properties.Words[0]: must be an object, got str"),
    ],
)
def test_a_value_of_the_wrong_kind_is_an_error_naming_its_path(
    read: Callable[[], object], expected: str
) -> None:
    with pytest.raises(TemplateError) as raised:
        read()
    assert str(raised.value) == f"t.json: {expected}"
