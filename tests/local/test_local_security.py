"""``ecs-bg local``'s endpoint attacked over real HTTP, as a web page would attack it, and what its
tasks and hook workers see of the shell that started it: exactly their own environment.

One local ECS (LocalEcsServer, in this process, on its own loop) serves the module. Before each
spawn the test's environment holds secret-looking values a developer's shell would hold; none may
reach a task or a hook."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecs_bg.deploy.functions import FunctionOverride
from ecs_bg.local.moto_server import TOKEN_HEADER
from ecs_bg.local.options import LocalOptions
from ecs_bg.local.server import LocalEcsServer
from tests.cloud import TEMPLATE
from tests.local.raw_http import Loop, send
from tests.sigv4 import signed_headers

ALLOWED = "http://localhost:5173"
EVIL = "https://evil.example"
REGION = "ap-northeast-1"
RUN_TASK = "AmazonEC2ContainerServiceV20141113.RunTask"
LIST_CLUSTERS = {
    "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
    "Content-Type": "application/x-amz-json-1.1",
}
# Written by the reporting task and hook: the names and values their process started with, as
# execve gave them (/proc/self/environ: what Python itself adds later, such as PEP 538's LC_CTYPE,
# is not there) and as os.environ shows them.
REPORT = """\
import json, os, pathlib

def environment():
    raw = pathlib.Path("/proc/self/environ").read_bytes().split(b"\\0")
    initial = dict(item.decode().split("=", 1) for item in raw if item)
    return {"initial": initial, "environ": sorted(os.environ), "values": dict(os.environ)}

def handler(event, context):
    return environment()

if __name__ == "__main__":
    import sys
    target = pathlib.Path(sys.argv[1])
    target.with_suffix(".tmp").write_text(json.dumps(environment()))
    target.with_suffix(".tmp").rename(target)
