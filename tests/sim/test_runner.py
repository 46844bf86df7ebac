"""The Lambda-like runner: real worker processes, cold then warm, timeouts enforced by killing."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from ecs_bg.deploy.functions import POWERTOOLS_LAYER, LambdaFunction
from ecs_bg.lifecycle.events import lifecycle_event
from ecs_bg.local.forkserver import ForkServers
from ecs_bg.local.lambda_.runner import LambdaRunner
from tests.conftest import LAMBDA_DIR, ROOT

HANDLERS = {
    "raises": "def handler(event, context):\n    raise RuntimeError('boom')\n",
    "sleeps": "import time\ndef handler(event, context):\n    time.sleep(event.get('seconds', 30))\n",
    "noisy": (
        "import os\n"
        "def handler(event, context):\n"
        "    os.write(1, b'straight to fd 1\\n')\n"
        "    print('a print')\n"
        "    return {'hookStatus': 'SUCCEEDED', 'remaining': context.get_remaining_time_in_millis(),"
        " 'name': context.function_name, 'arn': context.invoked_function_arn,"
        " 'mb': context.memory_limit_in_mb}\n"
    ),
    "unserializable": "def handler(event, context):\n    return {'hookStatus': object()}\n",
    "broken": "import no_such_module\n",
}


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


@pytest.fixture(params=["fresh", "forked"])
def runner(request: pytest.FixtureRequest, tmp_path: Path) -> LambdaRunner:
    """Each test twice: workers started as fresh interpreters, and forked from a server (as the
    local world's are)."""
    functions = {}
    for name, source in HANDLERS.items():
        (tmp_path / f"{name}.py").write_text(source)
        function = LambdaFunction.for_entry(tmp_path / f"{name}.py")
        # Half a second for the function that times out: Lambda's timeouts are whole seconds, but
        # the runner's clock is not, and the test need not wait longer for the same proof.
        timeout = 0.5 if name == "sleeps" else 1.5
        functions[name] = dataclasses.replace(function, timeout_seconds=timeout, memory_mb=512)
    # A stack hook, packaged as the stack packages it: with ecs_bg.hooks, on the Powertools layer.
    hook = LambdaFunction.for_entry(LAMBDA_DIR / "before_install_hook.py")
    functions["before-install"] = dataclasses.replace(hook, staged=True, layer_packages=POWERTOOLS_LAYER)
    servers = ForkServers() if request.param == "forked" else None
    made = LambdaRunner(
        functions, environment={"ECS_BG_HOOK_DETAILS": '{"notify": false}'}, cwd=ROOT, fork_servers=servers
    )
    if servers is not None:  # the tests close the runner; the servers are its owner's to close
        close_runner = made.close

        async def close_both() -> None:
            await close_runner()
            await servers.close()

        made.close = close_both  # type: ignore[method-assign]
    return made


def test_a_real_entry_file_cold_then_warm(runner: LambdaRunner) -> None:
    async def twice() -> tuple:
        event = lifecycle_event("PRE_SCALE_UP")
        first = await runner.invoke("before-install", event)
        second = await runner.invoke("before-install", event)
        await runner.close()
        return first, second

    first, second = run(twice())  # type: ignore[misc]
    assert first.response == second.response == {"hookStatus": "SUCCEEDED"}
    assert (first.cold, second.cold) == (True, False)
    assert second.duration_ms < first.duration_ms  # no interpreter to start, no imports
    assert any(line.get("message") == "hook decision" for line in second.logs)


def test_the_context_and_logs_are_lambda_like(runner: LambdaRunner) -> None:
    async def once() -> object:
        try:
            return await runner.invoke("noisy", {})
        finally:
            await runner.close()

    done = run(once())
    response = done.response  # type: ignore[attr-defined]
    assert response["hookStatus"] == "SUCCEEDED"
    assert 1000 < response["remaining"] <= 1500
    assert response["name"] == "noisy"
    assert response["arn"].endswith(":function:noisy")
    assert response["mb"] == 512


def test_an_exception_is_a_function_error(runner: LambdaRunner) -> None:
    async def once() -> object:
        try:
            return await runner.invoke("raises", {})
        finally:
            await runner.close()

    done = run(once())
    assert done.response is None  # type: ignore[attr-defined]
    assert done.error == "RuntimeError: boom"  # type: ignore[attr-defined]


def test_the_timeout_kills_the_worker_and_the_next_call_is_cold(runner: LambdaRunner) -> None:
    async def twice() -> tuple:
        try:
            return await runner.invoke("sleeps", {}), await runner.invoke("sleeps", {"seconds": 0})
        finally:
            await runner.close()

    first, second = run(twice())  # type: ignore[misc]
    assert first.error == "Task timed out after 0.50 seconds"
    assert 450 < first.duration_ms < 4000
    assert second.cold
    assert second.error is None


@pytest.mark.parametrize(
    ("name", "error"),
    [("unserializable", "Runtime.MarshalError"), ("broken", "Runtime.ImportModuleError")],
)
def test_what_lambda_itself_would_reject(runner: LambdaRunner, name: str, error: str) -> None:
    async def once() -> object:
        try:
            return await runner.invoke(name, {})
        finally:
            await runner.close()

    done = run(once())
    assert done.error.startswith(error)  # type: ignore[attr-defined]


def test_concurrent_invocations_get_their_own_environments(runner: LambdaRunner) -> None:
    async def together() -> list:
        try:
            event = lifecycle_event("PRE_SCALE_UP")
            return list(await asyncio.gather(*(runner.invoke("before-install", event) for _ in range(3))))
        finally:
            await runner.close()

    results = run(together())
    assert [r.response for r in results] == [{"hookStatus": "SUCCEEDED"}] * 3  # type: ignore[attr-defined]
    assert all(r.cold for r in results)  # type: ignore[attr-defined]


CHATTY = """\
import json, os, sys
print("before the handler runs")  # init output: the first invocation's log

def handler(event, context):
    print(1)
    print(json.dumps({"hookStatus": "FAILED"}))  # a line that looks like an answer is only a log line
    print("[1, 2]", file=sys.stderr)
    os.write(1, b"straight to fd 1 ")
    os.write(2, b"and fd 2\\n")
    return {"hookStatus": "SUCCEEDED", "env": {k: os.environ.get(k) for k in (
        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "LAMBDA_TASK_ROOT", "_HANDLER", "MINE", "AWS_LAMBDA_INITIALIZATION_TYPE")},
        "stream": context.log_stream_name}
"""


def test_what_a_function_prints_is_its_log_and_never_the_answer(tmp_path: Path) -> None:
    (tmp_path / "chatty.py").write_text(CHATTY)
    function = dataclasses.replace(
        LambdaFunction.for_entry(tmp_path / "chatty.py", name="chatty-fn"), environment={"MINE": "x"}
    )
    runner = LambdaRunner({"chatty": function}, environment={"AWS_REGION": "eu-west-3"})

    async def twice() -> tuple:
        try:
            return await runner.invoke("chatty", {}), await runner.invoke("chatty", {})
        finally:
            await runner.close()

    first, second = run(twice())  # type: ignore[misc]
    assert first.response["hookStatus"] == "SUCCEEDED"
    assert first.output.splitlines() == [
        "before the handler runs",
        "1",
        '{"hookStatus": "FAILED"}',
        "[1, 2]",
        "straight to fd 1 and fd 2",
    ]
    assert second.output.splitlines() == first.output.splitlines()[1:]  # init output only once
    assert (first.init_output, second.init_output) == ("before the handler runs\n", "")
    env = first.response["env"]
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-3"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "chatty-fn"
    assert (env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], env["AWS_LAMBDA_FUNCTION_VERSION"]) == ("256", "$LATEST")
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == first.log_group == "/aws/lambda/chatty-fn"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == first.log_stream == first.response["stream"]
    assert "/[$LATEST]" in first.log_stream
    assert second.log_stream == first.log_stream  # one execution environment, one stream
    assert (env["LAMBDA_TASK_ROOT"], env["_HANDLER"], env["MINE"]) == (str(tmp_path), "chatty.handler", "x")
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"


