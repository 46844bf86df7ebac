"""Every intrinsic function, evaluated as CloudFormation evaluates it, and every way one can be wrong.

The fixture template ``intrinsics/fixture-stack.template.json`` puts each function in an output; the
errors are tried on one-output templates, each error naming the file, the field and what is wrong.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.local.cloudformation.errors import TemplateError
from ecs_bg.local.cloudformation.names import generated_name
from ecs_bg.local.cloudformation.template import Stack, read_templates
from tests.cloudformation.helpers import ACCOUNT, FIXTURES, REGION, output_of, stack_of


@pytest.fixture(scope="module")
def fixture_stack() -> Stack:
    assembly = read_templates(
        FIXTURES / "intrinsics", region=REGION, account=ACCOUNT, ssm_parameters={"/local/latest": "v42"}
    )
    return assembly.stack("fixture-stack")


def test_every_function_of_the_fixture_resolves_to_what_cloudformation_would_give(
    fixture_stack: Stack,
) -> None:
    values = {key: output.value for key, output in fixture_stack.outputs.items()}
    function_name = generated_name("fixture-stack", "Fn", 64)

    assert {key: value for key, value in values.items() if key not in ("StackId", "Imported")} == {
        "Region": "eu-west-1",
        "Account": "111122223333",
        "StackName": "fixture-stack",
        "Partition": "aws",
        "UrlSuffix": "amazonaws.com",
        # ${Res.Attr} is Fn::GetAtt, ${!Literal} writes ${Literal}
        "SubString": "fixture-stack/qa/fixture-stack-events/${Literal}",
        "SubVariables": "Hello, qa on eu-west-1",
        "Joined": "zone-a,zone-b,zone-c",  # a CommaDelimitedList parameter is a list
        "Selected": "zone-b",  # the index may be a string that spells a number
        "SplitJoined": "1+2+3",
        "Zones": "eu-west-1a,eu-west-1b,eu-west-1c",
        "Mapped": "ami-eu",
        "MappedDefault": "ami-default",
        "IfProd": "not production",
        # Fn::Not, Fn::And, Fn::Or, Condition, a Number parameter equal to the number 8080; the If whose
        # false value is AWS::NoValue leaves the list
        "Conditions": "qa 8080 both either",
        "Encoded": base64.b64encode(b"hello qa").decode(),
        "Cidrs": "10.0.0.0/28 10.0.0.16/28",
        "Length": "3",
        "Json": '{"env":"qa","sizes":["1","2"]}',
        "FunctionArn": f"arn:aws:lambda:eu-west-1:111122223333:function:{function_name}",
        "FunctionName": function_name,
        "LogGroup": f"/aws/lambda/{function_name}",
        "TopicArn": "arn:aws:sns:eu-west-1:111122223333:fixture-stack-events",
        "BucketName": generated_name("fixture-stack", "Bucket", 63, lowercase=True),
        "SubnetZone": "eu-west-1a",
        "SubnetCidr": "10.1.1.0/24",  # the second /24 of the VPC's CIDR, looked up by region in Mappings
        "RoleArn": f"arn:aws:iam::111122223333:role/service/{generated_name('fixture-stack', 'Role', 64)}",
        "Latest": "v42",  # an SSM parameter's value, given
        "Sizes": "1,2",
        "Exported": "arn:aws:sns:eu-west-1:111122223333:fixture-stack-events",
    }
    assert re.fullmatch(
        r"arn:aws:cloudformation:eu-west-1:111122223333:stack/fixture-stack/[0-9a-f-]{36}", values["StackId"]
    )
    # Fn::ImportValue: another stack of the same folder exports shared-qa-vpc, its VPC's id
    assembly_vpc = read_templates(FIXTURES / "intrinsics", region=REGION, account=ACCOUNT).stack(
        "shared-exports"
    )
    assert values["Imported"] == assembly_vpc.output("VpcId").value
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", values["Imported"])
    # An output whose condition is false does not exist.
    assert "ProdTopic" not in values


def test_outputs_carry_their_description_and_export(fixture_stack: Stack) -> None:
    exported = fixture_stack.output("Exported")
    assert exported.description == "the topic of fixture-stack"
    assert exported.export_name == "fixture-stack-topic"
    assert fixture_stack.exports == {"fixture-stack-topic": exported.value}
    assert fixture_stack.assembly is not None
    assert fixture_stack.assembly.exports == {
        "fixture-stack-topic": exported.value,
        "shared-qa-vpc": fixture_stack.output("Imported").value,
        "shared-exports-cidr": "10.9.0.0/16",
    }


def test_the_same_template_resolves_the_same_on_every_read() -> None:
    def read() -> dict[str, str]:
        stack = read_templates(
            FIXTURES / "intrinsics", region=REGION, account=ACCOUNT, ssm_parameters={"/local/latest": "v"}
        ).stack("fixture-stack")
        return {key: output.value for key, output in stack.outputs.items()}

    assert read() == read()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Fn::Sub": "${AWS::NoSuch}"}, "Ref AWS::NoSuch: no such pseudo parameter"),
        ({"Ref": "Tpoic"}, "Ref Tpoic: no parameter or resource has that name"),
        ({"Ref": ["T"]}, "Ref takes the name of a parameter, pseudo parameter or resource"),
        ({"Fn::GetAtt": ["Nope", "Arn"]}, "Fn::GetAtt Nope.Arn: no resource has that name"),
        (
            {"Fn::GetAtt": ["T", "Nope"]},
            "Fn::GetAtt T.Nope: a AWS::SNS::Topic has no attribute Nope (it has TopicArn",
        ),
        ({"Fn::GetAtt": "T"}, "Fn::GetAtt takes [LogicalId, AttributeName] or 'LogicalId.AttributeName'"),
        ({"Fn::Transform": {"Name": "X"}}, "Fn::Transform is not an intrinsic function ecs-bg can evaluate"),
        ({"Fn::Equals": ["a", "a"]}, "Fn::Equals is a condition function"),
        ({"Fn::Join": [",", "a"]}, "Fn::Join joins a list"),
        ({"Fn::Join": [{"Ref": "T"}, ["a"]]}, "the delimiter must be a string"),
        ({"Fn::Join": [",", [["a"]]]}, "the value must be a string, got a list"),
        ({"Fn::Select": [3, ["a", "b"]]}, "index 3 is out of range for a list of 2"),
        ({"Fn::Select": ["one", ["a"]]}, "the index must be an integer, got 'one'"),
        ({"Fn::Select": [0]}, "takes [index, list]"),
        ({"Fn::Split": ["", "a"]}, "the delimiter must be a non-empty string"),
        ({"Fn::Sub": ["${X}", {"X": ["a"]}]}, "variable X must be a string, got a list"),
        ({"Fn::Sub": "${Unknown}"}, "Ref Unknown: no parameter or resource has that name"),
        ({"Fn::Sub": "${}"}, "${} names no variable"),
        ({"Fn::Sub": 3}, "Fn::Sub takes a string or [string, {variable: value}]"),
        ({"Fn::FindInMap": ["M", "a", "b"]}, "Mappings has no key 'M'"),
        ({"Fn::FindInMap": ["M", "a"]}, "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey"),
        ({"Fn::FindInMap": ["M", "a", "b", {"Default": 1}]}, "the fourth item must be {DefaultValue: value}"),
        ({"Fn::If": ["Nope", "a", "b"]}, "no condition named Nope"),
        ({"Fn::If": ["Nope", "a"]}, "takes [condition, value if true, value if false]"),
        (
            {"Fn::ImportValue": "nobody-exports-this"},
            "Fn::ImportValue nobody-exports-this: no stack here exports it",
        ),
        ({"Fn::Cidr": ["10.0.0.0/30", 4, 8]}, "cannot cut 4 blocks of 8 host bits from 10.0.0.0/30"),
        ({"Fn::Cidr": ["10.0.0.0/24", 17, 4]}, "10.0.0.0/24 holds only 16 blocks of 4 host bits, not 17"),
        ({"Fn::Cidr": ["ten", 1, 4]}, "is not a CIDR block"),
        ({"Fn::Length": "abc"}, "Fn::Length takes a list"),
        ({"Fn::ToJsonString": "abc"}, "Fn::ToJsonString takes an object or a list"),
        ({"Fn::Base64": "a", "Fn::Join": []}, "Fn::Base64 must be the only key of its object"),
        (["a", "b"], "an output's value must be a string, got a list"),
        ({"Ref": "AWS::NotificationARNs"}, "an output's value must be a string, got a list"),
    ],
)
def test_an_error_names_the_template_the_output_and_the_field(value: Any, expected: str) -> None:
    with pytest.raises(TemplateError) as raised:
        output_of(value)
    message = str(raised.value)
    assert message.startswith("t.template.json: Outputs.O.Value"), message
    assert expected in message, message


def test_an_error_inside_a_function_names_the_functions_path() -> None:
    with pytest.raises(TemplateError) as raised:
        output_of({"Fn::Join": ["", ["a", {"Fn::Select": [5, {"Fn::Split": [",", "x,y"]}]}]]})
    assert str(raised.value) == (
        "t.template.json: Outputs.O.Value.Fn::Join[1][1].Fn::Select: index 5 is out of range for a list of 2"
    )


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (
            {"C": "true"},
            "Conditions.C: a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition",
        ),
        (
            {"C": {"Fn::And": [{"Condition": "D"}]}, "D": {"Fn::Equals": [1, 1]}},
            "Fn::And takes 2 to 10 conditions",
        ),
        ({"C": {"Fn::Not": [{"Condition": "C"}]}}, "circular reference: Conditions.C -> Conditions.C"),
        ({"C": {"Fn::Equals": ["a"]}}, "Conditions.C.Fn::Equals: takes [value, value]"),
        ({"C": {"Condition": 1}}, "Condition takes the name of a condition"),
    ],
)
def test_a_wrong_condition_is_an_error_naming_it(conditions: dict[str, Any], expected: str) -> None:
    body = {
        "Conditions": conditions,
        "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"O": {"Value": {"Fn::If": ["C", "yes", "no"]}}},
    }
    with pytest.raises(TemplateError) as raised:
        stack_of(body).output("O")
    assert expected in str(raised.value)


def test_get_azs_of_another_region_and_select_of_a_parameter_list() -> None:
    assert (
        output_of({"Fn::Join": [",", {"Fn::GetAZs": "ap-south-1"}]}) == "ap-south-1a,ap-south-1b,ap-south-1c"
    )
    body = {
        "Parameters": {"Ids": {"Type": "List<AWS::EC2::Subnet::Id>", "Default": "subnet-1,subnet-2"}},
        "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"O": {"Value": {"Fn::Select": [1, {"Ref": "Ids"}]}}},
    }
    assert stack_of(body).output("O").value == "subnet-2"


def test_an_import_reads_an_export_given_from_outside_the_assembly() -> None:
    body = {
        "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"O": {"Value": {"Fn::ImportValue": "x"}}},
    }
    assert stack_of(body, imports={"x": "from elsewhere"}).output("O").value == "from elsewhere"


def test_a_yaml_template_in_short_forms_resolves(tmp_path: Path) -> None:
    yaml_file = tmp_path / "yaml-stack.yaml"
    yaml_file.write_text(
        """
Parameters:
  Env: {Type: String, Default: qa}
Conditions:
  IsQa: !Equals [!Ref Env, qa]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {TopicName: !Sub '${AWS::StackName}-${Env}'}
Outputs:
  Arn: {Value: !GetAtt Topic.TopicArn}
  Which: {Value: !If [IsQa, !Join ['-', [!Select [0, !Split [',', 'a,b']], !Ref Env]], prod]}
"""
    )
    stack = read_templates(yaml_file, region=REGION, account=ACCOUNT).stacks[0]
    assert stack.output("Arn").value == "arn:aws:sns:eu-west-1:111122223333:yaml-stack-qa"
    assert stack.output("Which").value == "a-qa"
