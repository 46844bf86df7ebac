"""Shared test fixtures: a virtual clock, a real local HTTP server, and the hook entry files."""

from __future__ import annotations

import ast
import importlib.util
import io
import itertools
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from _pytest.mark.expression import Expression  # pytest's own `-m` grammar (pytest is pinned)

from ecs_bg.local import botocore_data
from tests import examples_budget, run_order
from tests.readings import READINGS, Reading

# pytest keeps each test module's assertion-rewritten code in __pycache__, as it does by default, even
# where the shell sets PYTHONDONTWRITEBYTECODE (as this project's machines do): rewriting every module
# again cost each xdist worker 1.2 s of its collection. `make sync` compiles the rest ahead, likewise.
sys.dont_write_bytecode = False

# Tests make boto3 sessions by the hundred (each CLI run in-process, each in-process moto), and each new
# session's loader parses botocore's endpoints.json and service models again: share one loader, as
# moto's server and Lambda's runtime server do. Its data is read-only.
botocore_data.share()

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "infrastructure" / "lib" / "constructs" / "lambda"
ENTRY_FILES = ("before_install", "after_install", "before_allow_traffic", "after_allow_traffic")
FIXTURE_OUTPUTS = ROOT / "tests" / "fixtures" / "cdk-outputs.json"
CONFIG = ROOT / "ecspresso" / "ecspresso.yml"
CDK_JSON = ROOT / "infrastructure" / "cdk.json"


def pytest_configure(config: pytest.Config) -> None:
    """The quick loop is any run whose ``-m`` leaves out every slow test."""
    expression = config.getoption("markexpr")
    examples_budget.quick_loop = bool(expression) and deselects_all(expression, {"slow"})


@pytest.hookimpl(trylast=True)  # after tests/infra/conftest.py has marked its tests' xdist group
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items[:] = run_order.spread_waits(items)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A test module whose ``pytestmark`` the ``-m`` expression deselects, whatever marks its tests add,
    is not imported: each xdist worker of the quick loop would otherwise load the CDK app, moto's
    models and the end-to-end harness (seconds) for tests it never runs."""
    expression = config.getoption("markexpr")
    if not expression or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    marks = module_marks(collection_path)
    return True if marks and deselects_all(expression, marks) else None


def deselects_all(expression: str, marks: set[str]) -> bool:
    """Whether ``-m expression`` deselects every test that has ``marks``, whichever other marks a test
    adds: tried with each combination of the other marks the expression names (no other can change
    its answer)."""
    compiled = Expression.compile(expression)
    others = sorted(_named(compiled) - marks)
    for added in itertools.product((False, True), repeat=len(others)):
        present = marks | {name for name, on in zip(others, added, strict=True) if on}
        if compiled.evaluate(lambda name, /, present=present, **kwargs: not kwargs and name in present):
            return False
    return True


def _named(compiled: Expression) -> set[str]:
    """The marks ``compiled`` names, as its evaluation asks for them: one it skips under every answer
    to those asked before it (``and``, ``or`` short-circuit) cannot change its answer."""
    named: set[str] = set()
    while True:
        known = sorted(named)
        for answers in itertools.product((False, True), repeat=len(known)):
            present = {name for name, on in zip(known, answers, strict=True) if on}

            def asked(name: str, /, present: set[str] = present, **kwargs: object) -> bool:
                named.add(name)
                return not kwargs and name in present

            compiled.evaluate(asked)
        if len(named) == len(known):
            return named


def module_marks(module: Path) -> set[str]:
    """The names of the marks a test module's top-level ``pytestmark`` gives all its tests."""
    source = module.read_text(encoding="utf-8")
    if "pytestmark" not in source:
        return set()
    names: set[str] = set()
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytestmark" for target in statement.targets
        ):
            value = statement.value
            for mark in value.elts if isinstance(value, ast.List | ast.Tuple) else [value]:
                node = mark.func if isinstance(mark, ast.Call) else mark
                if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "pytest.mark":
                    names.add(node.attr)
    return names


@dataclass
class VirtualClock:
    """Time that passes only when code sleeps: waits are tested without waiting."""

    now: float = 1_000_000.0
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True, scope="session")
def package_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Lambda deployment packages built by local runs (ecs_bg.local.lambda_.packages) go to a folder of
    the test session's, never the user's cache."""
    previous = os.environ.get("ECS_BG_CACHE_DIR")
    os.environ["ECS_BG_CACHE_DIR"] = str(tmp_path_factory.mktemp("ecs-bg-cache"))
    yield
    if previous is None:
        del os.environ["ECS_BG_CACHE_DIR"]
    else:
        os.environ["ECS_BG_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Credentials that can reach nothing real; every AWS call in tests goes to moto or a stub."""
    from ecs_bg.hooks import aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-west-2",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # Anything that reaches for AWS outside moto meets a closed local port: it fails, it never leaves.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    aws.client.cache_clear()
    yield
    aws.client.cache_clear()


