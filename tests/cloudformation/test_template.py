"""A stack as deployed: parameters, conditions, resources' names and values, outputs, exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.local.cloudformation.assembly import TemplateSource
from ecs_bg.local.cloudformation.errors import TemplateError
from ecs_bg.local.cloudformation.template import Assembly, Stack, read_templates
from tests.cloudformation.helpers import FIXTURES, stack_of

TOPIC = {"Type": "AWS::SNS::Topic"}


def _output(body: dict[str, Any], value: Any, **options: Any) -> str:
    body = {"Resources": {"T": TOPIC}, **body, "Outputs": {"O": {"Value": value}}}
    return stack_of(body, **options).output("O").value


def _error(body: dict[str, Any], value: Any = "x", **options: Any) -> str:
    with pytest.raises(TemplateError) as raised:
        _output(body, value, **options)
    return str(raised.value)


def test_a_parameter_takes_the_value_given_else_its_default() -> None:
    parameters = {"Env": {"Type": "String", "Default": "qa"}}
    assert _output({"Parameters": parameters}, {"Ref": "Env"}) == "qa"
    assert _output({"Parameters": parameters}, {"Ref": "Env"}, parameters={"Env": "prod"}) == "prod"


def test_a_list_parameters_members_are_space_trimmed() -> None:
    parameters = {"Names": {"Type": "CommaDelimitedList", "Default": "a, b ,c"}}
    assert _output({"Parameters": parameters}, {"Fn::Join": ["|", {"Ref": "Names"}]}) == "a|b|c"


@pytest.mark.parametrize(
    ("declaration", "given", "expected"),
    [
        ({"Type": "String"}, {}, "Parameters.P: has no Default and no value was given for it"),
        (
            {"Type": "String", "Default": "a", "AllowedValues": ["b"]},
            {},
            "value 'a' is not one of its AllowedValues",
        ),
        ({"Type": "Number", "Default": "ten"}, {}, "Parameters.P: value 'ten' is not a number"),
        ({"Type": "List<Number>", "Default": "1,x"}, {}, "value 'x' is not a number"),
        ({"Default": "a"}, {}, "Parameters.P.Type: is missing"),
        (
            {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/aws/service/x"},
            {},
            "Parameters.P: is read from the SSM parameter /aws/service/x, which has no local value",
        ),
    ],
)
def test_a_parameter_that_cannot_be_resolved_is_an_error(
    declaration: dict[str, Any], given: dict[str, str], expected: str
) -> None:
    message = _error(
        {"Parameters": {"P": declaration}}, {"Fn::Join": [",", [{"Ref": "P"}]]}, parameters=given
    )
    assert message.startswith("t.template.json: Parameters.P")
    assert expected in message


def test_an_unused_parameter_need_not_resolve() -> None:
    # The CDK's Powertools layer parameter reads a public SSM parameter: fine while nothing asks for it.
    parameters = {"Layer": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/aws/service/layer"}}
    assert _output({"Parameters": parameters}, "ok") == "ok"
    ssm = {"/aws/service/layer": "arn:aws:lambda:eu-west-1:1:layer:x:3"}
    assert (
        _output({"Parameters": parameters}, {"Ref": "Layer"}, ssm_parameters=ssm) == ssm["/aws/service/layer"]
    )


def test_pseudo_parameters_follow_the_region() -> None:
    source = TemplateSource(
        Path("t.json"), "t", {"Resources": {"T": TOPIC}, "Outputs": {"O": {"Value": "x"}}}, Path(".")
    )
    stack = Assembly((source,), region="cn-north-1").stacks[0]
    assert stack.ref("AWS::Partition", ()) == "aws-cn"
    assert stack.ref("AWS::URLSuffix", ()) == "amazonaws.com.cn"
    assert stack.ref("AWS::AccountId", ()) == "123456789012"  # the default account
    assert stack.ref("AWS::NotificationARNs", ()) == []


def test_the_manifest_environment_is_the_default_and_an_explicit_one_wins(tmp_path: Path) -> None:
    (tmp_path / "App.template.json").write_text(json.dumps({"Resources": {"T": TOPIC}}))
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "artifacts": {
                    "App": {
                        "type": "aws:cloudformation:stack",
                        "environment": "aws://444455556666/eu-north-1",
                        "properties": {"templateFile": "App.template.json"},
                    }
                }
            }
        )
    )
    (stack,) = read_templates(tmp_path).stacks
    assert (stack.env.region, stack.env.account) == ("eu-north-1", "444455556666")
    (stack,) = read_templates(tmp_path, region="us-west-2", account="777788889999").stacks
    assert (stack.env.region, stack.env.account) == ("us-west-2", "777788889999")
    (stack,) = read_templates(FIXTURES / "intrinsics" / "shared-exports.template.json").stacks
    assert (stack.env.region, stack.env.account) == ("us-east-1", "123456789012")  # nothing says otherwise


def test_a_resource_whose_condition_is_false_cannot_be_referenced() -> None:
    body = {
        "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
        "Resources": {"T": TOPIC, "Maybe": {**TOPIC, "Condition": "Never"}},
    }
    assert "Maybe is not created (its condition Never is false)" in _error(body, {"Ref": "Maybe"})
    assert _output(body, {"Fn::If": ["Never", {"Ref": "Maybe"}, "none"]}) == "none"
    assert [r.logical_id for r in stack_of(body).created("AWS::SNS::Topic")] == ["T"]


@pytest.mark.parametrize(
    ("resource", "value", "expected"),
    [
        (
            {"Type": "AWS::RDS::DBInstance"},
            {"Fn::GetAtt": ["R", "Endpoint.Address"]},
            "Fn::GetAtt R.Endpoint.Address: ecs-bg does not know what CloudFormation returns for a "
            "AWS::RDS::DBInstance (give it with overrides)",
        ),
        (
            {"Type": "Custom::Seed"},
            {"Ref": "R"},
            "Ref: R is a Custom::Seed: its values come from its provider",
        ),
        (
            {"Type": "AWS::CloudFormation::Stack"},
            {"Fn::GetAtt": ["R", "Outputs.Url"]},
            "R is a AWS::CloudFormation::Stack: a nested stack's values come from its own template",
        ),
        (
            {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::GetAtt": ["R", "TopicName"]}}},
            {"Ref": "R"},
            "Resources.R.Properties.TopicName: circular reference: R.Properties.TopicName -> R.TopicName -> "
            "R.Properties.TopicName (needed by Resources.R.Properties.TopicName.Fn::GetAtt, then "
            "Outputs.O.Value.Ref)",
        ),
        (
            {
                "Type": "AWS::ElasticLoadBalancingV2::Listener",
                "Properties": {"LoadBalancerArn": "arn:aws:sns:x"},
            },
            {"Ref": "R"},
            "Resources.R.Properties.LoadBalancerArn: is not a loadbalancer ARN: arn:aws:sns:x (needed by "
            "Outputs.O.Value.Ref)",
        ),
        (
            {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {"Type": "classic"}},
            {"Ref": "R"},
            "Resources.R.Properties.Type: must be one of application, network, gateway, got 'classic'",
        ),
        (
            {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${Nowhere}"}}},
            {"Fn::GetAtt": ["R", "TopicArn"]},
            "Resources.R.Properties.TopicName.Fn::Sub: Ref Nowhere: no parameter or resource has that name "
            "(needed by Outputs.O.Value.Fn::GetAtt)",
        ),
    ],
)
def test_what_a_resource_cannot_answer_is_an_error_naming_where(
    resource: dict[str, Any], value: Any, expected: str
) -> None:
    message = _error({"Resources": {"R": resource}}, value)
    assert message.startswith("t.template.json: "), message
    assert expected in message, message


def test_overrides_answer_for_a_resource_by_logical_id_or_by_type() -> None:
    body = {
        "Resources": {
            "Alb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer"},
            "Db": {"Type": "AWS::RDS::DBInstance"},
        }
    }
    overrides = {
        "AWS::ElasticLoadBalancingV2::LoadBalancer": {"DNSName": "127.0.0.1"},
        "Db": {"Endpoint.Address": "localhost"},
    }
    value = {"Fn::Sub": "http://${Alb.DNSName}/ ${Db.Endpoint.Address}"}
    assert _output(body, value, overrides=overrides) == "http://127.0.0.1/ localhost"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"Transform": "AWS::Serverless-2016-10-31"},
            "Transform: AWS::Serverless-2016-10-31 is a macro ecs-bg",
        ),
        ({"Transform": ["AWS::LanguageExtensions", "Other"]}, "Transform[1]: Other is a macro"),
        ({"Resources": {}}, "Resources: is missing: a template declares at least one resource"),
        ({"Resources": {"T": {"Properties": {}}}}, "Resources.T.Type: is missing"),
        ({"Resources": {"T": TOPIC}, "Outputs": []}, "Outputs: must be an object"),
        (
            {"Resources": {"T": TOPIC, "Fn::ForEach::Topics": ["X", ["a"], {}]}},
            "Resources.Fn::ForEach::Topics: Fn::ForEach (AWS::LanguageExtensions) is not supported",
        ),
    ],
)
def test_a_template_ecs_bg_cannot_read_is_refused_naming_the_section(
    body: dict[str, Any], expected: str
) -> None:
    with pytest.raises(TemplateError) as raised:
        stack_of({"Resources": {"T": TOPIC}, **body})
    assert str(raised.value).startswith(f"t.template.json: {expected}")


def test_the_language_extensions_transform_is_accepted() -> None:
    stack = stack_of({"Transform": "AWS::LanguageExtensions", "Resources": {"T": TOPIC}})
    assert stack.name == "t"


def _assembly(*bodies: dict[str, Any]) -> Assembly:
    sources = tuple(
        TemplateSource(Path(f"s{index}.template.json"), f"s{index}", body, Path("."))
        for index, body in enumerate(bodies)
    )
    return Assembly(sources)


def test_export_names_are_unique_across_the_assembly() -> None:
    exporting = {"Resources": {"T": TOPIC}, "Outputs": {"A": {"Value": "a", "Export": {"Name": "shared"}}}}
    with pytest.raises(TemplateError) as raised:
        _ = _assembly(exporting, exporting).exports
    assert str(raised.value) == (
        "s1.template.json: Outputs.A.Export.Name: exports shared, which s0.template.json (Outputs.A) exports "
        "too: export names are unique in a region"
    )


def test_a_stack_cannot_import_its_own_export() -> None:
    body = {
        "Resources": {"T": TOPIC},
        "Outputs": {
            "A": {"Value": "a", "Export": {"Name": "mine"}},
            "B": {"Value": {"Fn::ImportValue": "mine"}},
        },
    }
    with pytest.raises(
        TemplateError, match=r"Outputs.B.Value.Fn::ImportValue: Fn::ImportValue mine: a stack cannot"
    ):
        _assembly(body).stacks[0].output("B")


def test_an_import_names_the_exporting_outputs_error_and_the_import() -> None:
    exporter = {
        "Resources": {"T": TOPIC},
        "Outputs": {"A": {"Value": {"Ref": "Nope"}, "Export": {"Name": "e"}}},
    }
    importer = {"Resources": {"T": TOPIC}, "Outputs": {"B": {"Value": {"Fn::ImportValue": "e"}}}}
    with pytest.raises(TemplateError) as raised:
        _assembly(exporter, importer).stacks[1].output("B")
    assert str(raised.value) == (
        "s0.template.json: Outputs.A.Value.Ref: Ref Nope: no parameter or resource has that name (needed by "
        "s1.template.json: Outputs.B.Value.Fn::ImportValue)"
    )


def test_a_resource_keeps_its_names_and_ids_when_its_other_properties_change() -> None:
    def arn(properties: dict[str, Any]) -> str:
        body = {
            "Resources": {
                "Tg": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": properties}
            }
        }
        return _output(body, {"Ref": "Tg"})

    first = arn({"Port": 80, "HealthCheckPath": "/"})
    assert first == arn({"Port": 8080, "HealthCheckPath": "/healthz"})
    assert re.fullmatch(
        r"arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/t-Tg-[A-Z2-7]{12}/[0-9a-f]{16}",
        first,
    )
    assert arn({"Name": "named"}).split("/")[1] == "named"


def test_stack_lookup_by_name() -> None:
    assembly = read_templates(FIXTURES / "other-app")
    assert isinstance(assembly.stack("SharedNetwork"), Stack)
    with pytest.raises(KeyError, match="no stack named Nope"):
        assembly.stack("Nope")


def test_a_parameter_error_says_which_value_needed_it() -> None:
    message = _error({"Parameters": {"P": {"Type": "String"}}}, {"Fn::Sub": "x-${P}"})
    assert message == (
        "t.template.json: Parameters.P: has no Default and no value was given for it (needed by "
        "Outputs.O.Value.Fn::Sub)"
    )
