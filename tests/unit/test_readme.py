"""The hook example in docs/hooks.md runs as written."""

from __future__ import annotations

import re

from ecs_bg.lifecycle.events import lifecycle_event
from tests.conftest import ROOT


def test_the_custom_hook_example_works() -> None:
    readme = (ROOT / "docs" / "hooks.md").read_text()
    section = readme[readme.index("## Writing your own hook") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "docs/hooks.md", "exec"), namespace)
    handler = namespace["handler"]
    assert handler(lifecycle_event("POST_SCALE_UP", hook_details={"minTasks": 2}), None) == {  # type: ignore[operator]
        "hookStatus": "SUCCEEDED"
    }
