"""Helpers for client-vs-simulator tests: every client goes through the contract checker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harborops.harbor import contract
from harborops.harbor.client import AsyncHarborClient, HarborClient
from harborops.harbor.http import install_transport_wrapper, remove_transport_wrapper
from harborops.harbor_sim import AsyncSimTransport, Fleet, HarborInstance, SimTransport

ADMIN = ("admin", "Harbor12345")


def _checked(transport: Any, *, asynchronous: bool) -> Any:
    return contract.wrap(transport, asynchronous=asynchronous, mode="record")


@contextmanager
def contract_checked() -> Iterator[None]:
    """Wrap every client built inside the block (the same hook the app's tests use)."""
    install_transport_wrapper(_checked)
    try:
        yield
    finally:
        remove_transport_wrapper(_checked)


def sim(version: str = "2.13.0", **options: Any) -> tuple[HarborInstance, Fleet]:
    inst = HarborInstance(version, **options)
    return inst, Fleet([inst])


def client(fleet: Fleet, user: tuple[str, str] = ADMIN, **kw: Any) -> HarborClient:
    with contract_checked():
        return HarborClient("http://sim/h/1", username=user[0], password=user[1], transport=SimTransport(fleet), **kw)


def async_client(fleet: Fleet, user: tuple[str, str] = ADMIN, **kw: Any) -> AsyncHarborClient:
    with contract_checked():
        return AsyncHarborClient(
            "http://sim/h/1",
            username=user[0],
            password=user[1],
            transport=AsyncSimTransport(fleet, latency=False),
            **kw,
        )
