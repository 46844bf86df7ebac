"""Dependencies between the packages under src/ecs_bg point one way (docs: README's layout).

hooks is the vocabulary everything speaks and imports nothing of the project; deploy (the ecspresso
definitions as data) serves the rest; the local AWS builds on the lifecycle, and ``simulate`` is a
client of the local AWS. Nothing imports the CLI. Every import counts, those under TYPE_CHECKING and
inside functions too: an import that points back ties the lower layer to the higher one all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "ecs_bg"
ALLOWED: dict[str, set[str]] = {
    "hooks": set(),
    "deploy": {"hooks"},
    "lifecycle": {"hooks"},
    "local": {"lifecycle", "deploy", "hooks"},
    "simulate": {"local", "lifecycle", "deploy", "hooks"},
    "report": {"hooks"},
    "live": {"report", "lifecycle", "deploy", "hooks"},  # live events are built as the lifecycle builds them
    "cli": {"simulate", "local", "lifecycle", "deploy", "hooks", "live", "report"},
}


def _package(module: str) -> str | None:
    """ecs_bg.local.ecs.models -> local; None outside the project."""
    parts = module.split(".")
    return parts[1] if parts[0] == "ecs_bg" and len(parts) > 1 else None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations(root: Path) -> list[str]:
    wrong = []
    for path in sorted(root.rglob("*.py")):
        own = path.relative_to(root).parts[0]
        if own not in ALLOWED:
            continue
        for line, module in _imports(path):
            target = _package(module)
            if target is not None and target != own and target not in ALLOWED[own]:
                wrong.append(f"{path.relative_to(root.parent)}:{line}: {own} imports {module}")
    return wrong


def test_every_package_is_in_the_layout() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(ALLOWED)


def test_imports_point_one_way() -> None:
    assert _violations(SRC) == []


def test_an_import_that_points_back_is_found(tmp_path: Path) -> None:
    lower = tmp_path / "ecs_bg" / "lifecycle"
    lower.mkdir(parents=True)
    (lower / "engine.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ecs_bg.local.world import World\n"
    )
    assert _violations(tmp_path / "ecs_bg") == [
        "ecs_bg/lifecycle/engine.py:3: lifecycle imports ecs_bg.local.world"
    ]
