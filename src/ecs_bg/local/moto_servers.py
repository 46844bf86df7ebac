"""moto's servers for this process's local worlds: a world takes one as it starts and gives it back as
it stops.

A new server costs 0.6 to 0.75 s of CPU (moto's imports, SSM's first answer), and each service's
first request imports that service. A process that makes world after world (``ecs-bg simulate`` run
in a test session, a fault suite) paid all of it for each world. A server given back is kept, and
the next world of this process with the same environment takes it: emptied by moto's own reset
(``POST /moto-api/reset``, which makes every backend of every account and region new) and warmed for
that world's region, for about 0.01 s of CPU. A server that has exited, or does not answer its
reset, is killed and a new one started. Either way a world starts from an empty account.

Every start, reset and kill runs on one thread that lives as long as the process. A server is
started with the parent-death signal, which the kernel sends when the *thread* that started it ends
(``parent_death``). One thread also orders each take after the give-back before it. Servers nobody
holds are killed when the process exits (atexit). Without that exit, the parent-death signal and
moto's own watch of its parent (``moto_server.exit_with``) end them.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import contextlib
import os
import secrets
import subprocess
import threading
import urllib.request
from collections.abc import Mapping

from ecs_bg.local.moto_server import COMMAND, PARENT_ENV, TOKEN_ENV, TOKEN_HEADER, warm_up
from ecs_bg.local.parent_death import ends_with_parent
from ecs_bg.local.ports import free_port

Environment = frozenset[tuple[str, str]]

# moto's settings that its server reads by names other than MOTO_* (moto/settings.py).
MOTO_SETTINGS = frozenset(
    {
        "INITIAL_NO_AUTH_ACTION_COUNT",
        "DEFAULT_CONTAINER_REGISTRY",
        "S3_IGNORE_SUBDOMAIN_BUCKETNAME",
        "S3_UPLOAD_PART_MIN_SIZE",
        "SF_EXECUTION_HISTORY_TYPE",
    }
)
# What any interpreter needs to start and find its libraries: PATH, HOME (the user's site-packages,
# where a `pip install --user` put moto), the locale, time zone and temporary folder.
PROCESS_BASICS = frozenset({"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LANGUAGE"})


def moto_environment(environment: Mapping[str, str]) -> Environment:
    """What moto's server is given of ``environment``: what a process needs (PROCESS_BASICS, and what an
    interpreter reads as it starts, PYTHON* and LC_*) and moto's settings (MOTO_*, MOTO_SETTINGS).
    Nothing else: not the developer's AWS credentials or profile, nor other tools' tokens; and a test
    session's per-test variables do not keep the next world from taking the kept server."""
    return frozenset(
        {
            # EC2's ~1,300 public AMIs, which moto loads whenever it makes EC2's backend (SSM's makes it
            # too): nothing a task or hook does locally is given an AMI. A user may still ask for them.
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
            **{
                name: value
                for name, value in environment.items()
                if name in PROCESS_BASICS
                or name in MOTO_SETTINGS
                or name.startswith(("PYTHON", "LC_", "MOTO_"))
            },
        }.items()
    )


class MotoServer:
    """One moto server process on a loopback port, answering only requests that carry ``token``."""

    def __init__(self, environment: Environment, region: str) -> None:
        self.started_with = environment
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_urlsafe(32)
        self.output: collections.deque[str] = collections.deque(maxlen=50)
        self._process = subprocess.Popen(  # noqa: S603 - our own module, with this interpreter
            COMMAND,
            env={
                **dict(environment),
                "PYTHONUNBUFFERED": "1",
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "REGION": region,  # what it warms up for (moto_server.warm_up)
                TOKEN_ENV: self.token,
                PARENT_ENV: str(os.getpid()),  # so that it ends with this process, however this one ends
            },
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches ecs-bg, which stops it
            preexec_fn=ends_with_parent(),
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        # Read until EOF even when nobody looks, so moto never blocks on a full pipe.
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line.decode(errors="replace").rstrip("\n"))

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def reset(self) -> bool:
        """Empty every backend, as a new server's; whether moto said it had."""
        request = urllib.request.Request(  # noqa: S310 - loopback, our own server
            f"{self.url}/moto-api/reset", method="POST", headers={TOKEN_HEADER: self.token}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return bool(answer.status == 200)
        except OSError:  # urllib's HTTPError too
            return False

    def kill(self) -> None:
        # Killed, not stopped: its account is thrown away with it, so there is nothing to let it
        # finish, and it goes at once instead of after werkzeug's next poll and moto's teardown.
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        self._process.wait()


class MotoServers:
    """The servers of this process's worlds: at most one kept while no world holds it."""

    def __init__(self) -> None:
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="moto-servers")
        self._kept: MotoServer | None = None
        atexit.register(self._kill_kept)

    def take(self, region: str) -> concurrent.futures.Future[MotoServer]:
        """A server for a world in ``region``: the kept one if it was started with what
        ``moto_environment`` keeps of this process's environment now, else a new one, which the caller
        waits for until it answers HTTP."""
        return self._thread.submit(self._take, moto_environment(os.environ), region)

    def give_back(self, server: MotoServer) -> None:
        """Keep ``server`` for the next world; it is reset when taken."""
        self._thread.submit(self._keep, server)

    def _take(self, environment: Environment, region: str) -> MotoServer:
        kept, self._kept = self._kept, None
        if kept is not None:
            if kept.started_with == environment and kept.running and kept.reset():
                warm_up(kept.url + "/", region, kept.token)
                return kept
            kept.kill()  # dead, or started otherwise: the server this world gives back replaces it
        return MotoServer(environment, region)

    def _keep(self, server: MotoServer) -> None:
        if not server.running:
            server.kill()  # reaped
            return
        self._kill_kept()
        self._kept = server

    def _kill_kept(self) -> None:
        if self._kept is not None:
            self._kept.kill()
            self._kept = None


MOTO_SERVERS = MotoServers()
