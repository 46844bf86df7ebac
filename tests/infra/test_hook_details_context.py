"""`cdk synth` refuses a hookDetails context its hooks would refuse: a validation of the stack, whose
findings name the hook, the key and the value, judged by each hook's own code (registered checks too)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LAMBDA_DIR, ROOT
from tests.infra.conftest import STACK_NAME, sample_app

pytestmark = pytest.mark.slow


def synth(outdir: Path, context: dict[str, Any]) -> None:
    """The app as `cdk synth` builds it from cdk.json's context and ``context``, synthesized."""
    app, _ = sample_app(outdir, context)
    app.synth()


def test_synth_fails_naming_each_wrong_value_of_built_in_and_registered_checks(tmp_path: Path) -> None:
    # The repository's hooks plus examples/' release-window hook, whose code registers releaseWindow.
    code = tmp_path / "lambda"
    code.mkdir()
    for path in [*LAMBDA_DIR.glob("*_hook.py"), *(ROOT / "examples").glob("release_window_*.py")]:
        shutil.copy(path, code / path.name)
    hook_details = {
        "after-install": {"ecsReadiness": {"minHealthyPercent": 0}},
        "before-allow-traffic": {"smokeTest": {"timeoutSeconds": "5"}},
        "before-install": {"notify": {"snsTopicArn": 7}},
        "release-window": {"releaseWindow": {"parameter": 5}},
    }
    with pytest.raises(RuntimeError) as caught:
        synth(tmp_path / "cdk.out", {"hookCode": str(code), "hookDetails": hook_details})
    message = str(caught.value)
    assert message.startswith("ValidationFailedWithErrors: Validation failed with the following errors:")
    where = f"[{STACK_NAME}/Hooks] CDK context: hookDetails"
    assert message.splitlines()[1:] == [
        f"  {where}.after-install.ecsReadiness.minHealthyPercent: 0 is out of range [1, 100]",
        f"  {where}.before-allow-traffic.smokeTest.timeoutSeconds: expected a number, got '5'",
        f"  {where}.before-install.notify.snsTopicArn: expected a string or null, got number 7",
        f"  {where}.release-window.releaseWindow.parameter: expected a string, got number 5",
    ]
    assert not (tmp_path / "cdk.out" / f"{STACK_NAME}.template.json").exists()  # nothing to deploy
