"""Secrets Manager's GenerateSecretString, made locally: the spec followed, the same value every run."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.local.cloudformation.errors import TemplateError
from ecs_bg.local.cloudformation.fields import Node
from ecs_bg.local.cloudformation.passwords import PUNCTUATION, generate_password, generate_secret_string


def _spec(**spec: Any) -> Node:
    return Node(spec, Path("t.json"), ("Resources", "S", "Properties", "GenerateSecretString"))


def test_the_default_is_32_characters_of_every_type() -> None:
    password = generate_password(_spec(), "seed")
    assert len(password) == 32
    for kind in (string.ascii_lowercase, string.ascii_uppercase, string.digits, PUNCTUATION):
        assert set(password) & set(kind)
    assert " " not in password
    assert generate_password(_spec(), "seed") == password
    assert generate_password(_spec(), "another seed") != password


@pytest.mark.parametrize("seed", [f"stack/Secret{n}" for n in range(20)])
def test_exclusions_and_required_types_are_kept(seed: str) -> None:
    spec = _spec(PasswordLength="12", ExcludeUppercase=True, ExcludeCharacters="abc0123", IncludeSpace="true")
    password = generate_password(spec, seed)
    assert len(password) == 12
    assert not set(password) & set(string.ascii_uppercase + "abc0123")
    # at least one of each included type: lowercase, digits, punctuation, space
    for kind in (string.ascii_lowercase, "456789", PUNCTUATION, " "):
        assert set(password) & set(kind), (password, kind)


def test_only_digits() -> None:
    spec = _spec(ExcludeLowercase=True, ExcludeUppercase=True, ExcludePunctuation=True, PasswordLength=6)
    assert generate_password(spec, "s").isdigit()


def test_a_template_gets_the_password_under_its_key() -> None:
    value = generate_secret_string(
        _spec(
            SecretStringTemplate='{"username": "admin"}',
            GenerateStringKey="password",
            ExcludePunctuation=True,
        ),
        "s",
    )
    document = json.loads(value)
    assert document["username"] == "admin"
    assert len(document["password"]) == 32
    assert value == json.dumps(document, separators=(",", ":"))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {
                "ExcludeLowercase": True,
                "ExcludeUppercase": True,
                "ExcludeNumbers": True,
                "ExcludePunctuation": True,
            },
            "GenerateSecretString: excludes every character",
        ),
        (
            {"PasswordLength": 3},
            "GenerateSecretString.PasswordLength: 3 is too short to include one of each of 4",
        ),
        (
            {"SecretStringTemplate": "[1]", "GenerateStringKey": "k"},
            "SecretStringTemplate: must be a JSON object",
        ),
        ({"SecretStringTemplate": "{", "GenerateStringKey": "k"}, "SecretStringTemplate: is not JSON"),
        ({"ExcludeNumbers": "no"}, "GenerateSecretString.ExcludeNumbers: must be true or false, got 'no'"),
    ],
)
def test_a_spec_that_cannot_be_met_is_an_error(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(TemplateError) as raised:
        generate_secret_string(_spec(**spec), "s")
    assert expected in str(raised.value)
    assert str(raised.value).startswith("t.json: Resources.S.Properties.GenerateSecretString")
