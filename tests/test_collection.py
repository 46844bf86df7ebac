"""The quick loop leaves unimported the test modules its ``-m`` deselects as a whole (conftest.py), and runs
a quarter of each property test's examples (examples_budget.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import examples_budget
from tests.conftest import ROOT, deselects_all, module_marks


def test_a_module_s_marks_are_read_from_its_pytestmark_without_importing_it(tmp_path: Path) -> None:
    docker_runtime = ROOT / "tests" / "local" / "test_docker_runtime.py"
    assert module_marks(docker_runtime) == {"slow", "docker", "xdist_group"}
    assert module_marks(ROOT / "tests" / "sim" / "test_scenarios.py") == {"slow"}
    assert module_marks(ROOT / "tests" / "local" / "test_lambda_forkserver.py") == {"skipif"}
    assert module_marks(ROOT / "tests" / "test_collection.py") == set()
    module = tmp_path / "test_m.py"
    module.write_text(
        "import sys\nraise SystemExit('imported')\npytestmark = (pytest.mark.slow(reason='x'),)\n"
    )
    assert module_marks(module) == {"slow"}


def test_only_a_module_no_test_of_which_could_be_selected_is_left_out() -> None:
    assert deselects_all("not slow", {"slow"})
    assert deselects_all("slow and not docker", {"slow", "docker"})
    assert not deselects_all("not slow", {"skipif"})  # its tests may be anything
    assert not deselects_all("slow", {"slow"})
    assert not deselects_all("docker or not slow", {"slow"})  # a test of it may add docker
    assert not deselects_all("not docker", {"slow"})


def test_the_quick_loop_runs_a_quarter_of_each_property_tests_examples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(examples_budget, "quick_loop", False)
    assert examples_budget.examples(400) == 400
    monkeypatch.setattr(examples_budget, "quick_loop", True)
    assert (examples_budget.examples(400), examples_budget.examples(40)) == (100, 20)
