"""ecspresso.yml: itself a template, rendered with env functions only, then read as YAML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.template import env_functions, render


@dataclass(frozen=True)
class EcspressoConfig:
    path: Path
    region: str | None
    cluster: str
    service: str
    service_definition: Path
    task_definition: Path
    plugins: tuple[str, ...]
    required_version: str | None
    document: dict[str, Any]  # the whole rendered file, for `ecs-bg render config`

    def has_plugin(self, name: str) -> bool:
        return name in self.plugins


def load_config(path: Path, environ: Mapping[str, str]) -> EcspressoConfig:
    try:
        text = path.read_text()
    except OSError as error:
        raise DefinitionError(f"{path}: cannot read the ecspresso config: {error.strerror}") from None
    # ecspresso sets up plugins from this very file, so cfn_output and friends do not exist yet
    # while it is rendered: only go-config's env functions do.
    rendered = render(text, str(path), env_functions(environ))
    try:
        document = yaml.safe_load(rendered)
    except yaml.YAMLError as error:
        raise DefinitionError(f"{path}: not valid YAML after rendering: {error}") from None
    if not isinstance(document, dict):
        raise DefinitionError(f"{path}: expected a mapping of ecspresso settings")

    def required(key: str) -> str:
        value = document.get(key)
        if not isinstance(value, str) or not value:
            raise DefinitionError(f"{path}: `{key}` is required (a non-empty string)")
        return value

    plugins = document.get("plugins") or []
    if not isinstance(plugins, list) or not all(isinstance(p, dict) and "name" in p for p in plugins):
        raise DefinitionError(f"{path}: `plugins` must be a list of {{name: ...}} entries")
    region = document.get("region")
    required_version = document.get("required_version")
    return EcspressoConfig(
        path=path,
        region=str(region) if region else None,
        cluster=required("cluster"),
        service=required("service"),
        service_definition=path.parent / required("service_definition"),
        task_definition=path.parent / required("task_definition"),
        plugins=tuple(str(p["name"]).lower() for p in plugins),
        required_version=str(required_version) if required_version else None,
        document=document,
    )