"""
SECRETS = {
    "AWS_SESSION_TOKEN": "LEAKED-session-token",
    "AWS_SECRET_ACCESS_KEY": "LEAKED-secret-key",
    "AWS_ACCESS_KEY_ID": "LEAKED-key-id",
    "AWS_PROFILE": "LEAKED-profile",
    "GITHUB_TOKEN": "LEAKED-github",
    "MY_APP_SECRET": "LEAKED-made-up",
}
# What ECS sets for a task here (ecs_bg.local.runtime.process.ProcessRuntime.environment), and what the
# local runtime adds to start a process (PATH) and to own its port and output.
ECS_SETS = {"AWS_EXECUTION_ENV", "AWS_REGION", "AWS_DEFAULT_REGION"}
LOCAL_ACCESS = {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
PROCESS = {"PATH", "PORT", "HOST", "PYTHONUNBUFFERED"}
# Lambda's defined runtime environment variables (Lambda developer guide).
LAMBDA_SETS = {
    "_HANDLER",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
    "LANG",
    "PATH",
    "LD_LIBRARY_PATH",
}
# What the local world gives every hook (the local endpoint) and the worker. The stack's settings
# (ECS_BG_TEST_URL, …) are the template's functions' own environment, not given to every function.
WORLD_GIVES = {
    "AWS_ENDPOINT_URL",
    "AWS_SDK_UA_APP_ID",
    "PYTHONUNBUFFERED",
    "POWERTOOLS_SERVICE_NAME",
}


class Running:
    def __init__(self, server: LocalEcsServer, loop: Loop, folder: Path) -> None:
        self.server, self.loop, self.folder = server, loop, folder
        self.url = server.url
        self.port = server.aws.policy.port
        # Made before any test puts a made-up AWS_PROFILE in the environment, which a new client would
        # look for (the world's own, for the hooks' logs, too).
        self.ecs = boto3.client(  # type: ignore[call-overload]
            "ecs",
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        # Through the endpoint to moto, which starts meanwhile: once this answers, moto serves.
        server.world.client("logs").describe_log_groups()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("security")
    (folder / "report.py").write_text(REPORT)
    reporter = FunctionOverride(code=str(folder), handler="report.handler", environment={"FUNCTION_OWN": "1"})
    options = LocalOptions(
        region=REGION, allowed_origins=(ALLOWED,), functions={"env-reporter": reporter}, template=TEMPLATE
    )
    loop = Loop()
    server = LocalEcsServer(options)
    loop.run(server.__aenter__())
    try:
        yield Running(server, loop, folder)
    finally:
        loop.run(server.close())
        loop.close()


@pytest.fixture
def shell_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def run_task_request(local: Running, command: list[str], family: str = "security") -> bytes:
    local.ecs.register_task_definition(
        family=family,
        containerDefinitions=[
            {"name": "app", "image": "app:1", "environment": [{"name": "FROM_TASK_DEFINITION", "value": "1"}]}
        ],
    )
    override = {
        "name": "app",
        "command": command,
        "environment": [{"name": "FROM_RUN_TASK_OVERRIDE", "value": "1"}],
    }
    request = {
        "cluster": "default",
        "taskDefinition": family,
        "overrides": {"containerOverrides": [override]},
    }
    return json.dumps(request).encode()


def until(probe: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def test_a_foreign_origin_run_task_is_refused_and_runs_nothing(local: Running, tmp_path: Path) -> None:
    refused_marker, marker = tmp_path / "refused-ran", tmp_path / "ran"
    body = run_task_request(local, [sys.executable, "-c", f"open({str(refused_marker)!r}, 'w')"])
    headers = {"X-Amz-Target": RUN_TASK, "Content-Type": "application/x-amz-json-1.1"}
    before = set(local.server.world.tasks.processes)
    tasks = local.ecs.list_tasks(cluster="default", desiredStatus="STOPPED")["taskArns"]
    # What the page could send if a preflight had granted it (even with a well-formed signature).
    signed = signed_headers("POST", local.url + "/", body, headers, region=REGION)
    for page in (EVIL, "null"):
        answer = send(local.url, headers={**signed, "Origin": page}, body=body)
        assert answer.status == 403
        assert json.loads(answer.body)["__type"] == "AccessDeniedException"
        assert answer.cors == {}
    # A form or a script without an SDK: no signature.
    assert send(local.url, headers=headers, body=body).status == 403
    assert set(local.server.world.tasks.processes) == before  # no process was started
    ecs = local.ecs
    assert ecs.list_tasks(cluster="default", desiredStatus="STOPPED")["taskArns"] == tasks
    # The same request from the AWS CLI's or an SDK's side of things runs: the test can fail. Once
    # its task has run, any the refused requests had started (before it) would have run too.
    allowed = run_task_request(local, [sys.executable, "-c", f"open({str(marker)!r}, 'w')"])
    signed = signed_headers("POST", local.url + "/", allowed, headers, region=REGION)
    assert send(local.url, headers=signed, body=allowed).status == 200
    until(marker.exists)
    assert not refused_marker.exists()


def test_a_foreign_origin_preflight_gets_no_cors(local: Running) -> None:
    preflight = {
        "Origin": EVIL,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target",
    }
    answer = send(local.url, "OPTIONS", headers=preflight)
    assert (answer.status, answer.cors) == (403, {})
    # moto's own port, should a page find it, answers nothing but the endpoint's proxying...
    direct = send(local.server.aws.moto_url, "OPTIONS", headers=preflight)
    assert (direct.status, direct.cors) == (403, {})
    # ...for moto itself grants any origin, as the endpoint would without its policy.
    proxied = {**preflight, TOKEN_HEADER: local.server.aws.moto_token}
    moto = send(local.server.aws.moto_url, "OPTIONS", headers=proxied)
    assert moto.cors.get("access-control-allow-origin") == EVIL


def test_moto_s_cors_headers_never_pass(local: Running) -> None:
    body = b"{}"
    headers = {
        "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
        "Content-Type": "application/x-amz-json-1.1",
    }
    signed = signed_headers("POST", local.url + "/", body, headers, service="logs", region=REGION)
    own = send(local.url, headers={**signed, "Origin": local.url}, body=body)
    assert own.status == 200
    assert "logGroups" in json.loads(own.body)
    assert own.cors == {}
    as_proxied = {**signed, "Origin": local.url, TOKEN_HEADER: local.server.aws.moto_token}
    direct = send(local.server.aws.moto_url, headers=as_proxied, body=body)
    assert direct.cors  # what moto adds, and the endpoint takes off
    allowed = send(local.url, headers={**signed, "Origin": ALLOWED}, body=body)
    assert allowed.cors["access-control-allow-origin"] == ALLOWED


def test_a_rebinding_host_is_refused(local: Running) -> None:
    body = b"{}"
    headers = LIST_CLUSTERS
    rebound = f"rebind.evil.example:{local.port}"
    signed = signed_headers("POST", f"http://{rebound}/", body, headers, region=REGION)
    assert send(local.url, headers={**signed, "Host": rebound}, body=body).status == 403
    for host in (f"127.0.0.1:{local.port}", f"localhost:{local.port}", f"[::1]:{local.port}"):
        named = signed_headers("POST", f"http://{host}/", body, headers, region=REGION)
        answer = send(local.url, headers={**named, "Host": host}, body=body)
        assert answer.status == 200, host
        assert "clusterArns" in json.loads(answer.body)


def test_an_unsigned_or_garbage_signed_request_is_refused(local: Running) -> None:
    body = b"{}"
    headers = LIST_CLUSTERS
    unsigned = send(local.url, headers=headers, body=body)
    assert (unsigned.status, json.loads(unsigned.body)["__type"]) == (
        403,
        "MissingAuthenticationTokenException",
    )
    garbage = send(local.url, headers={**headers, "Authorization": "garbage"}, body=body)
    assert (garbage.status, json.loads(garbage.body)["__type"]) == (403, "IncompleteSignatureException")
    query = send(
        local.url,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=b"Action=DescribeListeners&Version=2015-12-01",
    )
    assert query.status == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in query.body


def test_an_allowed_extra_origin_works(local: Running) -> None:
    preflight = {
        "Origin": ALLOWED,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-amz-date,x-amz-target",
    }
    granted = send(local.url, "OPTIONS", headers=preflight)
    assert granted.status == 200
    assert granted.cors["access-control-allow-origin"] == ALLOWED
    body = b"{}"
    headers = LIST_CLUSTERS
    signed = signed_headers("POST", local.url + "/", body, headers, region=REGION)
    answer = send(local.url, headers={**signed, "Origin": ALLOWED}, body=body)
    assert answer.status == 200
    assert "clusterArns" in json.loads(answer.body)
    assert answer.cors["access-control-allow-origin"] == ALLOWED


def test_a_task_gets_exactly_its_environment_and_what_ecs_sets(
    local: Running, shell_secrets: None, tmp_path: Path
) -> None:
    (tmp_path / "report.py").write_text(REPORT)
    out = tmp_path / "environment.json"
    body = run_task_request(local, [sys.executable, str(tmp_path / "report.py"), str(out)], family="reporter")
    answer = local.ecs.run_task(**json.loads(body))
    assert answer["failures"] == []
    report = json.loads(until(lambda: out.exists() and out.read_text()))
    initial = report["initial"]
    assert set(initial) == ECS_SETS | LOCAL_ACCESS | PROCESS | {
        "FROM_TASK_DEFINITION",
        "FROM_RUN_TASK_OVERRIDE",
    }
    assert initial["AWS_EXECUTION_ENV"] == "AWS_ECS_FARGATE"
    assert initial["AWS_REGION"] == initial["AWS_DEFAULT_REGION"] == REGION
    assert initial["AWS_ENDPOINT_URL"] == local.url  # the app's own AWS calls stay here
    assert (initial["AWS_ACCESS_KEY_ID"], initial["AWS_SECRET_ACCESS_KEY"]) == ("local", "local")
    assert not [value for value in initial.values() if "LEAKED" in value]
    assert set(report["environ"]) - set(initial) <= {"LC_CTYPE"}  # Python's own PEP 538 coercion


def test_a_hook_gets_exactly_lambda_s_variables_its_own_and_local_access(
    local: Running, shell_secrets: None
) -> None:
    done = local.loop.run(local.server.world.lambda_.invoke("env-reporter", {}))
    assert done.error is None, done.output
    # A worker forked from the fork server (local/forkserver.py) has its environment set after the
    # fork: /proc/self/environ still shows what the server started with (its interpreter's startup
    # variables, a part of what the worker has), and os.environ is the worker's own.
    started = done.response["initial"]
    initial = {name: value for name, value in done.response["values"].items() if name != "LC_CTYPE"}
    assert started.items() <= done.response["values"].items()
    assert set(initial) == LAMBDA_SETS | WORLD_GIVES | {"FUNCTION_OWN"}
    assert (initial["AWS_ACCESS_KEY_ID"], initial["AWS_SECRET_ACCESS_KEY"]) == ("local", "local")
    assert initial["AWS_SESSION_TOKEN"] == "local"
    assert initial["AWS_ENDPOINT_URL"] == local.url
    assert initial["PATH"] == "/usr/local/bin:/usr/bin/:/bin:/opt/bin"  # Lambda's, not the shell's
    assert (initial["LANG"], initial["TZ"]) == ("en_US.UTF-8", ":UTC")
    assert initial["LAMBDA_TASK_ROOT"] == str(local.folder)
    assert not [value for value in initial.values() if "LEAKED" in value]


PAGE = """<!doctype html>
<html><body>trying<script>
const request = {
  method: "POST",
  headers: {
    "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.RunTask",
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Date": "20250101T000000Z",
    // A script can forge a signature's form; only a preflight the endpoint grants lets it send one.
    "Authorization": "AWS4-HMAC-SHA256 Credential=page/20250101/ap-northeast-1/ecs/aws4_request, "
      + "SignedHeaders=host;x-amz-date, Signature=" + "0".repeat(64),
  },
  body: BODY,
};
fetch("ENDPOINT/", request)
  .then((answer) => "reached " + answer.status)
  .catch((error) => "blocked " + error.name + ": " + error.message)
  .then((text) => { document.body.innerText = "done: " + text; });
