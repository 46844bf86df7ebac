"""Your own hooks and checks in the synthesized stack: a hook added as an entry file gets its
function, role, log group and output; a check registered from your own file (examples/) gets its
permissions into the role of the hook whose code registers it, and nowhere else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import LAMBDA_DIR, ROOT

from .conftest import Synthesized, synthesize
from .test_iam import _actions, _statements

pytestmark = pytest.mark.slow

EXAMPLES = ROOT / "examples"
PARAMETERS = "arn:aws:ssm:*:*:parameter/ecs-bg/release-window*"


def code_folder(destination: Path, *extra: Path) -> Path:
    """The seed's entry files plus ``extra``, as a user's hookCode folder."""
    destination.mkdir()
    for path in (*LAMBDA_DIR.glob("*_hook.py"), *extra):
        shutil.copy(path, destination / path.name)
    return destination


@pytest.fixture(scope="module")
def own_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    root = tmp_path_factory.mktemp("own")
    code = code_folder(
        root / "code", EXAMPLES / "release_window_hook.py", EXAMPLES / "release_window_check.py"
    )
    return synthesize(
        root / "out", {"hookCode": str(code), "hookFunctions": {"release-window": {"memoryMB": 512}}}
    )


def test_a_fifth_entry_file_is_a_fifth_function(own_app: Synthesized) -> None:
    function = own_app.resource(own_app.logical_id("Hooks/release_window_hook/Resource"))["Properties"]
    assert function["FunctionName"] == "ecs-bg-release-window-dev"
    assert function["Handler"] == "release_window_hook.handler"
    assert function["MemorySize"] == 512  # hookFunctions context
    assert "ReleaseWindowHookArn" in own_app.outputs()
    log_group = own_app.resource(own_app.logical_id("Hooks/release_window_hookLogGroup/Resource"))
    assert log_group["Properties"]["LogGroupName"] == "/aws/lambda/ecs-bg-release-window-dev"
    # The helper module beside the entry file is in the asset too.
    code = function["Code"]
    asset = own_app.outdir / f"asset.{code['S3Key'].removesuffix('.zip')}"
    assert (asset / "release_window_check.py").is_file()


def test_a_registered_checks_permissions_reach_only_its_hooks_role(own_app: Synthesized) -> None:
    statements = _statements(own_app, "Hooks/release_window_hookRole")
    (granted,) = [s for s in statements if "ssm:GetParameter" in _actions([s])]
    assert granted["Resource"] == PARAMETERS
    assert not own_app.nag_findings, own_app.nag_findings  # the wildcard is acknowledged with its reason
    for module in ("before_install_hook", "after_install_hook", "after_allow_traffic_hook"):
        resources = [
            s["Resource"]
            for s in _statements(own_app, f"Hooks/{module}Role")
            if "ssm:GetParameter" in _actions([s])
        ]
        assert PARAMETERS not in str(resources), module
