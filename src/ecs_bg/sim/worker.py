"""A Lambda execution environment for one hook entry file: ``python -m ecs_bg.sim.worker ENTRY``.

It imports the entry file once (the cold start), then serves invocations read as JSON lines on
stdin, answering each with a JSON line on the protocol channel. The handler's own stdout (its
logs) is captured per invocation and sent back, as CloudWatch Logs would receive it.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from ecs_bg.sim.invoke import invoke, load_hook
from ecs_bg.sim.lambda_context import LocalLambdaContext


def main(entry: str) -> int:
    # Answers go to a private copy of fd 1; anything else written to fd 1 lands on stderr instead
    # of corrupting the protocol.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    try:
        hook = load_hook(Path(entry))
        protocol.write(json.dumps({"ready": True}) + "\n")
    except Exception as error:  # noqa: BLE001 - an import error is the init error Lambda reports
        protocol.write(json.dumps({"ready": False, "error": f"Runtime.ImportModuleError: {error}"}) + "\n")
        return 1
    for line in sys.stdin:
        request = json.loads(line)
        context = LocalLambdaContext(**request["context"])
        try:
            done = invoke(hook, request["event"], context)
            answer = {"response": done.response, "durationMs": done.duration_ms, "logs": done.logs}
        except Exception as error:  # noqa: BLE001 - Lambda turns an escaped exception into a function error
            frames = traceback.format_exception(error)
            answer = {"error": f"{type(error).__name__}: {error}", "trace": frames[-3:], "logs": []}
        try:
            protocol.write(json.dumps(answer) + "\n")
        except (TypeError, ValueError) as error:  # a response Lambda could not serialize either
            protocol.write(json.dumps({"error": f"Runtime.MarshalError: {error}", "logs": []}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
