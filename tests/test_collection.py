"""The quick loop leaves unimported the test modules its ``-m`` deselects as a whole (conftest.py), and runs
a quarter of each property test's examples (examples_budget.py); ``make test``'s ``--dist loadgroup``
runs a module marked ``xdist_group`` on one worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import examples_budget
from tests.conftest import ROOT, deselects_all, module_marks


def test_a_module_s_marks_are_read_from_its_pytestmark_without_importing_it(tmp_path: Path) -> None:
    docker_runtime = ROOT / "tests" / "local" / "test_docker_runtime.py"
    assert module_marks(docker_runtime) == {"slow", "docker", "xdist_group"}
    assert module_marks(ROOT / "tests" / "sim" / "test_scenarios.py") == {"slow", "waits"}
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


GROUPED = """
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("one-worker")


@pytest.mark.parametrize("n", range(6))
def test_ran(n):
    Path(os.environ["RAN_ON"], f"{__name__}-{n}").write_text(os.environ["PYTEST_XDIST_WORKER"])
"""


@pytest.mark.slow
def test_loadgroup_runs_a_group_on_one_worker(tmp_path: Path) -> None:
    """What pytest 9.2 silently broke with pytest-xdist 3.8 (pytest-dev/pytest-xdist#1386: xdist marks
    a group in a node ID field 9.2 no longer reads): the Docker runtime's tests, which sweep each
    other's leftovers, ran on three workers at once, and one removed what another had left on purpose."""
    suite, ran = tmp_path / "suite", tmp_path / "ran"
    suite.mkdir()
    ran.mkdir()
    for module in ("test_a.py", "test_b.py"):
        (suite / module).write_text(GROUPED)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider", "-q"],
        cwd=suite,
        env={**os.environ, "RAN_ON": str(ran)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    workers = {path.read_text() for path in ran.iterdir()}
    assert len(list(ran.iterdir())) == 12
    assert len(workers) == 1, workers
