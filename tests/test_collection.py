"""The quick loop leaves unimported the test modules its ``-m`` deselects as a whole (conftest.py), and runs
a quarter of each property test's examples (examples_budget.py); ``make test``'s ``--dist loadgroup``
runs a module marked ``xdist_group`` on one worker, and hands out the tests that mostly wait spread
among the others (run_order.py)."""

from __future__ import annotations

import itertools
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


def passing_pytest(suite: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """pytest on the test suite in ``suite``, in a process of its own with ``env`` added; it passes."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=suite,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


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
    passing_pytest(suite, "-n", "2", "--dist", "loadgroup", "-q", RAN_ON=str(ran))
    workers = {path.read_text() for path in ran.iterdir()}
    assert len(list(ran.iterdir())) == 12
    assert len(workers) == 1, workers


SPREAD = {
    "conftest.py": """
import pytest
from tests import run_order

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    items[:] = run_order.spread_waits(items)
""",
    "test_a_busy.py": """
import pytest
pytestmark = pytest.mark.slow
@pytest.mark.parametrize("n", range(4))
def test_busy(n): pass
""",
    "test_b_shared.py": """
import pytest
pytestmark = pytest.mark.slow
@pytest.fixture(scope="module")
def local(): return object()
@pytest.mark.parametrize("n", range(4))
def test_shared(local, n): pass
""",
    "test_c_busy.py": """
import pytest
pytestmark = pytest.mark.slow
@pytest.mark.parametrize("n", range(4))
def test_busy(n): pass
""",
    "test_e_quick.py": """
import pytest
@pytest.mark.parametrize("n", range(3))
def test_quick(n): pass
""",
    "test_d_waits.py": """
import pytest
pytestmark = [pytest.mark.slow, pytest.mark.waits]
@pytest.mark.parametrize("n", range(3))
def test_waits(n): pass
@pytest.mark.waits(seconds=50)
def test_waits_long(): pass
""",
}


def test_waiting_tests_are_spread_longest_first_and_never_inside_a_shared_fixture(tmp_path: Path) -> None:
    """tests/run_order.py, on a suite of its own: the order xdist hands tests out in."""
    for name, text in SPREAD.items():
        (tmp_path / name).write_text(text)
    done = passing_pytest(tmp_path, "--collect-only", "-q", "-W", "ignore", PYTHONPATH=str(ROOT))
    order = [line.split("::")[1] for line in done.stdout.splitlines() if "::" in line]
    assert sorted(order) == sorted(
        [f"test_busy[{n}]" for n in range(4)] * 2
        + [f"test_shared[{n}]" for n in range(4)]
        + [f"test_waits[{n}]" for n in range(3)]
        + ["test_waits_long"]
        + [f"test_quick[{n}]" for n in range(3)]
    )
    waiting = [i for i, name in enumerate(order) if name.startswith("test_waits")]
    assert order[waiting[0]] == "test_waits_long"  # the longest first
    assert waiting[0] > 0  # among the busy tests, not before them
    assert order[waiting[-1] + 1 :] == [f"test_quick[{n}]" for n in range(3)]  # nor after the quick ones
    assert all(b - a > 1 for a, b in itertools.pairwise(waiting))  # no two side by side
    shared = [i for i, name in enumerate(order) if name.startswith("test_shared")]
    assert shared == list(range(shared[0], shared[0] + 4))  # one module fixture, set up once
