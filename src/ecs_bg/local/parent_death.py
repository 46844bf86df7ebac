"""Host processes that end with the ``ecs-bg`` that started them, however it ends.

``ecs-bg local`` stops every task and Lambda worker it started when it ends by SIGTERM or Ctrl-C. A
SIGKILL (``kill -9``, the OOM killer, a closed CI job) gives it no such chance, and its children,
each in a session of its own so that Ctrl-C reaches ``ecs-bg`` first, would keep their ports and
memory on a developer's machine for good. On Linux the kernel ends them instead:
``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (man 2 prctl) asks for SIGKILL when the thread that started
the process ends, and the event loop that starts them runs in ``ecs-bg``'s main thread. A command
that forks its server and exits (``sh -c 'app &'``) leaves the grandchild, as the man page says: only
the child itself is signalled. Where there is no prctl (macOS), children are stopped on a clean end
only, except those of this tool that watch for their parent themselves (``until_gone``: moto's server,
the Docker runtime's reaper).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl: Callable[..., int] = libc.prctl
    return prctl


# Looked up once, in the parent: between fork and exec the child only calls it.
_PRCTL = _prctl()


def ends_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess``/``asyncio.create_subprocess_exec`` that has the child
    killed when its parent ends; None where the platform has no such request."""
    if _PRCTL is None:
        return None
    prctl = _PRCTL
    parent = os.getpid()

    def in_child() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # The parent may have died between fork and prctl, before the request could apply.
        if os.getppid() != parent:
            os._exit(1)

    return in_child


def until_gone(parent: int, every: float) -> None:
    """Return once ``parent`` (the ecs-bg that started this process) has gone, however it ended: an
    orphan is adopted by another process, so this one's parent changes."""
    while os.getppid() == parent:
        time.sleep(every)
