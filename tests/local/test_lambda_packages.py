"""A function imports what Lambda would give it: its own code and packages, the runtime's boto3, its
layers', and nothing of ecs-bg's environment; a requirements.txt is installed as a deployment package
is built, once per content. Real worker processes, invoked through the runner."""

from __future__ import annotations

import asyncio
import importlib.metadata
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.deploy.functions import POWERTOOLS_LAYER, LambdaFunction
from ecs_bg.local.lambda_ import packages
from ecs_bg.local.lambda_.runner import Invocation, LambdaRunner


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ECS_BG_CACHE_DIR", str(folder))
    return folder


def function(folder: Path, source: str, **fields: Any) -> LambdaFunction:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "handler.py").write_text(source)
    return LambdaFunction("f", folder, "handler.handler", timeout_seconds=30, **fields)


def invoke(made: LambdaFunction) -> Invocation:
    async def run() -> Invocation:
        runner = LambdaRunner({made.name: made})
        try:
            return await runner.invoke(made.name, {})
        finally:
            await runner.close()

    return asyncio.run(run())


IMPORTS = (
    "import importlib\n\n"
    "def handler(event, context):\n"
    "    return [module.__name__ for module in map(importlib.import_module, {names!r})]\n"
)


def test_the_runtimes_sdk_and_the_standard_library_import(tmp_path: Path) -> None:
    done = invoke(function(tmp_path / "code", IMPORTS.format(names=["boto3", "botocore", "urllib3", "json"])))
    assert (done.error, done.response) == (None, ["boto3", "botocore", "urllib3", "json"])


@pytest.mark.parametrize("module", ["yaml", "aiohttp", "ecs_bg", "ecs_bg.hooks", "moto"])
def test_what_only_ecs_bgs_environment_has_is_an_import_module_error(tmp_path: Path, module: str) -> None:
    source = f"import {module}\n\ndef handler(event, context):\n    return 'imported'\n"
    done = invoke(function(tmp_path / "code", source))
    assert done.response is None
    assert done.error is not None
    assert done.error.startswith("Runtime.ImportModuleError: Unable to import module 'handler.handler'")
    assert f"No module named '{module.split('.')[0]}'" in done.error


def test_a_layer_adds_its_packages(tmp_path: Path) -> None:
    source = IMPORTS.format(names=["aws_lambda_powertools"])
    assert invoke(function(tmp_path / "without", source)).error is not None
    done = invoke(function(tmp_path / "with", source, layer_packages=POWERTOOLS_LAYER))
    assert (done.error, done.response) == (None, ["aws_lambda_powertools"])


def test_a_stack_hook_runs_from_its_staged_asset_with_the_hooks_library(tmp_path: Path, cache: Path) -> None:
    source = IMPORTS.format(names=["ecs_bg.hooks", "helper"])
    made = function(tmp_path / "code", source, staged=True, layer_packages=POWERTOOLS_LAYER)
    (tmp_path / "code" / "helper.py").write_text("VALUE = 1\n")
    done = invoke(made)
    assert (done.error, done.response) == (None, ["ecs_bg.hooks", "helper"])
    (asset,) = (cache / "assets").iterdir()
    assert sorted(p.name for p in asset.iterdir()) == ["ecs_bg", "handler.py", "helper.py"]
    assert (asset / "ecs_bg" / "hooks" / "handler.py").is_file()
    assert not (asset / "ecs_bg" / "local").exists()  # the hooks library only, as the stack stages it


@pytest.mark.slow  # pip installs from PyPI
def test_a_requirements_txt_is_installed_once_per_content(tmp_path: Path, cache: Path) -> None:
    source = "import more_itertools\n\ndef handler(event, context):\n    return more_itertools.__version__\n"
    made = function(tmp_path / "code", source)
    assert "No module named 'more_itertools'" in (invoke(made).error or "")
    (tmp_path / "code" / "requirements.txt").write_text("more-itertools==10.5.0\n")
    done = invoke(made)
    assert (done.error, done.response) == (None, "10.5.0")
    (installed,) = (cache / "requirements").iterdir()
    assert (installed / "more_itertools").is_dir()
    again = asyncio.run(packages.package(made))
    assert again.folders == (made.code, installed)


@pytest.mark.slow
def test_a_requirement_that_does_not_install_fails_the_init_naming_it(tmp_path: Path) -> None:
    made = function(tmp_path / "code", "def handler(event, context):\n    return 1\n")
    (made.code / "requirements.txt").write_text("this-package-does-not-exist-ecs-bg==0.0.1\n")
    done = invoke(made)
    assert done.response is None
    assert (done.error or "").startswith("Runtime.ImportModuleError: pip install -r")
    assert "requirements.txt failed" in (done.error or "")


def test_the_modules_a_distribution_provides_are_those_its_metadata_names() -> None:
    """Read for the named distributions alone, as importlib.metadata's packages_distributions reads
    every installed one: the same modules (the names fold case, - and _ as pip's do)."""
    names = (*packages.RUNTIME_DISTRIBUTIONS, *POWERTOOLS_LAYER, "No-Such-Distribution")
    wanted = {name.lower().replace("_", "-") for name in names}
    expected = {
        module
        for module, owners in importlib.metadata.packages_distributions().items()
        if any(owner.lower().replace("_", "-") in wanted for owner in owners)
    }
    assert packages.provided_modules(names) == expected
    assert {"boto3", "botocore", "dateutil", "aws_lambda_powertools"} <= expected
    assert packages.provided_modules(("PyYAML",)) == {"yaml", "_yaml"}
