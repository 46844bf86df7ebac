"""Render an ecspresso project (config, service and task definitions) into the data ecspresso sends."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecs_bg.deploy.config import EcspressoConfig, load_config
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.outputs import OutputSource, cloudformation_functions
from ecs_bg.deploy.template import Functions, TemplateFunction, env_functions, render

# Called with the config's region, and only if a definition uses the cloudformation plugin, so a
# render from a local file never builds an AWS client.
OutputSourceFactory = Callable[[str | None], OutputSource]


@dataclass(frozen=True)
class Definitions:
    config: EcspressoConfig
    service: dict[str, Any]
    task: dict[str, Any]

    @property
    def service_file(self) -> str:
        return str(self.config.service_definition)

    @property
    def task_file(self) -> str:
        return str(self.config.task_definition)


def load_definitions(
    config_path: Path, environ: Mapping[str, str], outputs: OutputSourceFactory
) -> Definitions:
    config = load_config(config_path, environ)
    functions: dict[str, TemplateFunction] = env_functions(environ)
    if config.has_plugin("cloudformation"):
        functions.update(cloudformation_functions(_Lazy(lambda: outputs(config.region))))
    service = _load_json(config.service_definition, functions)
    task = _load_json(config.task_definition, functions)
    # ecspresso also accepts DescribeTaskDefinition's output, which wraps the definition.
    if isinstance(task.get("taskDefinition"), dict):
        task = task["taskDefinition"]
    return Definitions(config=config, service=service, task=task)


def _load_json(path: Path, functions: Functions) -> dict[str, Any]:
    if path.suffix == ".jsonnet":
        raise DefinitionError(f"{path}: Jsonnet definitions are not supported by ecs-bg, only JSON")
    try:
        text = path.read_text()
    except OSError as error:
        raise DefinitionError(f"{path}: cannot read the definition: {error.strerror}") from None
    rendered = render(text, str(path), functions)
    try:
        document = json.loads(rendered)
    except json.JSONDecodeError as error:
        # Rendering keeps line breaks, so the line also points into the template.
        raise DefinitionError(f"{path}:{error.lineno}: not valid JSON after rendering: {error.msg}") from None
    if not isinstance(document, dict):
        raise DefinitionError(f"{path}: expected a JSON object")
    return document


class _Lazy:
    """An OutputSource built on first use."""

    def __init__(self, build: Callable[[], OutputSource]) -> None:
        self._build = build
        self._source: OutputSource | None = None

    def _get(self) -> OutputSource:
        if self._source is None:
            self._source = self._build()
        return self._source

    def output(self, stack: str, key: str) -> str:
        return self._get().output(stack, key)

    def export(self, name: str) -> str:
        return self._get().export(name)