@pytest.fixture
def retries_without_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore retries (throttling, a refused connection) as often as configured, without the
    randomised wait between attempts (up to 1 s, then 2 s, ... in its "standard" mode), and urllib3
    (the webhooks') without its backoff (0.4 s before a third attempt): what is tested is that a call
    is retried and how it ends, not how long the library waits. In this process only (a subprocess
    waits as it would), and only where a test asks: the hooks' unit tests, and never a simulation
    running in the test's process, whose timing is real."""
    import urllib3
    from botocore.retries.standard import ExponentialBackoff

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    monkeypatch.setattr(urllib3.Retry, "get_backoff_time", lambda self: 0.0)


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process: every AWS call in the test goes to its in-memory AWS, empty at the start and
    emptied at the end by moto's own reset of every backend (tests/test_moto_isolation.py).

    Two settings keep it at milliseconds a test instead of a second, with nothing mocked but AWS:
    - boto3's default session lives on between tests (``reset_boto3_session``: False). Each new
      session reads botocore's service models from disk again (EC2's alone is megabytes of JSON),
      which cost ~0.2-0.3 s of CPU a test; clients are still made anew in each test.
    - EC2 loads none of its ~1,300 default AMIs (``MOTO_EC2_LOAD_DEFAULT_AMIS``), which moto does
      each time it builds an EC2 backend: at the first call and again at each reset, ~0.13 s each.
      Nothing here asks for an AMI.
    """
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL")  # moto answers AWS's own endpoints
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield


@pytest.fixture
def world(moto: None) -> Iterator[Any]:
    """An ECS cluster, VPC and the app's task definition in moto (tests/aws_world.py)."""
    from moto.moto_api import state_manager

    from tests.aws_world import ecs_world

    yield ecs_world()
    state_manager.unset_transition(model_name="ecs::task")


@pytest.fixture(params=sorted(READINGS))
def reading(request: pytest.FixtureRequest) -> Reading:
    """Each way ECS may pass returned hookDetails on (tests/readings.py), one test run each."""
    return READINGS[request.param]


@pytest.fixture
def repo_root() -> Path:
    return ROOT


class ClockThatActs(VirtualClock):
    """A virtual clock that runs ``act`` once the code under test has slept ``after`` times."""

    def __init__(self, after: int, act: Callable[[], object]) -> None:
        super().__init__()
        self.after, self.act = after, act

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if len(self.sleeps) == self.after:
            self.act()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


Route = Callable[[BaseHTTPRequestHandler], tuple[int, str]]


@dataclass
class LocalServer:
    """A real HTTP server on 127.0.0.1; ``routes`` maps a path to (status, body) or a function."""

    url: str
    routes: dict[str, tuple[int, str] | Route] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server_box: dict[str, LocalServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state = server_box["server"]
            path = self.path.split("?", 1)[0]
            state.hits[path] = state.hits.get(path, 0) + 1
            route = state.routes.get(path, (404, "not found"))
            status, body = route(self) if callable(route) else route
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET
        do_HEAD = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that timed out and hung up: expected in timeout tests

    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server_box["server"] = LocalServer(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server_box["server"]
    finally:
        httpd.shutdown()
        httpd.server_close()


def slow(seconds: float, status: int = 200, body: str = "ok") -> Route:
    def route(_: BaseHTTPRequestHandler) -> tuple[int, str]:
        time.sleep(seconds)
        return status, body

    return route


@pytest.fixture
def refused_url() -> str:
    """A loopback URL nobody listens on: the port was free a moment ago and is closed now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def load_entry(name: str) -> ModuleType:
    """A fresh import of one of the seed's four entry files, as Lambda imports it."""
    path = LAMBDA_DIR / f"{name}_hook.py"
    spec = importlib.util.spec_from_file_location(f"{name}_hook_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def sample_options() -> Any:
    """``ecs-bg simulate``'s options for the repository's sample, as the command reads them: its
    ecspresso config and the simulation.yml beside it (containers, speed, load, the CDK app)."""
    from ecs_bg.simulate.config import apply
    from ecs_bg.simulate.simulation import Options

    options = Options(config=CONFIG)
    apply(CONFIG.parent / "simulation.yml", options)
    return options


def copy_sample_simulation_yml(folder: Path) -> Path:
    """The sample's simulation.yml in ``folder``, its paths (the CDK app, the container's working
    directory) pointing back at the repository's, as a user's file outside it would name them."""
    import yaml

    settings = yaml.safe_load((CONFIG.parent / "simulation.yml").read_text())
    settings["cdkApp"] = str((CONFIG.parent / settings["cdkApp"]).resolve())
    settings["template"] = str((CONFIG.parent / settings["template"]).resolve())
    app = settings["containers"]["app"]
    app["workingDirectory"] = str((CONFIG.parent / app["workingDirectory"]).resolve())
    path = folder / "simulation.yml"
    path.write_text(yaml.safe_dump(settings))
    return path
