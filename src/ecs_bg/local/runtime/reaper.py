"""``python -m ecs_bg.local.runtime.reaper RUN PARENT``: removes a Docker run's containers and volumes
once the ``ecs-bg`` that made them (pid PARENT) has gone, however it went.

``ecs-bg local`` removes its containers when it ends by SIGTERM or Ctrl-C. Killed outright (SIGKILL,
the OOM killer), it cannot, and the Docker daemon, not ``ecs-bg``, is their parent: no parent-death
signal reaches them, and they would run on until the next start swept them. This process, started
with the run in a session of its own, waits for its parent to go, then removes what the run labelled
(``io.ecs-bg.run=RUN``), as a clean end does. Should it be killed too, the next start still sweeps.
"""

from __future__ import annotations

import json
import sys
from urllib.parse import quote

from ecs_bg.local.parent_death import until_gone
from ecs_bg.local.runtime.docker import RUN_LABEL
from ecs_bg.local.runtime.engine import EngineAddress, request

WATCH_EVERY = 0.5  # seconds between looks at the parent


def remove_run(address: EngineAddress, run_id: str) -> int:
    """Kill and remove the run's containers, then its volumes; how many containers went."""
    filters = {"filters": json.dumps({"label": [f"{RUN_LABEL}={run_id}"]})}
    status, body = request(address, "GET", "/containers/json", {"all": "1", **filters})
    containers = json.loads(body) if status == 200 else []
    for container in containers:
        request(address, "DELETE", f"/containers/{quote(container['Id'])}", {"force": "1", "v": "1"}, 60)
    status, body = request(address, "GET", "/volumes", filters)
    for volume in (json.loads(body).get("Volumes") or []) if status == 200 else []:
        request(address, "DELETE", f"/volumes/{quote(volume['Name'])}")
    return len(containers)


def main(run_id: str, parent: int) -> int:
    until_gone(parent, WATCH_EVERY)
    try:
        remove_run(EngineAddress.from_environ(), run_id)
    except (OSError, ValueError) as error:  # no engine left to ask: the next start sweeps
        print(f"ecs-bg: could not remove run {run_id}'s containers: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
