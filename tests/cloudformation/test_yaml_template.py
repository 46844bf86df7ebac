"""CloudFormation YAML: every short form reads as its JSON form; YAML's own surprises are turned off."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecs_bg.local.cloudformation.errors import TemplateError
from ecs_bg.local.cloudformation.yaml_template import load_yaml

FILE = Path("template.yaml")


def test_every_short_form_reads_as_its_json_form() -> None:
    text = """
AWSTemplateFormatVersion: 2010-09-09
Outputs:
  Ref: {Value: !Ref Topic}
  GetAtt: {Value: !GetAtt Db.Endpoint.Address}
  GetAttList: {Value: !GetAtt [Topic, TopicName]}
  Sub: {Value: !Sub '${AWS::Region}-x'}
  SubVars: {Value: !Sub ['${A}', {A: !Ref B}]}
  Join: {Value: !Join [',', [a, !Select [0, !GetAZs '']]]}
  Split: {Value: !Split [',', 'a,b']}
  Map: {Value: !FindInMap [M, !Ref 'AWS::Region', k]}
  If: {Value: !If [C, !Base64 x, !ImportValue e]}
  Cidr: {Value: !Cidr ['10.0.0.0/16', 2, 8]}
  Json: {Value: !ToJsonString {a: 1}}
  Length: {Value: !Length [1, 2]}
Conditions:
  C: !And [!Equals [a, b], !Not [!Condition D], !Or [!Condition D, !Condition E]]
"""
    document = load_yaml(text, FILE)
    outputs = {key: value["Value"] for key, value in document["Outputs"].items()}
    assert document["AWSTemplateFormatVersion"] == "2010-09-09"  # a string, as CloudFormation reads it
    assert outputs == {
        "Ref": {"Ref": "Topic"},
        "GetAtt": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "GetAttList": {"Fn::GetAtt": ["Topic", "TopicName"]},
        "Sub": {"Fn::Sub": "${AWS::Region}-x"},
        "SubVars": {"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]},
        "Join": {"Fn::Join": [",", ["a", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}]]},
        "Split": {"Fn::Split": [",", "a,b"]},
        "Map": {"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "k"]},
        "If": {"Fn::If": ["C", {"Fn::Base64": "x"}, {"Fn::ImportValue": "e"}]},
        "Cidr": {"Fn::Cidr": ["10.0.0.0/16", 2, 8]},
        "Json": {"Fn::ToJsonString": {"a": 1}},
        "Length": {"Fn::Length": [1, 2]},
    }
    assert document["Conditions"]["C"] == {
        "Fn::And": [
            {"Fn::Equals": ["a", "b"]},
            {"Fn::Not": [{"Condition": "D"}]},
            {"Fn::Or": [{"Condition": "D"}, {"Condition": "E"}]},
        ]
    }


def test_an_unknown_tag_is_an_error_naming_its_line() -> None:
    with pytest.raises(TemplateError) as raised:
        load_yaml("Resources:\n  A: !Reff B\n", FILE)
    assert str(raised.value).startswith("template.yaml: is not valid CloudFormation YAML: !Reff is not")
    assert "(line 2, column 6)" in str(raised.value)


def test_a_get_att_without_a_dot_is_an_error() -> None:
    with pytest.raises(TemplateError, match=r"!GetAtt Topic needs Resource.Attribute \(line 1"):
        load_yaml("A: !GetAtt Topic\n", FILE)


def test_broken_yaml_names_the_file_and_line() -> None:
    with pytest.raises(TemplateError, match=r"^template.yaml: is not valid CloudFormation YAML: .*\(line 2"):
        load_yaml("A: [1, 2\nB: 3\n", FILE)
