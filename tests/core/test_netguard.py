"""The suite's own network rule holds: no real name resolves, no packet leaves 127.0.0.0/8."""

from __future__ import annotations

import socket

import pytest

from tests.support.netguard import ForbiddenNetwork

pytestmark = pytest.mark.embedded


def test_real_names_never_resolve():
    with pytest.raises(socket.gaierror, match="never resolve real names"):
        socket.getaddrinfo("example.org", 443)
    assert socket.getaddrinfo("127.0.0.2", 80)[0][4][0] == "127.0.0.2"
    assert socket.getaddrinfo("localhost", 80)


def test_traffic_outside_loopback_is_refused():
    with socket.socket() as sock, pytest.raises(ForbiddenNetwork, match=r"127\.0\.0\.0/8 only"):
        sock.connect(("192.0.2.1", 443))
    with socket.socket() as sock, pytest.raises(ForbiddenNetwork):
        sock.connect_ex(("198.51.100.9", 80))
