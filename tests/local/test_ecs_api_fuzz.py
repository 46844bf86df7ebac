"""Requests generated from botocore's ECS model, each with one defect (a member of the wrong JSON type,
a required member left out, a value out of ECS's range), against the local ECS's API: every one is a
400 with ECS's code, none a 500, and what a client sees of the service does not change."""

from __future__ import annotations

import functools
import json
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_bg.deploy.model import ecs_model
from ecs_bg.local.ecs.backend import OPERATIONS
from tests.examples_budget import examples
from tests.local.test_ecs_api import CLUSTER, SERVICE, Ecs

ECS_CODES = {
    "SerializationException",
    "InvalidParameterException",
    "ClientException",
    "ClusterNotFoundException",
    "ServiceNotFoundException",
    "ServiceNotActiveException",
    "ServiceDeploymentNotFoundException",
    "ConflictException",
}
# Values no JSON member of another type can hold (a document takes anything, so it is never chosen).
WRONG: dict[str, list[Any]] = {
    "string": [1, 2.5, True, [], {}],
    "integer": ["1", "abc", 1.5 and "1.5", True, [], {}],
    "long": ["1", True, [], {}],
    "double": ["1.0", True, [], {}],
    "float": ["1.0", True, [], {}],
    "boolean": ["true", 1, [], {}],
    "timestamp": [True, [], {}],
    "list": ["x", 1, True, {}],
    "map": ["x", 1, True, []],
    "structure": ["x", 1, True, []],
    "blob": [1, True, [], {}],
}
# Values out of the range ECS takes, where botocore's model does not say it (backend.py cites each).
OUT_OF_RANGE = [
    ("RunTask", "count", [0, 11, -3]),
    ("UpdateService", "desiredCount", [-1]),
    ("CreateService", "desiredCount", [-1]),
    ("CreateService", "healthCheckGracePeriodSeconds", [-1, 2_147_483_648]),
    ("ListServices", "maxResults", [0, 101]),
    ("ListTasks", "maxResults", [0, 101]),
    ("ListServiceDeployments", "maxResults", [0, 101]),
    ("ListTaskDefinitions", "maxResults", [0, 101]),
]


def plausible(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value of ``shape``'s JSON type (its required members, and some optional ones, filled in)."""
    if isinstance(shape, StructureShape):
        if shape.metadata.get("document"):
            return st.just({"any": "thing"})
        required = set(shape.required_members)
        members = {
            name: plausible(member, depth + 1)
            for name, member in shape.members.items()
            if name in required or depth < 2
        }
        optional = [name for name in members if name not in required]
        if not optional:
            return st.fixed_dictionaries(members)
        return st.lists(st.sampled_from(optional), unique=True, max_size=3).flatmap(
            lambda chosen: st.fixed_dictionaries(
                {name: members[name] for name in members if name in required or name in chosen}
            )
        )
    if isinstance(shape, ListShape):
        return st.lists(plausible(shape.member, depth + 1), max_size=2)
    if isinstance(shape, MapShape):
        return st.dictionaries(st.sampled_from(["k1", "k2"]), plausible(shape.value, depth + 1), max_size=2)
    simple: dict[str, st.SearchStrategy[Any]] = {
        # Names of what exists (the cluster, the service and its task definition's family, "web"),
        # so that a defect is what is refused, not a resource that is missing.
        "string": st.sampled_from(getattr(shape, "enum", None) or [CLUSTER, SERVICE]),
        "integer": st.integers(1, 5),
        "long": st.integers(1, 5),
        "boolean": st.booleans(),
        "double": st.floats(1, 50),
        "float": st.floats(1, 50),
        "timestamp": st.integers(1_700_000_000, 1_900_000_000),
        "blob": st.just("aGVsbG8="),
    }
    return simple.get(shape.type_name, st.just("x"))


def paths(value: Any, shape: Shape, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Shape]]:
    """Every member present in ``value``, with its shape."""
    found: list[tuple[tuple[Any, ...], Shape]] = []
    if isinstance(shape, StructureShape) and not shape.metadata.get("document") and isinstance(value, dict):
        for name, item in value.items():
            member = shape.members[name]
            found.append(((*path, name), member))
            found += paths(item, member, (*path, name))
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for index, item in enumerate(value):
            found.append(((*path, index), shape.member))
            found += paths(item, shape.member, (*path, index))
    return found


def set_at(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value


@st.composite
def defective(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    operation = draw(st.sampled_from(OPERATIONS))
    shape = ecs_model().operation_model(operation).input_shape
    request: dict[str, Any] = draw(plausible(shape)) if shape is not None else {}
    kinds = ["type"] + (["required"] if shape is not None and shape.required_members else [])
    kinds += ["range"] * 3 if any(op == operation for op, _, _ in OUT_OF_RANGE) else []
    kind = draw(st.sampled_from(kinds))
    if kind == "required":
        del request[draw(st.sampled_from(shape.required_members))]
    elif kind == "range":
        member, values = next((m, v) for op, m, v in OUT_OF_RANGE if op == operation)
        request[member] = draw(st.sampled_from(values))
    else:
        typed = [
            (p, s)
            for p, s in paths(request, shape)
            if s.type_name in WRONG and not s.metadata.get("document")
        ]
        if not typed:  # nothing to mistype: a member of the request itself, then
            request["cluster" if "cluster" in shape.members else next(iter(shape.members))] = {"nested": [1]}
        else:
            where, member = draw(st.sampled_from(typed))
            set_at(request, where, draw(st.sampled_from(WRONG[member.type_name])))
    return operation, request


def test_the_generator_makes_each_kind_of_defect() -> None:
    made = set()

    @settings(max_examples=60, database=None)
    @given(defective())
    def record(case: tuple[str, dict[str, Any]]) -> None:
        made.add(case[0])

    record()
    assert len(made) > 5


@functools.cache
def service() -> Ecs:
    """One local ECS with the service, for every example: none of them may change what it holds."""
    ecs = Ecs()
    arn = ecs.register()
    ecs.call("CreateService", cluster=CLUSTER, serviceName=SERVICE, taskDefinition=arn, desiredCount=2)
    return ecs


@settings(
    max_examples=examples(400), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(case=defective())
def test_no_defective_request_gets_a_500_or_changes_what_a_client_sees(
    case: tuple[str, dict[str, Any]],
) -> None:
    ecs = service()
    before = ecs.state()  # each example's own: one that changed it fails alone, and shrinks true
    operation, request = case
    status, answer = ecs.raw(operation, json.dumps(request).encode())
    assert status == 400, (operation, request, answer)
    assert answer["__type"] in ECS_CODES, answer
    assert answer["message"]
    assert ecs.state() == before
