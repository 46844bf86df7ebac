"""The probe server forks each probe from an interpreter that has imported the hooks library once; every
answer must be the one a fresh interpreter gives (``probe._fresh``), or the fresh interpreter answers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ecs_bg.deploy import probe
from ecs_bg.deploy.errors import DefinitionError
from ecs_bg.deploy.functions import LambdaFunction

pytestmark = pytest.mark.skipif(not probe.SUPPORTED, reason="the probe server forks: Linux only")

ECS_BG_HOOK = """
import os
from ecs_bg.hooks import CheckSettings, LifecycleHook, Permission, register_check

if os.environ.get("REGISTER") == "1":
    @register_check("custom", CheckSettings, permissions=[Permission(("s3:GetObject",), "arn:aws:s3:::b/*")])
    def custom(ctx, settings):
        return None

hook = LifecycleHook("h", defaults={"notify": {}})
handler = hook.handler
"""
PLAIN = "def handler(event, context):\n    return {'hookStatus': 'SUCCEEDED'}\n"
CODES = {
    "ecs_bg hook": ECS_BG_HOOK,
    "plain function": PLAIN,
    "missing module": "import not_a_module_anywhere\n",
    "raises at import": "import os\nraise ValueError(f'in {os.getcwd()} with X={os.environ.get(\"X\")}')\n",
    "prints at import": "print('hello from the hook')\n" + PLAIN,
    "exits 3": "raise SystemExit(3)\n",
    "exits with a message": "raise SystemExit('no way')\n",
    "reads stdin": "import sys\nassert sys.stdin.read() == ''\n" + PLAIN,
    "no handler": "x = 1\n",
}


def request(code: Path, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"code": str(code), "handler": "hook.handler", "details": details or [{"notify": {"bogus": 1}}]}


def served(asked: dict[str, Any], environment: dict[str, str]) -> probe.Ran | None:
    return probe._served(asked, environment, probe._library_files())


@pytest.mark.parametrize("name", sorted(CODES))
def test_a_forked_probe_answers_as_a_fresh_interpreter(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "hook.py").write_text(CODES[name])
    monkeypatch.chdir(tmp_path)
    environment = {**os.environ, "X": "7", "REGISTER": "1"}
    forked = served(request(code), environment)
    fresh = probe._fresh(request(code), environment)
    assert forked is not None
    assert forked.returncode == fresh.returncode, (forked, fresh)
    assert forked.stdout == fresh.stdout
    assert forked.stderr.strip().splitlines()[-1:] == fresh.stderr.strip().splitlines()[-1:], (forked, fresh)
    if name == "ecs_bg hook":
        answer = json.loads(forked.stdout)
        assert answer["ecsBg"] is True
        assert list(answer["checks"]) == ["custom"]  # registered by this code, at its import
        assert answer["problems"][0][0][0] == "notify.bogus"
    if name == "raises at import":
        assert f"in {tmp_path} with X=7" in forked.stderr
    if name == "prints at import":
        assert "hello from the hook" in forked.stderr


def test_a_check_one_probe_registers_is_not_the_next_ones(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "hook.py").write_text(ECS_BG_HOOK)
    environment = dict(os.environ)
    registering = served(request(code), {**environment, "REGISTER": "1"})
    not_registering = served(request(code), {**environment, "REGISTER": "0"})
    assert registering is not None
    assert not_registering is not None
    assert list(json.loads(registering.stdout)["checks"]) == ["custom"]
    assert json.loads(not_registering.stdout)["checks"] == {}


def test_a_probe_finds_no_other_functions_environment_and_its_own_temporary_folder(tmp_path: Path) -> None:
    """The server starts with only what its imports read: a function's variables (a webhook's secret,
    say) never reach another function's probe, not even in /proc/self/environ, the environment the
    process started with; and its TMPDIR is its own."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    (first / "hook.py").write_text(PLAIN)
    (second / "hook.py").write_text(
        "import tempfile, os\n"
        "assert b'FIRST_SECRET' not in open('/proc/self/environ', 'rb').read(), 'found the first one'\n"
        "assert tempfile.gettempdir() == os.environ['TMPDIR'], tempfile.gettempdir()\n" + PLAIN
    )
    own_temporary = tmp_path / "own-tmp"
    own_temporary.mkdir()
    environment = dict(os.environ)
    served(request(first), {**environment, "FIRST_SECRET": "s3cr3t"})
    answered = served(request(second), {**environment, "TMPDIR": str(own_temporary)})
    assert answered is not None
    assert answered.returncode == 0, answered.stderr


