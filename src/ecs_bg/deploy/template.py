"""The part of Go's text/template that ecspresso files use, rendered the way ecspresso renders them.

An action is ``{{ pipeline }}``; a pipeline is commands joined by ``|`` (the value of one command
becomes the last argument of the next); a command is a function name followed by arguments, each a
backquoted raw string, a double-quoted string or a parenthesised pipeline. ``{{-``/``-}}`` trim
whitespace and ``{{/* */}}`` is a comment, as in Go. Anything else (fields, variables, if/range) is
reported instead of guessed at: an error names the file, the line and the expression.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ecs_bg.deploy.errors import DefinitionError


class TemplateError(DefinitionError):
    def __init__(self, file: str, line: int, expression: str, reason: str) -> None:
        super().__init__(f"{file}:{line}: {reason} in {expression}")
        self.file = file
        self.line = line
        self.expression = expression
        self.reason = reason


class LookupFailed(Exception):
    """A template function could not produce its value; the renderer adds where it was called."""


@dataclass(frozen=True)
class TemplateFunction:
    call: Callable[..., str]
    min_args: int
    max_args: int | None  # None: variadic


Functions = Mapping[str, TemplateFunction]


def env_functions(environ: Mapping[str, str]) -> dict[str, TemplateFunction]:
    """go-config's built-ins, which ecspresso offers in every file, ecspresso.yml included."""

    def env(*names_then_default: str) -> str:
        # go-config tries each argument as a variable name and falls back to the last argument
        # itself; a set-but-empty variable counts as unset. So `env "A"` alone yields "A" when A is
        # unset, a quirk kept here so that ecs-bg renders what ecspresso would deploy.
        for name in names_then_default:
            if environ.get(name, ""):
                return environ[name]
        return names_then_default[-1]

    def must_env(name: str) -> str:
        if name not in environ:
            raise LookupFailed(f"environment variable {name} is not defined")
        return environ[name]

    def json_escape(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)[1:-1]

    return {
        "env": TemplateFunction(env, 1, None),
        "must_env": TemplateFunction(must_env, 1, 1),
        "json_escape": TemplateFunction(json_escape, 1, 1),
    }


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<raw>`[^`]*`)
      | (?P<quoted>"(?:[^"\\\n]|\\.)*")
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[|()])
      | (?P<other>[^\s|()`"]+|\S)
    )""",
    re.VERBOSE,
)


class _Syntax(Exception):
    pass


class _Pipeline:
    """A parsed pipeline: commands of (function name or None for a literal, arguments)."""

    def __init__(self, source: str) -> None:
        self._tokens = [(m.lastgroup, m.group(m.lastgroup or "")) for m in _TOKEN.finditer(source)]
        self._tokens = [(kind, text) for kind, text in self._tokens if text]
        self._pos = 0
        self.commands = self._pipeline()
        if self._pos != len(self._tokens):
            raise _Syntax(f"unexpected {self._tokens[self._pos][1]!r}")

    def _peek(self) -> tuple[str | None, str] | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def _pipeline(self) -> list[tuple[str | None, list[object]]]:
        commands = [self._command()]
        while (token := self._peek()) is not None and token[1] == "|":
            self._pos += 1
            commands.append(self._command())
        return commands

    def _command(self) -> tuple[str | None, list[object]]:
        operands: list[object] = []
        while (token := self._peek()) is not None and token[1] not in ("|", ")"):
            kind, text = token
            self._pos += 1
            if kind == "ident" and not operands:
                operands.append(_Name(text))
            elif kind == "raw":
                operands.append(text[1:-1])
            elif kind == "quoted":
                operands.append(json.loads(text))
            elif kind == "ident":
                # Go calls a function named as an argument with no arguments of its own; a call
                # with arguments, as in cfn_output (env `ECS_BG_STACK_NAME` `dev-stack`) `Key`,
                # needs its parentheses.
                raise _Syntax(f"{text} as an argument takes no arguments; write ({text} ...)")
            elif text == "(":
                operands.append(self._pipeline())
                if self._peek() != ("punct", ")"):
                    raise _Syntax("unclosed (")
                self._pos += 1
            else:
                raise _Syntax(f"unsupported {text!r} (ecspresso files here use functions and strings only)")
        if not operands:
            raise _Syntax("empty command")
        head = operands[0]
        if isinstance(head, _Name):
            return head.name, operands[1:]
        if len(operands) > 1:
            raise _Syntax("a string cannot be called")
        return None, operands


@dataclass(frozen=True)
class _Name:
    name: str


def render(text: str, file: str, functions: Functions) -> str:
    """Render one file's text; every failure is a TemplateError at the action's line."""
    out: list[str] = []
    pos = 0
    for match in _ACTION.finditer(text):
        literal = text[pos : match.start()]
        out.append(literal.rstrip() if match.group(1) else literal)
        pos = match.end()
        if match.group(3):
            pos = len(text) - len(text[pos:].lstrip())
        body = match.group(2).strip()
        line = text.count("\n", 0, match.start()) + 1
        if body.startswith("/*") and body.endswith("*/"):
            continue
        try:
            out.append(_evaluate(_Pipeline(body).commands, functions))
        except (_Syntax, LookupFailed) as error:
            raise TemplateError(file, line, match.group(0), str(error)) from None
    rest = text[pos:]
    if "{{" in rest:
        start = pos + rest.index("{{")
        line = text.count("\n", 0, start) + 1
        snippet = text[start:].splitlines()[0]
        raise TemplateError(file, line, snippet, "unterminated action (no closing }})")
    out.append(rest)
    return "".join(out)


def _evaluate(commands: list[tuple[str | None, list[object]]], functions: Functions) -> str:
    value: str | None = None
    for name, operands in commands:
        args = [_evaluate(a, functions) if isinstance(a, list) else str(a) for a in operands]
        if value is not None:
            args.append(value)
        if name is None:
            if len(args) != 1:
                raise _Syntax("a string cannot take a piped value")
            value = args[0]
            continue
        function = functions.get(name)
        if function is None:
            raise _Syntax(f'function "{name}" is not defined here (available: {", ".join(functions)})')
        if len(args) < function.min_args or (function.max_args is not None and len(args) > function.max_args):
            expected = (
                str(function.min_args)
                if function.min_args == function.max_args
                else f"at least {function.min_args}"
            )
            raise _Syntax(f"{name} takes {expected} argument(s), got {len(args)}")
        value = function.call(*args)
    assert value is not None  # a pipeline has at least one command
    return value
