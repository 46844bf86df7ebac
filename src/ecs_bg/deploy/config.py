"""ecspresso.yml: itself a template, rendered with env functions only, then read as YAML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.settings import parse_settings, setting
from ecs_bg.deploy.template import env_functions, render

# The plugins ecspresso sets up (its plugin.go), whatever their case.
PLUGINS = ("cloudformation", "tfstate", "ssm", "secretsmanager")


@dataclass(frozen=True)
class Plugin:
    name: str = field(metadata=setting(choices=PLUGINS))
    config: dict[str, Any] | None = None
    func_prefix: str | None = None


@dataclass(frozen=True)
class CodeDeploy:
    application_name: str | None = None
    deployment_group_name: str | None = None


@dataclass(frozen=True)
class EcspressoFile:
    """The keys of ecspresso's own config (its config.go), as ecspresso spells them (snake_case)."""

    cluster: str
    service: str
    service_definition: str
    task_definition: str
    region: str | None = None
    required_version: str | None = None
    plugins: tuple[Plugin, ...] = ()
    timeout: str | int | None = None  # a Go duration: 10m, 1h
    filter_command: str | None = None
    codedeploy: CodeDeploy | None = None
    appspec: Any = None  # ecspresso's CodeDeploy AppSpec; not used here
    ignore: Any = None  # {tags: [...]}: what `ecspresso diff`/deploy leave alone; not used here

    def __post_init__(self) -> None:
        for name in ("cluster", "service", "service_definition", "task_definition"):
            if not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty string")


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
    settings = parse_settings(EcspressoFile, document, f"{path}:", key=lambda name: name)
    return EcspressoConfig(
        path=path,
        region=settings.region or None,
        cluster=settings.cluster,
        service=settings.service,
        service_definition=path.parent / settings.service_definition,
        task_definition=path.parent / settings.task_definition,
        plugins=tuple(plugin.name.lower() for plugin in settings.plugins),
        required_version=settings.required_version or None,
        document=document,
    )
