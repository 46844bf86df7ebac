"""Check rendered definitions against botocore's ECS model: the API inputs ecspresso builds from them.

ecspresso sends the service definition as CreateService input (first deployment) and as
UpdateService input (every later one), and the task definition as RegisterTaskDefinition input.
botocore's own ParamValidator does the checking; it leaves out enum and maximum checks (the API
enforces those server-side), so a small subclass adds them from the same model.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, ClassVar

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape
from botocore.session import get_session
from botocore.validate import ParamValidator

from ecs_bg.deploy.definitions import Definitions
from ecs_bg.deploy.findings import RULES, Finding

# What ecspresso fills in itself: the name and cluster from ecspresso.yml, the task definition
# from the revision it has just registered.
_SET_BY_ECSPRESSO = {
    "serviceName": "ecspresso sets the service name from `service` in ecspresso.yml",
    "cluster": "ecspresso sets the cluster from `cluster` in ecspresso.yml",
    "taskDefinition": "ecspresso sets the task definition to the revision it registers",
}
_PLACEHOLDER_TASK_DEFINITION = "family:1"


@cache
def ecs_model() -> ServiceModel:
    """botocore's ECS model, loaded once per process (a third of a second): lint's and the local ECS's."""
    return get_session().get_service_model("ecs")


def _members(shape: Shape | None) -> set[str]:
    assert isinstance(shape, StructureShape)  # every input and output shape used here is a structure
    return set(shape.members)


def model_findings(definitions: Definitions) -> list[Finding]:
    config = definitions.config
    service = definitions.service
    findings: list[Finding] = []
    create = ecs_model().operation_model("CreateService")
    # Service definitions are written in DescribeServices' output shape; ecspresso reads that and
    # quietly drops what the APIs do not take (ARNs, status, events, ...).
    output_only = _members(ecs_model().shape_for("Service")) - _members(create.input_shape)
    sent: dict[str, Any] = {}
    for key, value in service.items():
        if key in _SET_BY_ECSPRESSO or key in output_only:
            reason = _SET_BY_ECSPRESSO.get(key, "an output-only field of DescribeServices")
            findings.append(RULES["ECS006"].finding(definitions.service_file, f"$.{key}", f"{key}: {reason}"))
        else:
            sent[key] = value
    identity = {"serviceName": config.service, "cluster": config.cluster}
    task_definition = {"taskDefinition": _PLACEHOLDER_TASK_DEFINITION}
    findings += _validate(create, {**sent, **identity, **task_definition}, definitions.service_file)
    update = ecs_model().operation_model("UpdateService")
    updatable = {k: v for k, v in sent.items() if k in _members(update.input_shape)}
    update_input = {**updatable, "service": config.service, "cluster": config.cluster, **task_definition}
    findings += _validate(update, update_input, definitions.service_file)

    register = ecs_model().operation_model("RegisterTaskDefinition")
    task_output_only = _members(ecs_model().shape_for("TaskDefinition")) - _members(register.input_shape)
    task_sent: dict[str, Any] = {}
    for key, value in definitions.task.items():
        if key in task_output_only:
            message = f"{key}: an output-only field of DescribeTaskDefinition"
            findings.append(RULES["ECS006"].finding(definitions.task_file, f"$.{key}", message))
        else:
            task_sent[key] = value
    findings += _validate(register, task_sent, definitions.task_file)
    return list(dict.fromkeys(findings))  # CreateService and UpdateService share most shapes


def _validate(operation: OperationModel, params: Mapping[str, Any], file: str) -> Iterator[Finding]:
    collector = _Collector()
    # botocore's validate() returns a report meant for printing; walking with our own collector
    # keeps each error's kind, location and details as data.
    _ModelValidator()._validate(params, operation.input_shape, collector, "")
    for kind, name, details in collector.errors:
        yield _translate(kind, name, details, file)


class _Collector:
    """Duck-types botocore's ValidationErrors: the validator only ever calls report()."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str, dict[str, Any]]] = []

    def report(self, name: str, reason: str, **details: Any) -> None:
        self.errors.append((reason, name, details))


# botocore's type stubs leave out the per-type methods extended here.
_ParamValidator: Any = ParamValidator


class _ModelValidator(_ParamValidator):  # type: ignore[misc]
    # Without this, lists of scalars are only type-checked and their members' enums never looked at.
    VALIDATED_METADATA_ATTRS: ClassVar[set[str]] = {*ParamValidator.VALIDATED_METADATA_ATTRS, "enum", "max"}

    def _validate_string(self, param: Any, shape: Shape, errors: Any, name: str) -> None:
        super()._validate_string(param, shape, errors, name)
        enum: list[str] = getattr(shape, "enum", [])
        if isinstance(param, str) and enum and param not in enum:
            errors.report(name, "invalid enum", param=param, valid_values=enum)

    def _validate_integer(self, param: Any, shape: Shape, errors: Any, name: str) -> None:
        super()._validate_integer(param, shape, errors, name)
        _check_maximum(param, shape, errors, name)

    def _validate_double(self, param: Any, shape: Shape, errors: Any, name: str) -> None:
        super()._validate_double(param, shape, errors, name)
        _check_maximum(param, shape, errors, name)


def _check_maximum(param: Any, shape: Shape, errors: Any, name: str) -> None:
    maximum = shape.metadata.get("max")
    if isinstance(param, int | float) and maximum is not None and param > maximum:
        errors.report(name, "invalid maximum", param=param, max_allowed=maximum)


def _translate(kind: str, name: str, details: dict[str, Any], file: str) -> Finding:
    path = "$" + name
    if kind == "unknown field":
        field = details["unknown_param"]
        guess = difflib.get_close_matches(field, details["valid_names"], n=1)
        suggestion = f'did you mean "{guess[0]}"? ' if guess else ""
        message = f'unknown field "{field}": {suggestion}valid here: {", ".join(details["valid_names"])}'
        return RULES["ECS001"].finding(file, f"{path}.{field}", message)
    if kind == "missing required field":
        field = details["required_name"]
        return RULES["ECS002"].finding(file, f"{path}.{field}", f'required field "{field}" is missing')
    if kind in ("invalid range", "invalid length"):
        what = "length" if kind == "invalid length" else "value"
        message = f"{what} {details['param']} is below the minimum {details['min_allowed']}"
        return RULES["ECS004"].finding(file, path, message)
    if kind == "invalid maximum":
        message = f"value {details['param']} is above the maximum {details['max_allowed']}"
        return RULES["ECS004"].finding(file, path, message)
    if kind == "invalid enum":
        valid = details["valid_values"]
        guess = difflib.get_close_matches(str(details["param"]).upper(), valid, n=1)
        suggestion = f'did you mean "{guess[0]}"? ' if guess else ""
        message = f'"{details["param"]}" is not allowed: {suggestion}one of {", ".join(valid)}'
        return RULES["ECS005"].finding(file, path, message)
    if kind == "invalid type":
        valid = ", ".join(t.replace("<class '", "").replace("'>", "") for t in details["valid_types"])
        message = f"{details['param']!r} has the wrong type (expected {valid})"
        return RULES["ECS003"].finding(file, path, message)
    return RULES["ECS003"].finding(file, path, f"{kind}: {details}")
