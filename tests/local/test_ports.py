"""Ports for what ecs-bg starts are chosen below the ephemeral range, where outgoing connections (a
health check each) never take them between the choice and the bind; one in use is passed over."""

from __future__ import annotations

import random
import socket

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
