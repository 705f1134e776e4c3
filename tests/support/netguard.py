"""The suite's network rule, enforced in the test process: traffic goes to 127.0.0.0/8 (and ::1) only, and no
real name is ever resolved. ``socket.getaddrinfo`` answers only loopback literals and ``localhost``; a
``connect`` to any other address raises. Code under test that must resolve a name takes an injectable
resolver (the fleet, certificates and installs do); a name that reaches the system resolver here is a bug.

Subprocesses the tests start (workers, gunicorn) are not covered: their inputs come from the tests.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

_original_getaddrinfo = socket.getaddrinfo
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


class ForbiddenNetwork(OSError):
    pass


def _loopback(host: Any) -> bool:
    if host in (None, "", b""):
        return True  # a wildcard bind, not a lookup
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower() == "localhost" or name.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, f"the tests never resolve real names (asked for {host!r})")
    return _original_getaddrinfo(host, *args, **kwargs)


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        raise ForbiddenNetwork(f"the tests send traffic to 127.0.0.0/8 only (tried {address[0]}:{address[1]})")


def _guarded(original: Callable[..., Any]) -> Callable[..., Any]:
    def connect(self: socket.socket, address: Any) -> Any:
        _check_address(self, address)
        return original(self, address)

    return connect


def install() -> None:
    socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = _guarded(_original_connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded(_original_connect_ex)  # type: ignore[method-assign]


def uninstall() -> None:
    socket.getaddrinfo = _original_getaddrinfo
    socket.socket.connect = _original_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _original_connect_ex  # type: ignore[method-assign]
