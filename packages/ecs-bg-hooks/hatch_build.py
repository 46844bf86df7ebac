"""The ecs-bg-hooks wheel's files: the repository's src/ecs_bg/hooks, as ecs_bg/hooks.

Force-included here rather than by ``[tool.hatch.build.targets.wheel.force-include]``, which hatchling
applies to the editable install too: that would copy the library into site-packages, and since ecs_bg
is a namespace package whose site-packages portion comes first on sys.path, the copy would shadow the
sources being edited. The editable install (``uv sync``) gets only the path to src/ (``dev-mode-dirs``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class HooksLibrary(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "standard":
            library = Path(self.root).resolve().parents[1] / "src" / "ecs_bg" / "hooks"
            build_data["force_include"][str(library)] = "ecs_bg/hooks"