</script></body></html>
"""


@pytest.mark.slow  # a real browser
def test_a_page_from_another_local_port_cannot_run_a_task(local: Running, tmp_path: Path) -> None:
    """A real browser (headless Chromium) opens a page served from another port of this machine;
    its fetch() of RunTask is stopped at the preflight, and nothing runs. With the page's origin
    allowed, the same page reaches the endpoint: what the browser did is the policy's doing."""
    from aiohttp import web

    from tests.chromium import chromium, open_url

    chromium()  # a skip here, a failure in CI, before anything starts
    marker = tmp_path / "ran"
    body = run_task_request(local, [sys.executable, "-c", f"open({str(marker)!r}, 'w')"], family="browser")
    html = PAGE.replace("BODY", json.dumps(body.decode())).replace("ENDPOINT", local.url)

    async def the_page(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    async def serve() -> tuple[web.AppRunner, int]:
        app = web.Application()
        app.router.add_get("/", the_page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    runner, port = local.loop.run(serve())
    page_origin = f"http://127.0.0.1:{port}"
    policy = local.server.aws.policy
    before = set(local.server.world.tasks.processes)
    try:
        page = open_url(page_origin + "/", until_text="done:")
        assert "done: blocked TypeError" in page.text, page.text
        assert any("blocked by CORS policy" in error for error in page.errors), page.errors
        time.sleep(1.0)  # a task would have started by now
        assert not marker.exists()
        assert set(local.server.world.tasks.processes) == before

        allowed = policy.extra_origins
        policy.extra_origins = allowed | {page_origin}
        try:
            page = open_url(page_origin + "/", until_text="done:")
        finally:
            policy.extra_origins = allowed
        assert "done: reached 200" in page.text, page.text
        until(marker.exists)
    finally:
        local.loop.run(runner.cleanup())
