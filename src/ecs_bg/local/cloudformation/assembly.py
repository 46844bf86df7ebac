"""Finding a user's templates: a CDK cloud assembly (``cdk.out/``), or one template file.

A cloud assembly is what ``cdk synth`` writes. Its ``manifest.json`` lists artifacts; each of type
``aws:cloudformation:stack`` is a stack, with ``properties.templateFile`` (relative to the assembly),
``properties.stackName`` (absent when it is the artifact's id) and ``environment``
(``aws://<account>/<region>``, ``unknown-account``/``unknown-region`` for an environment-agnostic
stack). A stack's ``dependencies`` name its asset manifest (type ``cdk:asset-manifest``,
``properties.file``), whose ``files`` give each file asset's ``source.path`` (relative to the
assembly) and the ``objectKey`` it is published under; a Lambda function's ``Code.S3Key`` is that key.
A ``cdk:cloud-assembly`` artifact (a CDK Stage) is a nested assembly in ``properties.directoryName``.
Sources: the cloud assembly schema (aws-cdk-lib's ``cloud-assembly-schema``:
``schema/cloud-assembly.schema.json`` and ``assets.schema.json``), as aws-cdk-lib 2.x writes it.

Without a manifest, a folder's ``*.template.json`` files are its stacks (named after their files, with a
``<stack>.assets.json`` beside one as its assets); nested stacks' ``*.nested.template.json`` are not
stacks of their own. A single file may be JSON or YAML (``yaml_template``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ecs_bg.local.cloudformation.errors import FieldPath, TemplateError
from ecs_bg.local.cloudformation.yaml_template import load_yaml

MANIFEST = "manifest.json"
STACK_ARTIFACT = "aws:cloudformation:stack"
ASSET_MANIFEST_ARTIFACT = "cdk:asset-manifest"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
TEMPLATE_SUFFIX = ".template.json"
NESTED_TEMPLATE_SUFFIX = ".nested.template.json"
# CreateStack's StackName: "must start with an alphabetical character" and contain only alphanumerics
# and hyphens, at most 128 characters (AWS CloudFormation API Reference, CreateStack).
STACK_NAME = re.compile(r"[A-Za-z][-A-Za-z0-9]{0,127}")
_ENVIRONMENT = re.compile(r"aws://(?P<account>[^/]+)/(?P<region>[^/]+)")


@dataclass(frozen=True)
class Asset:
    """A file asset of the assembly: a folder (``packaging`` zip, what Lambda code assets are) or a file."""

    path: Path
    packaging: str


@dataclass(frozen=True)
class TemplateSource:
    """One stack's template, as found, with what its folder says about it."""

    file: Path
    stack_name: str
    body: Mapping[str, Any]
    # The cloud assembly folder: asset paths (and ``aws:asset:path`` metadata) are relative to it. For a
    # lone template file, the file's folder.
    base_dir: Path
    assets: Mapping[str, Asset] = field(default_factory=dict)  # by the S3 object key they publish to
    account: str | None = None  # the manifest's environment, when it names one
    region: str | None = None


def find_templates(path: Path, stack_name: str | None = None) -> tuple[TemplateSource, ...]:
    """The stacks at ``path``: a cloud assembly folder, a folder of templates, or a template file.

    ``stack_name`` names a lone template's stack (default: the file's name without its extension) and,
    for an assembly, picks that one stack of it.
    """
    if not path.exists():
        raise TemplateError(path, (), "does not exist: give a cloud assembly folder (cdk.out) or a template")
    if path.is_file():
        name = stack_name or _stack_name_of(path)
        return (TemplateSource(path, _checked_name(name, path), read_template(path), path.parent),)
    sources = _assembly(path) if (path / MANIFEST).is_file() else _template_folder(path)
    names = [source.stack_name for source in sources]
    for name in names:
        if names.count(name) > 1:
            files = ", ".join(str(s.file) for s in sources if s.stack_name == name)
            raise TemplateError(path, (), f"holds two stacks named {name}: {files}")
    if stack_name is None:
        return sources
    chosen = tuple(source for source in sources if source.stack_name == stack_name)
    if not chosen:
        raise TemplateError(path, (), f"has no stack named {stack_name} (its stacks: {', '.join(names)})")
    return chosen


