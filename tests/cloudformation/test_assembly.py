"""Finding a user's stacks: a CDK cloud assembly, a folder of templates, or one template file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.local.cloudformation.assembly import find_templates
from ecs_bg.local.cloudformation.errors import TemplateError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cloudformation"

OTHER_APP = FIXTURES / "other-app"
STACK = {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}


def _write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def _manifest(folder: Path, artifacts: dict[str, Any]) -> Path:
    return _write(folder / "manifest.json", {"version": "48.0.0", "artifacts": artifacts})


def _stack_artifact(template: str, **extra: Any) -> dict[str, Any]:
    return {"type": "aws:cloudformation:stack", "properties": {"templateFile": template}, **extra}


def test_a_cloud_assembly_names_its_stacks_templates_and_assets() -> None:
    payments, shared = find_templates(OTHER_APP)

    # properties.stackName when the manifest gives one, else the artifact's id
    assert (payments.stack_name, shared.stack_name) == ("payments-api-staging", "SharedNetwork")
    assert payments.file == OTHER_APP / "PaymentsApi.template.json"
    assert payments.body["Description"].startswith("Another team's stack")
    assert payments.base_dir == OTHER_APP
    # The asset manifest the stack depends on, by the object key Code.S3Key names; an asset built by a
    # command at publish time has no local path and is left out.
    assert dict(payments.assets) == {"6f1c0a.zip": payments.assets["6f1c0a.zip"]}
    assert payments.assets["6f1c0a.zip"].path == OTHER_APP / "asset.6f1c0a"
    assert payments.assets["6f1c0a.zip"].packaging == "zip"
    assert dict(shared.assets) == {}
    # aws://unknown-account/unknown-region: an environment-agnostic stack
    assert (payments.account, payments.region) == (None, None)


def test_stack_name_picks_one_stack_of_an_assembly() -> None:
    (shared,) = find_templates(OTHER_APP, "SharedNetwork")
    assert shared.stack_name == "SharedNetwork"
    with pytest.raises(TemplateError) as raised:
        find_templates(OTHER_APP, "Payments")
    assert str(raised.value) == (
        f"{OTHER_APP}: has no stack named Payments (its stacks: payments-api-staging, SharedNetwork)"
    )


def test_an_environment_in_the_manifest_and_a_nested_assembly_are_read(tmp_path: Path) -> None:
    _write(tmp_path / "App.template.json", STACK)
    _write(tmp_path / "assembly-Prod" / "ProdApp.template.json", STACK)
    _manifest(tmp_path / "assembly-Prod", {"ProdApp": _stack_artifact("ProdApp.template.json")})
    _manifest(
        tmp_path,
        {
            "App": _stack_artifact("App.template.json", environment="aws://111122223333/eu-central-1"),
            "Prod": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Prod"}},
        },
    )

    app, prod = find_templates(tmp_path)

    assert (app.stack_name, app.account, app.region) == ("App", "111122223333", "eu-central-1")
    assert (prod.stack_name, prod.file) == ("ProdApp", tmp_path / "assembly-Prod" / "ProdApp.template.json")
    assert prod.base_dir == tmp_path / "assembly-Prod"


def test_a_folder_without_a_manifest_holds_its_template_files(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(FIXTURES / "intrinsics", folder)
    _write(folder / "Parent.nested.template.json", STACK)  # a nested stack's, not a stack of its own
    _write(
        folder / "shared-exports.assets.json",
        {"files": {"a": {"source": {"path": "asset.a"}, "destinations": {"d": {"objectKey": "a.zip"}}}}},
    )

    sources = {source.stack_name: source for source in find_templates(folder)}

    assert sorted(sources) == ["fixture-stack", "shared-exports"]
    assert sources["shared-exports"].assets["a.zip"].path == folder / "asset.a"
    assert dict(sources["fixture-stack"].assets) == {}


def test_one_template_file_in_json_or_yaml(tmp_path: Path) -> None:
    (json_source,) = find_templates(FIXTURES / "intrinsics" / "fixture-stack.template.json")
    assert json_source.stack_name == "fixture-stack"
    assert json_source.base_dir == FIXTURES / "intrinsics"

    yaml_file = _write(tmp_path / "orders.yaml", "Resources:\n  Queue: {Type: 'AWS::SQS::Queue'}\n")
    (yaml_source,) = find_templates(yaml_file)
    assert yaml_source.stack_name == "orders"
    assert yaml_source.body == {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    (named,) = find_templates(yaml_file, "orders-prod")
    assert named.stack_name == "orders-prod"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"t.template.json": '{"Resources": {'},
            "t.template.json: is not valid JSON: Expecting property name",
        ),
        ({"t.template.json": "[1, 2]"}, "t.template.json: is not a CloudFormation template"),
        ({"readme.txt": "hello"}, ": has no manifest.json and no *.template.json"),
        ({"manifest.json": {"version": "1"}}, "manifest.json: artifacts: is missing"),
        (
            {"manifest.json": {"artifacts": {"Tree": {"type": "cdk:tree"}}}},
            "manifest.json: artifacts: has no artifact of type aws:cloudformation:stack",
        ),
        (
            {"manifest.json": {"artifacts": {"App": {"type": "aws:cloudformation:stack", "properties": {}}}}},
            "manifest.json: artifacts.App.properties.templateFile: is missing",
        ),
        (
            {"manifest.json": {"artifacts": {"App": _stack_artifact("App.template.json")}}},
            "App.template.json: cannot be read",
        ),
        (
            {
                "manifest.json": {
                    "artifacts": {
                        "A": _stack_artifact(
                            "a.json", properties={"templateFile": "a.json", "stackName": "same"}
                        ),
                        "B": _stack_artifact(
                            "b.json", properties={"templateFile": "b.json", "stackName": "same"}
                        ),
                    }
                },
                "a.json": STACK,
                "b.json": STACK,
            },
            ": holds two stacks named same",
        ),
        (
            {
                "manifest.json": {
                    "artifacts": {
                        "A": _stack_artifact(
                            "a.json", properties={"templateFile": "a.json", "stackName": "1st"}
                        )
                    }
                }
            },
            "manifest.json: artifacts.A.properties.stackName: stack name '1st' is not one CloudFormation",
        ),
        (
            {"9lives.template.json": STACK},
            "9lives.template.json: stack name '9lives' is not one CloudFormation",
        ),
    ],
)
def test_what_cannot_be_read_is_an_error_naming_the_file_and_field(
    tmp_path: Path, files: dict[str, Any], expected: str
) -> None:
    for name, content in files.items():
        _write(tmp_path / name, content)
    with pytest.raises(TemplateError) as raised:
        find_templates(tmp_path)
    assert expected in str(raised.value)
    assert str(raised.value).startswith(str(tmp_path))


def test_a_missing_path_is_an_error() -> None:
    with pytest.raises(TemplateError, match=r"^nowhere/cdk.out: does not exist"):
        find_templates(Path("nowhere/cdk.out"))


def test_a_json_error_names_its_line_and_column(tmp_path: Path) -> None:
    file = _write(tmp_path / "t.template.json", '{\n  "Resources": {\n    "A": ,\n  }\n}')
    with pytest.raises(TemplateError, match=r"is not valid JSON: Expecting value \(line 3, column 10\)"):
        find_templates(file)
