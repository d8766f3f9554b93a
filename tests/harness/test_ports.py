"""Free ports to listen on, and the wait for a listener."""

from __future__ import annotations

import socket
import threading

import pytest

from antifraud.harness.ports import HOST, free_port, free_port_range, wait_for_port


def test_a_free_port_can_be_bound_and_waited_for() -> None:
    port = free_port()
    with socket.socket() as server:
        server.bind((HOST, port))
        server.listen()
        wait_for_port(HOST, port, timeout=2.0)  # returns: something listens


def test_waiting_for_a_port_nobody_opens_times_out() -> None:
    port = free_port()
    with pytest.raises(TimeoutError, match=str(port)):
        wait_for_port(HOST, port, timeout=0.2)


def test_waiting_returns_once_a_listener_comes() -> None:
    port = free_port()
    server = socket.socket()
    server.bind((HOST, port))
    timer = threading.Timer(0.3, server.listen)
    timer.start()
    try:
        wait_for_port(HOST, port, timeout=5.0)
    finally:
        timer.join()
        server.close()


def test_a_free_range_is_consecutive_ports_that_all_bind() -> None:
    base = free_port_range(3)
    sockets = [socket.socket() for _ in range(3)]
    try:
        for offset, sock in enumerate(sockets):
            sock.bind((HOST, base + offset))
    finally:
        for sock in sockets:
            sock.close()
