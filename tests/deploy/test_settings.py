"""The one settings parser, and ecspresso.yml and cdk.json read through it: errors name file and key."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from ecs_bg.deploy.config import load_config
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.settings import SettingsError, parse_settings, setting
from ecs_bg.deploy.stack_context import read_cdk_json
from tests.conftest import ROOT

CONFIG = """\
region: ap-northeast-1
cluster: ecs-bg-dev
service: ecs-bg-app
service_definition: ecs-service-def.json
task_definition: ecs-task-def.json
timeout: 1h
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "plugins:\n  - {name: cloudformation, func_prfix: cfn_}\n",
            "unknown key 'plugins[0].func_prfix'; did you mean 'func_prefix'?",
        ),
        (
            "plugins:\n  - {name: cloudformaton}\n",
            "plugins[0].name must be cloudformation, tfstate, ssm or secretsmanager (any case), "
            "got 'cloudformaton'",
        ),
        ("plugins: cloudformation\n", "plugins must be a list of mappings, got 'cloudformation'"),
        (
            "codedeploy: {application_name: [app]}\n",
            "codedeploy.application_name must be a string, got ['app']",
        ),
        (
            "service_defintion: x.json\n",
            "unknown key 'service_defintion'; did you mean 'service_definition'?",
        ),
    ],
)
def test_ecspresso_config_mistakes_name_the_file_and_key(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "ecspresso.yml"
    path.write_text(CONFIG + extra)
    with pytest.raises(DefinitionError) as caught:
        load_config(path, {})
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_ecspresso_plugin_names_take_any_case(tmp_path: Path) -> None:
    path = tmp_path / "ecspresso.yml"
    path.write_text(CONFIG + "plugins:\n  - {name: CloudFormation}\n")
    assert load_config(path, {}).has_plugin("cloudformation")


def test_an_empty_required_ecspresso_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ecspresso.yml"
    path.write_text(CONFIG.replace("cluster: ecs-bg-dev", "cluster: ''"))
    with pytest.raises(DefinitionError, match="cluster must be a non-empty string"):
        load_config(path, {})


def cdk_json(tmp_path: Path, context: dict[str, object]) -> Path:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"app": "python app.py", "context": context}))
    return path


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"containerPort": "abc"}, "context: containerPort must be an integer from 1 to 65535, got 'abc'"),
        ({"hooksInVpc": "ture"}, "context: hooksInVpc must be true or false, got 'ture'"),
        (
            {"hookChecks": {"before_install": "approval"}},
            "hookChecks.before_install must be a list of strings",
        ),
        (
            {"hookDetails": {"after-allow-traffic": []}},
            "hookDetails.after-allow-traffic must be a JSON object, got []",
        ),
        ({"egress": "nats"}, "context: egress must be nat or endpoints, got 'nats'"),
        ({"hooksInVPC": False}, "unknown key 'hooksInVPC'; did you mean 'hooksInVpc'?"),
    ],
)
def test_cdk_json_mistakes_name_the_file_and_key(
    tmp_path: Path, context: dict[str, object], message: str
) -> None:
    path = cdk_json(tmp_path, context)
    with pytest.raises(DefinitionError) as caught:
        read_cdk_json(path)
    assert str(caught.value).startswith(f"{path}: context: ")
    assert message in str(caught.value)


def test_cdk_json_leaves_cdks_own_keys_alone(tmp_path: Path) -> None:
    context = {"@aws-cdk/core:newStyleStackSynthesis": True, "acknowledged-issue-numbers": [1], "env": "stg"}
    assert read_cdk_json(cdk_json(tmp_path, context)).env == "stg"


def test_the_repository_cdk_json_reads() -> None:
    context = read_cdk_json(ROOT / "infrastructure" / "cdk.json")
    assert context.env == "dev"


@dataclass(frozen=True)
class Inner:
    mode: Literal["a", "b"] = "a"


@dataclass(frozen=True)
class Outer:
    port: int = field(default=1, metadata=setting(minimum=1, maximum=10))
    ratio: float = field(default=1.0, metadata=setting(positive=True))
    flag: bool = False
    names: tuple[str, ...] = ()
    inner: Inner = Inner()
    maybe: int | None = None
    either: str | int = 0


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"port": "10"}, Outer(port=10)),
        ({"flag": "true", "ratio": "0.5"}, Outer(flag=True, ratio=0.5)),
        ({"names": "a, b"}, Outer(names=("a", "b"))),
        ({"names": '["a", "b"]'}, Outer(names=("a", "b"))),
        ({"inner": '{"mode": "b"}'}, Outer(inner=Inner("b"))),
        ({"maybe": ""}, Outer(maybe=None)),
        ({"either": "x"}, Outer(either="x")),
        ({"port": 3, "flag": True}, Outer(port=3, flag=True)),  # typed values (cdk.json) as they are
    ],
)
def test_strings_are_read_only_where_they_spell_the_type(
    document: dict[str, object], expected: Outer
) -> None:
    assert parse_settings(Outer, document, "ctx:", strings=True) == expected


@pytest.mark.parametrize(
    ("document", "strings", "message"),
    [
        ({"port": "10"}, False, "ctx: port must be an integer from 1 to 10, got '10'"),
        ({"port": 11}, False, "ctx: port must be an integer from 1 to 10, got 11"),
        ({"port": True}, False, "ctx: port must be an integer from 1 to 10, got True"),
        ({"ratio": 0}, False, "ctx: ratio must be a positive number, got 0"),
        ({"flag": "True"}, True, "ctx: flag must be true or false, got 'True'"),
        ({"flag": "1"}, True, "ctx: flag must be true or false, got '1'"),
        ({"port": "1.5"}, True, "ctx: port must be an integer from 1 to 10, got '1.5'"),
        ({"inner": "{"}, True, "ctx: inner must be a JSON object, got '{' (not valid JSON: Expecting"),
        ({"inner": {"mode": "c"}}, True, "ctx: inner.mode must be a or b, got 'c'"),
        ({"inner": {"mod": "a"}}, True, "ctx: unknown key 'inner.mod'; did you mean 'mode'? (known: mode)"),
        ({"either": 1.5}, False, "ctx: either must be a string or an integer, got 1.5"),
        (["port"], False, "ctx: expected a mapping of settings, got ['port']"),
    ],
)
def test_mistakes_say_where_what_was_expected_and_what_came(
    document: object, strings: bool, message: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(Outer, document, "ctx:", strings=strings)
    assert str(caught.value).startswith(message)