def test_a_provisioned_environment_is_initialized_ahead_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "chatty.py").write_text(CHATTY)
    runner = LambdaRunner({"chatty": LambdaFunction.for_entry(tmp_path / "chatty.py", name="chatty-fn")})

    async def provisioned() -> tuple:
        try:
            initialized = await runner.provision("chatty")
            again = await runner.provision("chatty")  # one idle environment is enough
            return initialized, again, await runner.invoke("chatty", {})
        finally:
            await runner.close()

    initialized, again, done = run(provisioned())  # type: ignore[misc]
    assert initialized.output == "before the handler runs\n"
    assert (initialized.log_group, again) == ("/aws/lambda/chatty-fn", None)
    assert not done.cold
    assert done.init_output == ""
    assert done.log_stream == initialized.log_stream
    assert done.response["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency"


def test_a_timed_out_invocation_keeps_what_it_printed(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(
        "import time\ndef handler(event, context):\n    print('started')\n    time.sleep(30)\n"
    )
    function = dataclasses.replace(LambdaFunction.for_entry(tmp_path / "slow.py"), timeout_seconds=0.5)
    runner = LambdaRunner({"slow": function})

    async def once() -> object:
        try:
            return await runner.invoke("slow", {})
        finally:
            await runner.close()

    done = run(once())
    assert done.error == "Task timed out after 0.50 seconds"  # type: ignore[attr-defined]
    assert done.output == "started\n"  # type: ignore[attr-defined]


def test_the_handler_module_imports_as_lambda_imports_it(tmp_path: Path) -> None:
    # A helper beside the entry file, and a dataclass under postponed annotations (which looks its
    # module up in sys.modules), with Lambda's handler naming.
    (tmp_path / "helper.py").write_text("ANSWER = 'SUCCEEDED'\n")
    (tmp_path / "app.py").write_text(
        "from __future__ import annotations\n"
        "from dataclasses import dataclass\n"
        "from helper import ANSWER\n"
        "@dataclass\nclass Settings:\n    status: str = ANSWER\n"
        "def lambda_handler(event, context):\n    return {'hookStatus': Settings().status}\n"
    )
    runner = LambdaRunner({"app": LambdaFunction("app", tmp_path, "app.lambda_handler")})

    async def once() -> object:
        try:
            return await runner.invoke("app", {})
        finally:
            await runner.close()

    assert run(once()).response == {"hookStatus": "SUCCEEDED"}  # type: ignore[attr-defined]
