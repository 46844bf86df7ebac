"""Ports for what ecs-bg starts are chosen below the ephemeral range, where outgoing connections (a
health check each) never take them between the choice and the bind; one in use is passed over."""

from __future__ import annotations

import random
import socket
import subprocess
import sys

import pytest

from ecs_bg.local import ports
from ecs_bg.local.ports import FIRST, ephemeral_start, free_port


def test_a_port_below_the_ephemeral_range_that_binds() -> None:
    chosen = {free_port() for _ in range(20)}
    assert all(FIRST <= port < ephemeral_start() for port in chosen), chosen
    for port in chosen:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_outgoing_connections_take_no_port_it_chooses() -> None:
    """What took a chosen port before: the kernel gives an outgoing connection a source port from the
    ephemeral range, never from where ports are chosen."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", free_port()))
        server.listen(64)
        clients = [socket.create_connection(server.getsockname()) for _ in range(50)]
        try:
            sources = {client.getsockname()[1] for client in clients}
            assert all(port >= ephemeral_start() for port in sources), sources
        finally:
            for client in clients:
                client.close()


def test_a_port_in_use_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    real = random.randrange
    offers: list[int] = []

    def offer(low: int, high: int) -> int:  # the held port twice, then as before
        offers.append(taken if len(offers) < 2 else real(low, high))
        return offers[-1]

    with socket.socket() as held:
        held.bind(("127.0.0.1", free_port()))
        taken = held.getsockname()[1]
        monkeypatch.setattr(random, "randrange", offer)
        assert free_port() == offers[-1] != taken
        assert offers[:2] == [taken, taken]


def test_the_kernels_choice_where_the_ephemeral_range_leaves_no_room(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "ephemeral_start", lambda: 1024)
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


CHOOSE_IN_ANOTHER_PROCESS = """
import random, sys
from ecs_bg.local.ports import free_port
offers = []
real = random.randrange
def offer(low, high):  # the claimed port first, then as before
    offers.append(int(sys.argv[1]) if not offers else real(low, high))
    return offers[-1]
random.randrange = offer
print(free_port(), offers[0])
"""


def test_a_port_chosen_here_is_not_chosen_by_another_process_before_it_is_bound() -> None:
    """What took a chosen port once: another ecs-bg process (another test worker) chose it too between
    this choice and the task's bind, and health checks reached the other process's task."""
    claimed = free_port()
    ran = subprocess.run(
        [sys.executable, "-c", CHOOSE_IN_ANOTHER_PROCESS, str(claimed)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    chosen, offered = map(int, ran.stdout.split())
    assert offered == claimed
    assert chosen != claimed


def test_a_port_is_not_chosen_twice_here_while_claimed(monkeypatch: pytest.MonkeyPatch) -> None:
    first = free_port()
    real = random.randrange
    offers: list[int] = []

    def offer(low: int, high: int) -> int:  # the claimed port twice, then as before
        offers.append(first if len(offers) < 2 else real(low, high))
        return offers[-1]

    monkeypatch.setattr(random, "randrange", offer)
    assert free_port() == offers[-1] != first
    assert offers[:2] == [first, first]


def test_a_claim_lapses(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port whose claim has lapsed (its task bound it, or never started) can be chosen again."""
    monkeypatch.setattr(ports, "LEASE_SECONDS", 0.0)
    first = free_port()
    monkeypatch.setattr(random, "randrange", lambda low, high: first)
    assert free_port() == first