def read_template(file: Path) -> dict[str, Any]:
    """A template file's document: JSON, or YAML with CloudFormation's short forms."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateError(file, (), f"cannot be read: {error}") from error
    body = _json(text, file) if text.lstrip().startswith("{") else load_yaml(text, file)
    if not isinstance(body, dict):
        raise TemplateError(file, (), "is not a CloudFormation template (a JSON or YAML object)")
    return body


def _json(text: str, file: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise TemplateError(
            file, (), f"is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from error


def _read_json(file: Path) -> dict[str, Any]:
    try:
        body = _json(file.read_text(encoding="utf-8"), file)
    except OSError as error:
        raise TemplateError(file, (), f"cannot be read: {error}") from error
    if not isinstance(body, dict):
        raise TemplateError(file, (), "is not a JSON object")
    return body


def _stack_name_of(file: Path) -> str:
    name = file.name
    for suffix in (TEMPLATE_SUFFIX, ".template.yaml", ".template.yml", ".template", ".json", ".yaml", ".yml"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return file.stem


def _checked_name(name: str, file: Path, path: FieldPath = ()) -> str:
    if not STACK_NAME.fullmatch(name):
        raise TemplateError(
            file,
            path,
            f"stack name {name!r} is not one CloudFormation accepts (a letter, then letters, digits and "
            "hyphens, at most 128): name the stack",
        )
    return name


def _field(document: Mapping[str, Any], key: str, kind: type, file: Path, path: FieldPath) -> Any:
    value = document.get(key)
    if not isinstance(value, kind):
        what = "is missing" if value is None else f"must be {'a string' if kind is str else 'an object'}"
        raise TemplateError(file, (*path, key), what)
    return value


def _assembly(folder: Path) -> tuple[TemplateSource, ...]:
    manifest_file = folder / MANIFEST
    manifest = _read_json(manifest_file)
    artifacts = _field(manifest, "artifacts", dict, manifest_file, ())
    sources: list[TemplateSource] = []
    for artifact_id, artifact in artifacts.items():
        at: FieldPath = ("artifacts", artifact_id)
        if not isinstance(artifact, dict):
            raise TemplateError(manifest_file, at, "must be an object")
        kind = artifact.get("type")
        if kind == NESTED_ASSEMBLY_ARTIFACT:
            properties = _field(artifact, "properties", dict, manifest_file, at)
            directory = _field(properties, "directoryName", str, manifest_file, (*at, "properties"))
            sources += _assembly(folder / directory)
        elif kind == STACK_ARTIFACT:
            sources.append(_stack_artifact(folder, manifest_file, artifacts, artifact_id, artifact))
    if not sources:
        raise TemplateError(manifest_file, ("artifacts",), f"has no artifact of type {STACK_ARTIFACT}")
    return tuple(sources)


def _stack_artifact(
    folder: Path,
    manifest_file: Path,
    artifacts: Mapping[str, Any],
    artifact_id: str,
    artifact: dict[str, Any],
) -> TemplateSource:
    at: FieldPath = ("artifacts", artifact_id)
    properties = _field(artifact, "properties", dict, manifest_file, at)
    template_file = folder / _field(properties, "templateFile", str, manifest_file, (*at, "properties"))
    name = properties.get("stackName", artifact_id)
    _checked_name(name, manifest_file, (*at, "properties", "stackName"))
    assets: dict[str, Asset] = {}
    for dependency in artifact.get("dependencies", []):
        other = artifacts.get(dependency)
        if isinstance(other, dict) and other.get("type") == ASSET_MANIFEST_ARTIFACT:
            dep_at: FieldPath = ("artifacts", dependency, "properties")
            properties_of = _field(other, "properties", dict, manifest_file, dep_at[:-1])
            assets |= read_assets(folder / _field(properties_of, "file", str, manifest_file, dep_at), folder)
    account = region = None
    environment = _ENVIRONMENT.fullmatch(str(artifact.get("environment", "")))
    if environment:
        # "unknown-account"/"unknown-region": an environment-agnostic stack (CDK's Stack env docs).
        account = None if environment["account"].startswith("unknown-") else environment["account"]
        region = None if environment["region"].startswith("unknown-") else environment["region"]
    return TemplateSource(
        template_file, name, read_template(template_file), folder, MappingProxyType(assets), account, region
    )


def read_assets(file: Path, base_dir: Path) -> dict[str, Asset]:
    """An asset manifest's file assets, by the object key each is published under."""
    manifest = _read_json(file)
    assets: dict[str, Asset] = {}
    files = manifest.get("files", {})
    if not isinstance(files, dict):
        raise TemplateError(file, ("files",), "must be an object")
    for asset_id, entry in files.items():
        at: FieldPath = ("files", asset_id)
        source = _field(entry, "source", dict, file, at) if isinstance(entry, dict) else None
        if source is None:
            raise TemplateError(file, at, "must be an object")
        if "path" not in source:
            continue  # built by a command at publish time ("executable"): no local copy to run
        asset = Asset(
            base_dir / _field(source, "path", str, file, (*at, "source")), source.get("packaging", "file")
        )
        destinations = entry.get("destinations", {})
        for destination in destinations.values() if isinstance(destinations, dict) else ():
            if isinstance(destination, dict) and isinstance(destination.get("objectKey"), str):
                assets[destination["objectKey"]] = asset
    return assets


def _template_folder(folder: Path) -> tuple[TemplateSource, ...]:
    files = sorted(
        file for file in folder.glob(f"*{TEMPLATE_SUFFIX}") if not file.name.endswith(NESTED_TEMPLATE_SUFFIX)
    )
    if not files:
        raise TemplateError(
            folder, (), f"has no {MANIFEST} and no *{TEMPLATE_SUFFIX}: give a cloud assembly or a template"
        )
    sources = []
    for file in files:
        name = _checked_name(file.name.removesuffix(TEMPLATE_SUFFIX), file)
        assets_file = folder / f"{name}.assets.json"
        assets = read_assets(assets_file, folder) if assets_file.is_file() else {}
        sources.append(TemplateSource(file, name, read_template(file), folder, MappingProxyType(assets)))
    return tuple(sources)
