from __future__ import annotations

import pytest

from ecs_bg.deploy.template import TemplateError, TemplateFunction, env_functions, render


def functions(environ: dict[str, str] | None = None) -> dict[str, TemplateFunction]:
    result = env_functions(environ or {})
    result["cfn_output"] = TemplateFunction(lambda stack, key: f"{stack}/{key}", 2, 2)
    return result


def test_env_uses_the_variable_or_falls_back_to_the_last_argument() -> None:
    environ = {"SET": "value", "EMPTY": ""}
    text = "{{ env `SET` `d` }} {{ env `UNSET` `d` }} {{ env `EMPTY` `d` }} {{ env `UNSET` `SET` `d` }}"
    assert render(text, "f", functions(environ)) == "value d d value"


def test_env_with_one_unset_name_yields_the_name_like_go_config() -> None:
    assert render("{{ env `UNSET` }}", "f", functions()) == "UNSET"


def test_must_env_accepts_an_empty_value_but_not_a_missing_one() -> None:
    assert render("[{{ must_env `EMPTY` }}]", "f", functions({"EMPTY": ""})) == "[]"
    with pytest.raises(TemplateError) as error:
        render('{\n  "image": "repo:{{ must_env `IMAGE_TAG` }}"\n}', "task.json", functions())
    assert str(error.value) == (
        "task.json:2: environment variable IMAGE_TAG is not defined in {{ must_env `IMAGE_TAG` }}"
    )


def test_json_escape_in_a_pipeline_and_nested_calls() -> None:
    environ = {"V": 'say "hi"\n'}
    assert render("{{ must_env `V` | json_escape }}", "f", functions(environ)) == 'say \\"hi\\"\\n'
    assert render('{{ json_escape (env "V") }}', "f", functions(environ)) == 'say \\"hi\\"\\n'
    assert render("{{ cfn_output `S` `K` }}", "f", functions()) == "S/K"


def test_a_parenthesised_env_call_names_the_stack_like_the_ecspresso_files_do() -> None:
    # Go's text/template evaluates a parenthesised pipeline as one argument; ecspresso's cfn_output
    # is a plain func(stackName, outputKey string) (fujiwara/cfn-lookup cfn/funcs.go).
    text = "{{ cfn_output (env `ECS_BG_STACK_NAME` `dev-stack`) `Key` }}"
    assert render(text, "f", functions()) == "dev-stack/Key"
    assert render(text, "f", functions({"ECS_BG_STACK_NAME": "stg-stack"})) == "stg-stack/Key"
    must = "{{ cfn_output (must_env `STACK`) `Key` }}"
    assert render(must, "f", functions({"STACK": "s"})) == "s/Key"
    with pytest.raises(TemplateError, match="environment variable STACK is not defined"):
        render(must, "f", functions())


def test_trim_markers_and_comments_follow_go() -> None:
    assert render("a  {{- `b` -}}  c{{/* note */}}", "f", functions()) == "abc"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("x\n{{ ssm `/a/b` }}", 2, 'function "ssm" is not defined here'),
        ("{{ cfn_output `S` }}", 1, "cfn_output takes 2 argument(s), got 1"),
        ("{{ .Values.x }}", 1, "unsupported '.Values.x'"),
        ("a\nb\n{{ env `X` ", 3, "unterminated action"),
        ("{{ json_escape (env `X` }}", 1, "unclosed ("),
        ("{{ cfn_output env `S` `d` `K` }}", 1, "env as an argument takes no arguments; write (env ...)"),
        ("{{ cfn_output (env `S` `d`) }}", 1, "cfn_output takes 2 argument(s), got 1"),
    ],
)
def test_errors_name_file_line_and_expression(text: str, line: int, reason: str) -> None:
    with pytest.raises(TemplateError) as error:
        render(text, "defs/service.json", functions())
    assert error.value.file == "defs/service.json"
    assert error.value.line == line
    assert reason in error.value.reason
    assert error.value.expression.startswith("{{")


def test_an_unclosed_string_is_an_error_not_skipped() -> None:
    with pytest.raises(TemplateError, match="unsupported '`'"):
        render("{{ env `X }}", "f", functions())