def test_a_code_folder_that_shadows_what_the_server_imported_is_probed_fresh(tmp_path: Path) -> None:
    """A function that ships its own Powertools (pip install -t) imports that one, on Lambda and in a
    fresh interpreter; the server's would stand in its place, so the server does not answer."""
    code = tmp_path / "code"
    (code / "aws_lambda_powertools").mkdir(parents=True)
    (code / "aws_lambda_powertools" / "__init__.py").write_text("SHIPPED = True\n")
    shipped = "import aws_lambda_powertools\nassert aws_lambda_powertools.SHIPPED\n"
    (code / "hook.py").write_text(shipped + PLAIN)
    assert served(request(code), dict(os.environ)) is None
    function = LambdaFunction("f", code, "hook.handler")
    assert probe.probe(function, [{"a": 1}]).ecs_bg is False  # the fresh interpreter imported the shipped one


def test_a_hook_that_hangs_as_it_loads_is_stopped_at_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "hook.py").write_text("import time\ntime.sleep(30)\n" + PLAIN)
    monkeypatch.setattr(probe, "PROBE_TIMEOUT", 0.5)
    function = LambdaFunction("slow", code, "hook.handler", environment={"ONE": "1"})
    started = time.monotonic()
    with pytest.raises(DefinitionError, match=r"slow: importing hook.handler took over 0.5 s"):
        probe.probe(function, [{"a": 1}])
    assert time.monotonic() - started < 10
    monkeypatch.setattr(probe, "SUPPORTED", False)
    with pytest.raises(DefinitionError, match=r"slow: importing hook.handler took over 0.5 s"):
        probe.probe(LambdaFunction("slow", code, "hook.handler", environment={"ONE": "2"}), [{"a": 1}])


def test_the_variables_the_servers_imports_read_are_in_its_key() -> None:
    """Every variable read while the server imports ahead is one it is keyed by: a fork whose
    environment sets it otherwise gets a server started with it."""
    audit = (
        "import importlib, json, os\n"
        "read = set()\n"
        "cls = type(os.environ)\n"
        "for name in ('get', '__getitem__', '__contains__'):\n"
        "    def spy(self, key, *rest, _original=getattr(cls, name)):\n"
        "        read.add(key)\n"
        "        return _original(self, key, *rest)\n"
        "    setattr(cls, name, spy)\n"
        f"for module in {probe.PRELOAD!r}:\n"
        "    importlib.import_module(module)\n"
        "print(json.dumps(sorted(read)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", audit], capture_output=True, text=True, timeout=60, check=True
    )
    read = set(json.loads(done.stdout))
    assert read <= set(probe.IMPORT_TIME_VARIABLES), read - set(probe.IMPORT_TIME_VARIABLES)


def test_an_edit_to_the_hooks_library_replaces_the_server_that_imported_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh interpreter imports ecs_bg.hooks as its files are now: so does the server after an edit
    (someone working on the library while `ecs-bg local` runs), and the one it replaces ends."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "hook.py").write_text(PLAIN)
    environment = dict(os.environ)
    library = probe._library_files()
    assert probe._served(request(code), environment, library) is not None
    (before,) = [server for _, server in probe._SERVERS.values() if server is not None]
    edited = (*library, (("hooks/edited.py", 1, 1),))
    assert probe._served(request(code), environment, edited) is not None
    (after,) = [server for _, server in probe._SERVERS.values() if server is not None]
    assert after is not before
    assert before.process.poll() is not None  # ended
    assert probe._served(request(code), environment, edited) is not None
    assert [server for _, server in probe._SERVERS.values() if server is not None] == [after]


def test_the_server_ends_with_the_process_that_started_it(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "hook.py").write_text(PLAIN)
    starter = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from ecs_bg.deploy import probe\n"
        "from ecs_bg.deploy.functions import LambdaFunction\n"
        f"probe.probe(LambdaFunction('f', Path({str(code)!r}), 'hook.handler'), [{{'a': 1}}])\n"
        "((_, server),) = probe._SERVERS.values()\n"
        "print(server.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    started = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    try:
        assert started.stdout is not None
        server = int(started.stdout.readline())
        assert Path(f"/proc/{server}").exists()
        started.send_signal(signal.SIGKILL)  # no clean-up of its own
        started.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _running(server):
            assert time.monotonic() < deadline, "the probe server outlived its parent"
            time.sleep(0.05)
    finally:
        if started.poll() is None:
            started.kill()
            started.wait()


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie left for init to reap has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
