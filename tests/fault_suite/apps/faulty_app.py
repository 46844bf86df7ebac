"""A small service that misbehaves on cue, as a user writes one to rehearse a failure.

It serves every path with 200 and ``/health`` for the load balancer, on ``PORT``. ``FAULT`` (from the
task definition's environment, so blue and green may differ) lists what goes wrong, comma-separated:

  exit-at-start          exit 1 before listening
  slow-start=S           listen only after S seconds
  health-503             /health answers 503
  health-503-until=S     /health answers 503 for the first S seconds after it starts listening
  health-fails-after=S   /health answers 500 from S seconds after it starts listening
  slow-health=S          /health answers after S seconds
  errors                 every other path answers 500
  latency=S              every other path answers after S seconds
  die-after=S            exit 1 S seconds after it starts listening
  die-once-after=S       the same, but only the first task of this simulation (a marker file says so)
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FAULTS = dict(
    (part.partition("=")[0].strip(), part.partition("=")[2].strip())
    for part in os.environ.get("FAULT", "").split(",")
    if part.strip()
)


LISTENING = time.monotonic()  # reset once the server listens


def seconds(name: str) -> float:
    return float(FAULTS[name]) if name in FAULTS else 0.0


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/health"):
            time.sleep(seconds("slow-health"))
            status = 503 if "health-503" in FAULTS else 200
            if time.monotonic() - LISTENING < seconds("health-503-until"):
                status = 503
            if "health-fails-after" in FAULTS and time.monotonic() - LISTENING >= seconds(
                "health-fails-after"
            ):
                status = 500
        else:
            time.sleep(seconds("latency"))
            status = 500 if "errors" in FAULTS else 200
        body = f'{{"revision": "{os.environ.get("APP_REVISION", "")}"}}'.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def simulation() -> str:
    """The simulation this task is part of, as the task can tell: its parent, named by pid and start
    time (a pid is reused), and the local endpoint it was given. The parent alone is not enough: it is
    the simulator, or its revision's fork server, and a test's process runs many simulations in turn;
    no two simulations running at once share an endpoint."""
    parent = os.getppid()
    endpoint = urlsplit(os.environ.get("AWS_ENDPOINT_URL", "")).port
    return f"{parent}-{started(parent)}-{endpoint}"


def started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), None if there is none."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def sweep(folder: Path) -> None:
    """Remove the markers of simulations whose parent has ended, which nothing reads again: the
    temporary folder does not fill with one per run of the suite."""
    for marker in folder.glob("faulty-app-*.died"):
        pid, when = marker.name.split("-")[2:4]
        if started(int(pid)) != when:
            marker.unlink(missing_ok=True)


def die_later(after: float) -> None:
    threading.Timer(after, lambda: os._exit(1)).start()


def main() -> None:
    if "exit-at-start" in FAULTS:
        sys.exit(1)
    time.sleep(seconds("slow-start"))
    server = ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler)
    global LISTENING
    LISTENING = time.monotonic()
    if "die-after" in FAULTS:
        die_later(seconds("die-after"))
    if "die-once-after" in FAULTS:
        # One marker per simulation: only the first task dies.
        folder = Path(tempfile.gettempdir())
        sweep(folder)
        marker = folder / f"faulty-app-{simulation()}.died"
        try:
            marker.touch(exist_ok=False)
            die_later(seconds("die-once-after"))
        except FileExistsError:
            pass
    server.serve_forever()


if __name__ == "__main__":
    main()
