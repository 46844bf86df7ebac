"""The pause image: the container that holds a task's network namespace, as ECS's agent has one.

In the ``awsvpc`` network mode "the containers that belong to the same task can communicate over the
localhost interface" ("Amazon ECS task networking options for Fargate", ECS developer guide,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html). ECS gives
each such task a "pause" container that owns the network namespace, and starts the task's containers
inside it; its agent builds that image on the instance itself rather than pulling it (amazon-ecs-agent,
``agent/eni/pause``). Here the image is made the same way, locally and on demand: a scratch image
holding one static program of a few dozen bytes that waits for signals forever. No registry needed.
"""

from __future__ import annotations

import io
import platform
import struct
import tarfile

PAUSE_IMAGE = "ecs-bg-pause:1"
PROGRAM = "/pause"

# Machine code of `for (;;) pause();` per architecture, and its ELF e_machine.
_CODE = {
    # x86_64: mov eax, 34 (pause); syscall; jmp back to the mov.
    "x86_64": (62, bytes.fromhex("b8220000000f05ebf7")),
    # aarch64 has no pause(2): ppoll(NULL, 0, NULL, NULL) (syscall 73) waits for a signal the same way;
    # mov x0..x3, #0; mov x8, #73; svc #0; b back to the first mov.
    "aarch64": (
        183,
        b"".join(
            struct.pack("<I", word)
            for word in (0xD2800000, 0xD2800001, 0xD2800002, 0xD2800003, 0xD2800928, 0xD4000001, 0x17FFFFFA)
        ),
    ),
}
_BASE = 0x400000
_HEADERS = 64 + 56  # the ELF header and one program header


def program(machine: str | None = None) -> bytes:
    """A static ELF executable for ``machine`` (this one's by default); ValueError for another."""
    named = machine or platform.machine()
    arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(named, named)
    if arch not in _CODE:
        raise ValueError(f"no pause program for {named} (x86_64 and aarch64 only)")
    e_machine, code = _CODE[arch]
    size = _HEADERS + len(code)
    header = (
        b"\x7fELF"
        + bytes([2, 1, 1, 0])  # 64-bit, little endian, ELF version 1, System V
        + bytes(8)
        + struct.pack("<HHIQQQIHHHHHH", 2, e_machine, 1, _BASE + _HEADERS, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    )
    # One loadable, readable and executable segment: the whole file.
    segment = struct.pack("<IIQQQQQQ", 1, 5, 0, _BASE, _BASE, size, size, 0x1000)
    return header + segment + code


def image_archive(machine: str | None = None) -> bytes:
    """A tar of the image's one file, for the engine's image import."""
    data = program(machine)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(PROGRAM.lstrip("/"))
        info.size, info.mode = len(data), 0o755
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
