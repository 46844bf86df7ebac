"""CloudWatch metric math, for the expressions alarms are defined with: a parser and an evaluator over
one period's datapoints (each metric's value, or None when CloudWatch has no datapoint).

What is supported is what alarms on load-balancer metrics write ("Using metric math", CloudWatch user
guide, https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html):
numbers, the ids of other queries, ``+ - * /`` and unary minus with the usual precedence, parentheses,
arrays ``[a, b]``, ``FILL(m, value)``, ``MAX``, ``MIN``, ``SUM``, ``AVG`` of an array (point by point,
over the series that have a value), ``ABS``, ``CEIL``, ``FLOOR``, ``IF(condition, a, b)`` with
comparisons. Arithmetic with a missing operand is missing, as CloudWatch's is (which is why alarms FILL
counts that are published only when nonzero). Anything else is a ``MathError`` naming it: the alarm is
then reported as not evaluated, never judged by a guess.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Value = float | None  # one period's datapoint: None when there is none
Result = Value | list[Value]


class MathError(ValueError):
    """An expression this evaluator cannot parse or does not support."""


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Ref:
    id: str


@dataclass(frozen=True)
class Array:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Negative:
    operand: Node


Node = Number | Ref | Array | Call | Binary | Negative

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op><=|>=|==|!=|[-+*/(),\[\]<>]))"
)
_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a / b if b else math.nan,
    "<": lambda a, b: float(a < b),
    ">": lambda a, b: float(a > b),
    "<=": lambda a, b: float(a <= b),
    ">=": lambda a, b: float(a >= b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
}
_LEVELS = (("<", ">", "<=", ">=", "==", "!="), ("+", "-"), ("*", "/"))
_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "MAX": max,
    "MIN": min,
    "SUM": sum,
    "AVG": lambda values: sum(values) / len(values),
}
_ROUNDING: dict[str, Callable[[float], float]] = {"ABS": abs, "CEIL": math.ceil, "FLOOR": math.floor}


def parse(expression: str) -> Node:
    tokens: list[str] = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MathError(f"cannot read {text[position:]!r} in {expression!r}")
        tokens.append(match.group(match.lastgroup or ""))
        position = match.end()
    parser = _Parser(tokens, expression)
    node = parser.expression(0)
    if parser.position != len(tokens):
        raise MathError(f"unexpected {tokens[parser.position]!r} in {expression!r}")
    return node


def references(node: Node) -> set[str]:
    """The query ids an expression reads."""
    if isinstance(node, Ref):
        return {node.id}
    if isinstance(node, Array | Call):
        children = node.items if isinstance(node, Array) else node.args
        return set().union(*(references(child) for child in children))
    if isinstance(node, Binary):
        return references(node.left) | references(node.right)
    if isinstance(node, Negative):
        return references(node.operand)
    return set()


def evaluate(node: Node, values: Mapping[str, Result]) -> Result:
    """The expression's datapoint for one period, given each id's (a metric's or an expression's)."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Ref):
        if node.id not in values:
            raise MathError(f"{node.id} is not the id of another query of this alarm")
        return values[node.id]
    if isinstance(node, Array):
        return [_scalar(evaluate(item, values)) for item in node.items]
    if isinstance(node, Negative):
        return _map(evaluate(node.operand, values), lambda value: -value)
    if isinstance(node, Binary):
        left, right = _scalar(evaluate(node.left, values)), _scalar(evaluate(node.right, values))
        if left is None or right is None:
            return None
        return _BINARY[node.op](left, right)
    return _call(node, values)


def _call(node: Call, values: Mapping[str, Result]) -> Result:
    name, args = node.function, [evaluate(arg, values) for arg in node.args]
    if name == "FILL":
        if len(args) != 2 or not isinstance(args[1], float | int):
            raise MathError("FILL takes a metric and a number (REPEAT and LINEAR are not supported here)")
        fill = float(args[1])
        return _map(args[0], lambda value: value, missing=fill)
    if name in _AGGREGATES:
        if len(args) != 1:
            raise MathError(f"{name} takes one array")
        series = args[0] if isinstance(args[0], list) else [args[0]]
        present = [value for value in series if value is not None]
        return _AGGREGATES[name](present) if present else None
    if name in _ROUNDING:
        if len(args) != 1:
            raise MathError(f"{name} takes one argument")
        return _map(args[0], _ROUNDING[name])
    if name == "IF":
        if len(args) != 3:
            raise MathError("IF takes a condition and two values")
        condition = _scalar(args[0])
        if condition is None:
            return None
        return args[1] if condition else args[2]
    raise MathError(f"the function {name} is not supported by the local CloudWatch")


def _scalar(result: Result) -> Value:
    if isinstance(result, list):
        raise MathError("an array where a single time series is wanted")
    return result


def _map(result: Result, function: Callable[[float], float], missing: Value = None) -> Result:
    if isinstance(result, list):
        return [function(value) if value is not None else missing for value in result]
    return function(result) if result is not None else missing


class _Parser:
    def __init__(self, tokens: list[str], expression: str) -> None:
        self.tokens, self.position, self.text = tokens, 0, expression

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, wanted: str | None = None) -> str:
        token = self.peek()
        if token is None or (wanted is not None and token != wanted):
            raise MathError(f"expected {wanted or 'more'} in {self.text!r}")
        self.position += 1
        return token

    def expression(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self.unary()
        node = self.expression(level + 1)
        while self.peek() in _LEVELS[level]:
            op = self.take()
            node = Binary(op, node, self.expression(level + 1))
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Negative(self.unary())
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token == "(":  # noqa: S105 - a parenthesis, not a password
            node = self.expression(0)
            self.take(")")
            return node
        if token == "[":  # noqa: S105
            items = self.items("]")
            return Array(tuple(items))
        if token[0].isdigit():
            return Number(float(token))
        if token[0].isalpha() or token[0] == "_":
            if self.peek() == "(":
                self.take("(")
                return Call(token.upper(), tuple(self.items(")")))
            return Ref(token)
        raise MathError(f"unexpected {token!r} in {self.text!r}")

    def items(self, closing: str) -> list[Node]:
        items: list[Node] = []
        if self.peek() == closing:
            self.take(closing)
            return items
        while True:
            items.append(self.expression(0))
            if self.take() == closing:
                return items
            if self.tokens[self.position - 1] != ",":
                raise MathError(f"expected , or {closing} in {self.text!r}")
