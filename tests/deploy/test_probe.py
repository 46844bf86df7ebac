"""A hook's code is imported (probed) once for what it answers: the same code, handler, environment and
hookDetails again take nothing new; an edit to the code, other hookDetails or another environment
probe again. Each probe is a process that imports the code, counted here by the code itself."""

from __future__ import annotations

import os
from pathlib import Path

from ecs_bg.deploy.functions import LambdaFunction
from ecs_bg.deploy.probe import probe

HOOK = """
import os
with open(os.environ["IMPORTS"], "a") as imports:
    imports.write("imported\\n")

def handler(event, context):
    return {"hookStatus": "SUCCEEDED"}
"""


def test_the_same_question_is_answered_once_and_an_edit_asks_again(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "hook.py").write_text(HOOK)
    imports = tmp_path / "imports"
    function = LambdaFunction("f", code, "hook.handler", environment={"IMPORTS": str(imports)})

    def probes() -> int:
        return len(imports.read_text().splitlines()) if imports.exists() else 0

    first = probe(function, [{"a": 1}])
    assert first.ecs_bg is False  # a plain function: its keys are its own
    assert probe(function, [{"a": 1}]) == first
    assert probes() == 1

    probe(function, [{"a": 2}])  # other hookDetails
    assert probes() == 2
    probe(
        LambdaFunction("f", code, "hook.handler", environment={"IMPORTS": str(imports), "X": "1"}), [{"a": 1}]
    )
    assert probes() == 3

    (code / "hook.py").write_text(HOOK + "\n# edited\n")
    stat = (code / "hook.py").stat()
    os.utime(code / "hook.py", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a coarse clock too
    probe(function, [{"a": 1}])
    assert probes() == 4
    (code / "helper.py").write_text("VALUE = 1\n")  # a new file in the code folder
    probe(function, [{"a": 1}])
    assert probes() == 5
