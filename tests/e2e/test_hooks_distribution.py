"""The hook library installs on its own (issue 24): ecs-bg-hooks, a distribution of ``ecs_bg.hooks``
alone with the hooks' runtime dependencies, installed into a fresh environment without the CLI's
(typer, moto, aiohttp, ...); the ecs-bg wheel leaves ``ecs_bg/hooks`` to it and depends on it."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import LAMBDA_DIR, ROOT
from tests.e2e.installed import environment, installed, wheels

pytestmark = pytest.mark.slow

# One of the repository's hook entry files, invoked as Lambda invokes it, with ECS's PRE_SCALE_UP event.
INVOKE = """
import json, sys
sys.path.insert(0, sys.argv[2])  # the code folder first, as Lambda's /var/task
import before_install_hook as entry
import ecs_bg.hooks
event = json.load(open(sys.argv[1]))
print(json.dumps({"answer": entry.handler(event, None), "library": ecs_bg.hooks.__file__}))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return wheels(tmp_path_factory)


def test_the_ecs_bg_wheel_leaves_the_hook_library_to_ecs_bg_hooks(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["ecs-bg"]) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert not [n for n in names if n.startswith("ecs_bg/hooks/")]
    assert "ecs_bg/__init__.py" not in names  # a namespace package both distributions share
    assert "ecs_bg/cli/main.py" in names
    assert "Requires-Dist: ecs-bg-hooks==0.1.0" in metadata.splitlines()


def test_the_ecs_bg_hooks_wheel_is_the_library_and_its_marker(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["ecs-bg-hooks"]) as wheel:
        names = [n for n in wheel.namelist() if ".dist-info/" not in n]
        metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith("/METADATA"))).decode()
    sources = ROOT / "src" / "ecs_bg"
    expected = {
        p.relative_to(sources.parent).as_posix()
        for p in (sources / "hooks").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert sorted(names) == sorted(expected)
    assert "ecs_bg/hooks/py.typed" in names
    requires = sorted(line for line in metadata.splitlines() if line.startswith("Requires-Dist:"))
    assert requires == [
        "Requires-Dist: aws-lambda-powertools<4,>=3.0",
        "Requires-Dist: boto3<2,>=1.40",
        "Requires-Dist: urllib3<3,>=2.0",
    ]


def test_ecs_bg_hooks_alone_runs_a_hook_without_the_clis_dependencies(
    built: dict[str, Path], tmp_path: Path
) -> None:
    bin_dir = environment(tmp_path / "hooks-only", [built["ecs-bg-hooks"]], lock_of="ecs-bg-hooks")
    names = installed(bin_dir)
    assert {"ecs-bg-hooks", "aws-lambda-powertools", "boto3", "urllib3"} <= names
    assert not names & {"ecs-bg", "typer", "moto", "aiohttp", "rich", "pyyaml", "pip"}, names
    done = subprocess.run(
        [
            str(bin_dir / "python"),
            "-I",
            "-c",
            INVOKE,
            str(ROOT / "tests" / "fixtures" / "events" / "pre_scale_up.json"),
            str(LAMBDA_DIR),
        ],
        cwd=tmp_path,  # -I: neither this directory nor PYTHONPATH reaches sys.path; only the venv's
        env={**os.environ, "AWS_REGION": "eu-west-1", "ECS_BG_HOOK_DETAILS": '{"notify": false}'},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["answer"] == {"hookStatus": "SUCCEEDED"}
    assert result["library"].startswith(str(tmp_path / "hooks-only"))  # the installed copy, not src/
