"""The hook runtime's layering rule, enforced: the Lambda asset, staged as the CDK app stages it,
imports with nothing but what a Lambda function has (the standard library, boto3/botocore/urllib3
from the runtime, aws-lambda-powertools from its layer, and what those depend on)."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from ecs_bg.deploy.functions import stage_asset
from tests.conftest import LAMBDA_DIR

# What the Lambda runtime and the Powertools layer provide, by distribution.
LAMBDA_DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "urllib3",
    "aws-lambda-powertools",
    "jmespath",
    "s3transfer",
    "python-dateutil",
    "six",
    "typing_extensions",
)

# Imports every module of the asset: the entry files, then every module of ecs_bg.hooks (checks are
# imported lazily by the runtime, so importing the entry files alone would not reach them).
IMPORT_ALL = """
import importlib, pkgutil, sys
sys.path[:0] = [{asset!r}, {site!r}]
for entry in {entries!r}:
    importlib.import_module(entry)
import ecs_bg.hooks
for module in pkgutil.walk_packages(ecs_bg.hooks.__path__, "ecs_bg.hooks."):
    importlib.import_module(module.name)
print("imported", len(sys.modules))
"""


def lambda_site_packages(destination: Path) -> set[str]:
    """A site-packages holding only the Lambda's packages (symlinks into this venv); their top-level names."""
    destination.mkdir()
    names: set[str] = set()
    for name in LAMBDA_DISTRIBUTIONS:
        distribution = importlib.metadata.distribution(name)
        for top in {f.parts[0] for f in distribution.files or ()}:
            if top.endswith(".dist-info") or top in ("..", "__pycache__", "bin"):
                continue
            source = Path(str(distribution.locate_file(top)))
            (destination / top).symlink_to(source)
            names.add(top.removesuffix(".py"))
    return names


@pytest.fixture(scope="module")
def asset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str], set[str]]:
    root = tmp_path_factory.mktemp("lambda")
    files = stage_asset(LAMBDA_DIR, root / "asset")
    entries = [f.removesuffix(".py") for f in files if "/" not in f]
    return root / "asset", root / "site", entries, lambda_site_packages(root / "site")


def test_the_asset_imports_with_only_what_lambda_provides(
    asset: tuple[Path, Path, list[str], set[str]],
) -> None:
    directory, site, entries, _ = asset
    code = IMPORT_ALL.format(asset=str(directory), site=str(site), entries=entries)
    # -I: no PYTHONPATH, no user site; -S: not even this venv's site-packages.
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported")


def test_no_hook_module_imports_anything_else_even_lazily(
    asset: tuple[Path, Path, list[str], set[str]],
) -> None:
    """Imports inside functions (boto3 on first use) run only when a check does: read them all."""
    directory, _, entries, provided = asset
    allowed = set(sys.stdlib_module_names) | provided | set(entries)
    outside = []
    for path in sorted(directory.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                in_hooks = module == "ecs_bg" or module.startswith("ecs_bg.hooks")
                if not (in_hooks or (top in allowed and top != "ecs_bg")):
                    outside.append(f"{path.relative_to(directory)}:{node.lineno} imports {module}")
    assert outside == []
