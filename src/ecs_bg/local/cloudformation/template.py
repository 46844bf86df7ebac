"""A user's synthesized stacks, resolved against local values: what the local world is built from.

``read_templates`` finds the stacks (a CDK cloud assembly, a folder of templates or one template, see
``assembly``) and returns an ``Assembly``: its ``Stack``s answer ``Ref``, ``Fn::GetAtt``, conditions,
outputs and exports the way CloudFormation would once the stack is deployed in ``region`` and
``account``, with the physical names and ARNs ``names`` and ``resource_types`` make. Nothing is
resolved before it is asked for, so a property nobody reads (a layer from a public SSM parameter, a
VPC configuration) never has to resolve; ``extract.extract`` asks for what a blue/green service meets.

Sources, in the AWS CloudFormation User Guide (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/):
"Template anatomy" (template-anatomy.html: Parameters, Mappings, Conditions, Resources, Outputs),
"Pseudo parameters reference" (pseudo-parameter-reference.html), "Parameters"
(parameters-section-structure.html: a ``CommaDelimitedList`` or ``List<...>`` parameter is a list;
``AWS::SSM::Parameter::Value<...>`` reads a Parameter Store value) and "Outputs"
(outputs-section-structure.html: an output is exported
only when it declares ``Export.Name``; "Get exported outputs from a deployed CloudFormation stack",
using-cfn-stack-exports.html: export names are unique in a region and a stack cannot import its own).
The ``Rules`` section (the CDK's bootstrap version check) is not evaluated: it holds no value.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ecs_bg.local.cloudformation.assembly import TemplateSource, find_templates
from ecs_bg.local.cloudformation.errors import FieldPath, TemplateError
from ecs_bg.local.cloudformation.intrinsics import NO_VALUE, Resolver, text
from ecs_bg.local.cloudformation.names import (
    ACCOUNT,
    DEFAULT_REGION,
    Environment,
    generated_name,
    hex_id,
    local_uuid,
)
from ecs_bg.local.cloudformation.resource_types import ELB_ARN, TYPES, ResourceType, unknowable

PSEUDO_PARAMETERS = (
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
)
SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
SECTIONS = ("Parameters", "Mappings", "Conditions", "Resources", "Outputs")
# A value given for a resource's Ref or attribute instead of the one ecs-bg would make: by logical id,
# or by resource type for every resource of it; "Ref" or the attribute's name inside.
Overrides = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Output:
    key: str
    value: str
    description: str | None = None
    export_name: str | None = None


def read_templates(
    path: Path,
    *,
    region: str | None = None,
    account: str | None = None,
    stack_name: str | None = None,
    parameters: Mapping[str, str] | None = None,
    ssm_parameters: Mapping[str, str] | None = None,
    imports: Mapping[str, str] | None = None,
    overrides: Overrides | None = None,
) -> Assembly:
    """The stacks at ``path`` (a ``cdk.out`` folder, a folder of templates or one template file).

    ``region``/``account``: where they are deployed; by default the manifest's environment of each
    stack when it names one, else us-east-1 and 123456789012. ``parameters``: values of template
    parameters (as ``--parameter-overrides``; a parameter not given takes its ``Default``).
    ``ssm_parameters``: Parameter Store values, by parameter name, for ``AWS::SSM::Parameter::Value``
    parameters. ``imports``: exports of stacks outside the assembly, for ``Fn::ImportValue``.
    ``overrides``: values to answer for a resource's ``Ref`` or attributes (e.g. a load balancer's
    ``DNSName``) instead of the made-up ones.
    """
    return Assembly(
        find_templates(path, stack_name),
        region=region,
        account=account,
        parameters=parameters or {},
        ssm_parameters=ssm_parameters or {},
        imports=imports or {},
        overrides=overrides or {},
    )


class Assembly:
    """The stacks of one cloud assembly: ``Fn::ImportValue`` reads their exports."""

    def __init__(
        self,
        sources: tuple[TemplateSource, ...],
        *,
        region: str | None = None,
        account: str | None = None,
        parameters: Mapping[str, str] = MappingProxyType({}),
        ssm_parameters: Mapping[str, str] = MappingProxyType({}),
        imports: Mapping[str, str] = MappingProxyType({}),
        overrides: Overrides = MappingProxyType({}),
    ) -> None:
        self.imports = imports
        self.stacks = tuple(
            Stack(
                source,
                Environment(
                    region or source.region or DEFAULT_REGION,
                    account or source.account or ACCOUNT,
                ),
                assembly=self,
                parameters=parameters,
                ssm_parameters=ssm_parameters,
                overrides=overrides,
            )
            for source in sources
        )
        self._exporters: dict[str, tuple[Stack, str]] | None = None
        self._indexing = False

    def stack(self, name: str) -> Stack:
        for stack in self.stacks:
            if stack.name == name:
                return stack
        raise KeyError(f"no stack named {name} (stacks: {', '.join(s.name for s in self.stacks)})")

    @property
    def exports(self) -> Mapping[str, str]:
        """Every export of every stack, by export name, with its value."""
        return {name: stack.output(key).value for name, (stack, key) in self._export_index().items()}

    def _export_index(self) -> dict[str, tuple[Stack, str]]:
        if self._exporters is None:
            if self._indexing:
                raise TemplateError(
                    self.stacks[0].file,
                    (),
                    "an export's name imports another export: CloudFormation cannot order that",
                )
            self._indexing = True
            try:
                index: dict[str, tuple[Stack, str]] = {}
                for stack in self.stacks:
                    for key in stack.output_keys:
                        name = stack.export_name(key)
                        if name is None:
                            continue
                        if name in index:
                            other, other_key = index[name]
                            raise TemplateError(
                                stack.file,
                                ("Outputs", key, "Export", "Name"),
                                f"exports {name}, which {other.file} (Outputs.{other_key}) exports too: "
                                "export names are unique in a region",
                            )
                        index[name] = (stack, key)
                self._exporters = index
            finally:
                self._indexing = False
        return self._exporters

    def import_value(self, name: str, importer: Stack, at: FieldPath) -> str:
        exporter = self._export_index().get(name)
        if exporter is None:
            if name in self.imports:
                return self.imports[name]
            known = sorted(self._export_index()) + sorted(self.imports)
            raise TemplateError(
                importer.file,
                at,
                f"Fn::ImportValue {name}: no stack here exports it (exports: {', '.join(known) or 'none'})",
            )
        stack, key = exporter
        if stack is importer:
            raise TemplateError(
                importer.file, at, f"Fn::ImportValue {name}: a stack cannot import its own export"
            )
        try:
            return stack.output(key).value
        except TemplateError as error:
            error.needed(importer.file, at)
            raise


class Stack:
    """One template, as deployed under its stack name: the ``Scope`` its values resolve in."""

    def __init__(
        self,
        source: TemplateSource,
        env: Environment,
        *,
        assembly: Assembly | None = None,
        parameters: Mapping[str, str] = MappingProxyType({}),
        ssm_parameters: Mapping[str, str] = MappingProxyType({}),
        overrides: Overrides = MappingProxyType({}),
    ) -> None:
        self.source = source
        self.file = source.file
        self.name = source.stack_name
        self.env = env
        self.region = env.region
        self.assembly = assembly
        self.given_parameters = parameters
        self.ssm_parameters = ssm_parameters
        self.overrides = overrides
        body = source.body
        self._check_sections(body)
        self.mappings: Mapping[str, Any] = body.get("Mappings", {})
        self.parameter_declarations: Mapping[str, Any] = body.get("Parameters", {})
        self.condition_declarations: Mapping[str, Any] = body.get("Conditions", {})
        self.output_declarations: Mapping[str, Any] = body.get("Outputs", {})
        self.resources = {
            logical_id: Resource(self, logical_id, declaration)
            for logical_id, declaration in body["Resources"].items()
        }
        self.resolver = Resolver(self)
        self._parameters: dict[str, Any] = {}
        self._conditions: dict[str, bool] = {}
        self._outputs: dict[str, Output] = {}
        self._active: list[str] = []  # what is being resolved, innermost last: a circular reference shows

    @property
    def id(self) -> str:
        """``AWS::StackId``: arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>."""
        return self.env.arn("cloudformation", f"stack/{self.name}/{local_uuid(self.name, 'stack')}")

    def _check_sections(self, body: Mapping[str, Any]) -> None:
        transform = body.get("Transform")
        transforms = transform if isinstance(transform, list) else [] if transform is None else [transform]
        for index, name in enumerate(transforms):
            if name != LANGUAGE_EXTENSIONS:
                raise TemplateError(
                    self.file,
                    ("Transform", index) if isinstance(transform, list) else ("Transform",),
                    f"{name} is a macro ecs-bg cannot expand: give the processed template instead (aws "
                    "cloudformation get-template --template-stage Processed, or sam build's output)",
                )
        if not isinstance(body.get("Resources"), dict) or not body["Resources"]:
            raise TemplateError(
                self.file, ("Resources",), "is missing: a template declares at least one resource"
            )
        for section in SECTIONS:
            declarations = body.get(section, {})
            if not isinstance(declarations, dict):
                raise TemplateError(self.file, (section,), "must be an object")
            for key, declaration in declarations.items():
                if key.startswith("Fn::ForEach::"):
                    raise TemplateError(
                        self.file, (section, key), "Fn::ForEach (AWS::LanguageExtensions) is not supported"
                    )
                if section != "Mappings" and section != "Conditions" and not isinstance(declaration, dict):
                    raise TemplateError(self.file, (section, key), "must be an object")
        for logical_id, declaration in body["Resources"].items():
            if not isinstance(declaration.get("Type"), str):
                raise TemplateError(self.file, ("Resources", logical_id, "Type"), "is missing")

    def error(self, at: FieldPath, reason: str) -> TemplateError:
        return TemplateError(self.file, at, reason)

    @contextmanager
    def resolving(self, what: str, at: FieldPath) -> Iterator[None]:
        """Marks ``what`` as being resolved; meeting it again inside is a circular reference."""
        if what in self._active:
            cycle = " -> ".join([*self._active[self._active.index(what) :], what])
            raise self.error(at, f"circular reference: {cycle}")
        self._active.append(what)
        try:
            yield
        finally:
            self._active.pop()

    def resolve(self, value: Any, at: FieldPath) -> Any:
        return self.resolver.resolve(value, at)

    # The Scope: what each name in the template means.

    def ref(self, name: str, at: FieldPath) -> Any:
        if name.startswith("AWS::"):
            return self._pseudo_parameter(name, at)
        if name in self.parameter_declarations:
            return self.parameter(name, at)
        resource = self.resources.get(name)
        if resource is None:
            known = [*self.parameter_declarations, *self.resources]
            raise self.error(at, f"Ref {name}: no parameter or resource has that name{_known(name, known)}")
        return resource.value("Ref", at)

    def get_att(self, logical_id: str, attribute: str, at: FieldPath) -> Any:
        resource = self.resources.get(logical_id)
        if resource is None:
            raise self.error(
                at,
                f"Fn::GetAtt {logical_id}.{attribute}: no resource has that name"
                + _known(logical_id, self.resources),
            )
        return resource.value(attribute, at)

    def condition(self, name: str, at: FieldPath) -> bool:
        if name not in self._conditions:
            if name not in self.condition_declarations:
                raise self.error(at, f"no condition named {name}{_known(name, self.condition_declarations)}")
            try:
                with self.resolving(f"Conditions.{name}", at):
                    self._conditions[name] = self.resolver.condition(
                        self.condition_declarations[name], ("Conditions", name)
                    )
            except TemplateError as error:
                error.needed(self.file, at)
                raise
        return self._conditions[name]

    def import_value(self, name: str, at: FieldPath) -> Any:
        if self.assembly is None:
            raise self.error(at, f"Fn::ImportValue {name}: this stack is not part of an assembly")
        return self.assembly.import_value(name, self, at)

    def _pseudo_parameter(self, name: str, at: FieldPath) -> Any:
        values = {
            "AWS::AccountId": self.env.account,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
            "AWS::Partition": self.env.partition,
            "AWS::Region": self.env.region,
            "AWS::StackId": self.id,
            "AWS::StackName": self.name,
            "AWS::URLSuffix": self.env.url_suffix,
        }
        if name not in values:
            raise self.error(at, f"Ref {name}: no such pseudo parameter ({', '.join(PSEUDO_PARAMETERS)})")
        return values[name]

    def parameter(self, name: str, at: FieldPath) -> Any:
        if name not in self._parameters:
            try:
                self._parameters[name] = self._parameter_value(name)
            except TemplateError as error:
                error.needed(self.file, at)
                raise
        return self._parameters[name]

    def _parameter_value(self, name: str) -> Any:
        declaration = self.parameter_declarations[name]
        path: FieldPath = ("Parameters", name)
        kind = declaration.get("Type")
        if not isinstance(kind, str):
            raise self.error((*path, "Type"), "is missing")
        if name in self.given_parameters:
            value = text(self.given_parameters[name], self.file, path, "the value given")
        elif "Default" in declaration:
            default = declaration["Default"]
            value = (
                ",".join(map(str, default)) if isinstance(default, list) else text(default, self.file, path)
            )
        else:
            raise self.error(path, "has no Default and no value was given for it")
        if kind.startswith(SSM_PARAMETER_TYPE):
            if value not in self.ssm_parameters:
                raise self.error(
                    path,
                    f"is read from the SSM parameter {value}, which has no local value: give one "
                    "(ssm_parameters)",
                )
            value, kind = self.ssm_parameters[value], kind[len(SSM_PARAMETER_TYPE) : -1]
        is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
        # "each member string is space trimmed" (Parameters, CommaDelimitedList)
        items = [item.strip() for item in value.split(",")] if is_list else [value]
        allowed = declaration.get("AllowedValues")
        for item in items:
            if isinstance(allowed, list) and item not in map(str, allowed):
                raise self.error(path, f"value {item!r} is not one of its AllowedValues {allowed}")
            if kind in ("Number", "List<Number>"):
                try:
                    float(item)
                except ValueError:
                    raise self.error(path, f"value {item!r} is not a number") from None
        return items if is_list else value

    # Outputs and exports.

    @property
    def output_keys(self) -> list[str]:
        """The outputs the stack has: those whose condition, if any, is true."""
        keys = []
        for key, declaration in self.output_declarations.items():
            condition = declaration.get("Condition")
            if condition is None or self.condition(condition, ("Outputs", key, "Condition")):
                keys.append(key)
        return keys

    @property
    def outputs(self) -> Mapping[str, Output]:
        """Every output, resolved: what DescribeStacks answers."""
        return {key: self.output(key) for key in self.output_keys}

    @property
    def exports(self) -> Mapping[str, str]:
        return {output.export_name: output.value for output in self.outputs.values() if output.export_name}

    def output(self, key: str) -> Output:
        if key not in self._outputs:
            declaration = self.output_declarations.get(key)
            if declaration is None:
                raise KeyError(f"the stack {self.name} has no output {key}")
            path: FieldPath = ("Outputs", key)
            if "Value" not in declaration:
                raise self.error((*path, "Value"), "is missing")
            with self.resolving(f"Outputs.{key}", path):
                value = self.resolve(declaration["Value"], (*path, "Value"))
                description = declaration.get("Description")
                self._outputs[key] = Output(
                    key,
                    text(value, self.file, (*path, "Value"), "an output's value"),
                    None
                    if description is None
                    else text(self.resolve(description, (*path, "Description")), self.file, path),
                    self.export_name(key),
                )
        return self._outputs[key]

    def export_name(self, key: str) -> str | None:
        export = self.output_declarations[key].get("Export")
        if export is None:
            return None
        path: FieldPath = ("Outputs", key, "Export")
        if not isinstance(export, dict) or "Name" not in export:
            raise self.error(path, "must be {Name: ...}")
        return text(
            self.resolve(export["Name"], (*path, "Name")), self.file, (*path, "Name"), "an export name"
        )

    # What one resource type needs of the others.

    def created(self, resource_type: str) -> list[Resource]:
        """The resources of ``resource_type`` the stack creates (their condition, if any, true)."""
        return [r for r in self.resources.values() if r.type == resource_type and r.created]

    def load_balancers_forwarding_to(self, target_group_arn: str) -> list[str]:
        """A target group's ``LoadBalancerArns``: the load balancers whose listeners or rules forward
        to it."""
        found = set()
        for kind, actions_key in (("Listener", "DefaultActions"), ("ListenerRule", "Actions")):
            for resource in self.created(f"AWS::ElasticLoadBalancingV2::{kind}"):
                if target_group_arn in forward_targets(resource.prop(actions_key) or []):
                    match = ELB_ARN.fullmatch(str(resource.value("Ref", resource.path)))
                    if match is not None:
                        found.add(f"{match['head']}loadbalancer/{'/'.join(match['path'].split('/')[:3])}")
        return sorted(found)


def forward_targets(actions: list[Any]) -> set[str]:
    """The target group ARNs resolved listener actions forward to."""
    arns = set()
    for action in actions:
        if isinstance(action, dict):
            if isinstance(action.get("TargetGroupArn"), str):
                arns.add(action["TargetGroupArn"])
            for group in (action.get("ForwardConfig") or {}).get("TargetGroups", []):
                if isinstance(group, dict) and isinstance(group.get("TargetGroupArn"), str):
                    arns.add(group["TargetGroupArn"])
    return arns


class Resource:
    """One resource of a stack as deployed: its physical name, ``Ref`` and attributes."""

    def __init__(self, stack: Stack, logical_id: str, declaration: Mapping[str, Any]) -> None:
        self.stack = stack
        self.logical_id = logical_id
        self.declaration = declaration
        self.type: str = declaration["Type"]
        self.kind: ResourceType | None = TYPES.get(self.type)
        self.stack_name = stack.name
        self.env = stack.env
        self.path: FieldPath = ("Resources", logical_id)
        self._properties: dict[str, Any] = {}
        self._values: dict[str, Any] = {}
        self._name: str | None = None

    @property
    def created(self) -> bool:
        condition = self.declaration.get("Condition")
        return condition is None or self.stack.condition(condition, (*self.path, "Condition"))

    @property
    def metadata(self) -> Mapping[str, Any]:
        metadata = self.declaration.get("Metadata", {})
        return metadata if isinstance(metadata, dict) else {}

    @property
    def raw_properties(self) -> Mapping[str, Any]:
        properties = self.declaration.get("Properties", {})
        if not isinstance(properties, dict):
            raise self.stack.error((*self.path, "Properties"), "must be an object")
        return properties

    def prop(self, key: str) -> Any:
        """The property ``key``, resolved; None when the template leaves it out (or AWS::NoValue)."""
        if key not in self._properties:
            raw = self.raw_properties.get(key)
            value = None
            if raw is not None:
                at = (*self.path, "Properties", key)
                with self.stack.resolving(f"{self.logical_id}.Properties.{key}", at):
                    value = self.stack.resolve(raw, at)
            self._properties[key] = None if value is NO_VALUE else value
        return self._properties[key]

    def text_prop(self, key: str) -> str | None:
        value = self.prop(key)
        return None if value is None else text(value, self.stack.file, (*self.path, "Properties", key))

    @property
    def name(self) -> str:
        """The physical name: the template's name property, else one made as CloudFormation makes them."""
        if self._name is None:
            kind = self.kind
            given = None if kind is None or kind.name_property is None else self.text_prop(kind.name_property)
            self._name = given or generated_name(
                self.stack_name,
                self.logical_id,
                kind.name_limit if kind else 255,
                lowercase=kind.lowercase if kind else False,
            )
        return self._name

    def hex(self, length: int, salt: str = "") -> str:
        return hex_id(length, self.stack_name, self.logical_id, salt)

    def error(self, key: str, reason: str) -> TemplateError:
        return self.stack.error((*self.path, "Properties", key), reason)

    def forwarding_load_balancers(self) -> list[str]:
        return self.stack.load_balancers_forwarding_to(str(self.value("Ref", self.path)))

    def value(self, attribute: str, at: FieldPath) -> Any:
        """``Ref`` (``attribute`` "Ref") or ``Fn::GetAtt`` of this resource, asked for at ``at``."""
        what = "Ref" if attribute == "Ref" else f"Fn::GetAtt {self.logical_id}.{attribute}"
        if not self.created:
            raise self.stack.error(
                at,
                f"{what}: {self.logical_id} is not created (its condition "
                f"{self.declaration['Condition']} is false)",
            )
        for key in (self.logical_id, self.type):
            if attribute in self.stack.overrides.get(key, {}):
                return self.stack.overrides[key][attribute]
        if attribute not in self._values:
            self._values[attribute] = self._compute(attribute, what, at)
        return self._values[attribute]

    def _compute(self, attribute: str, what: str, at: FieldPath) -> Any:
        why = unknowable(self.type)
        if why is not None:
            raise self.stack.error(at, f"{what}: {self.logical_id} is a {self.type}: {why}")
        if self.kind is None:
            raise self.stack.error(
                at,
                f"{what}: ecs-bg does not know what CloudFormation returns for a {self.type} "
                "(give it with overrides)",
            )
        compute: Callable[[Resource], Any] | None = (
            self.kind.ref if attribute == "Ref" else self.kind.attributes.get(attribute)
        )
        if compute is None:
            raise self.stack.error(
                at,
                f"{what}: a {self.type} has no attribute {attribute} (it has "
                f"{', '.join(sorted(self.kind.attributes)) or 'none'})",
            )
        try:
            with self.stack.resolving(f"{self.logical_id}.{attribute}", at):
                return compute(self)
        except TemplateError as error:
            error.needed(self.stack.file, at)
            raise


def _known(name: str, known: Iterable[str]) -> str:
    """ " (did you mean X?)" when a known name is close to ``name``."""
    close = difflib.get_close_matches(name, list(known), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""
