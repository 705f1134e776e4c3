"""Simulator tests: plain pytest, no database. Clients go through the contract checker."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from harborops.harbor import contract
from harborops.harbor_sim import Fleet, HarborInstance, SimTransport

ADMIN = ("admin", "Harbor12345")
Api = Callable[..., httpx.Client]


def drop_cookies(request: httpx.Request) -> None:
    # Harbor sets a `sid` cookie; a client that sends it back gets CSRF 403s on writes.
    request.headers.pop("cookie", None)


def client_for(
    target: Fleet | HarborInstance,
    n: int | None = 1,
    *,
    auth: tuple[str, str] | None = ADMIN,
    checked: bool = True,
    keep_cookies: bool = False,
) -> httpx.Client:
    transport: httpx.BaseTransport = SimTransport(target)
    if checked:
        transport = contract.ContractTransport(transport, mode="record")
    prefix = f"/h/{n}" if n is not None and isinstance(target, Fleet) else ""
    hooks = {} if keep_cookies else {"request": [drop_cookies]}
    return httpx.Client(transport=transport, base_url=f"http://sim{prefix}/api/v2.0", auth=auth, event_hooks=hooks)




@pytest.fixture
def fleet() -> Fleet:
    return Fleet.create(1, "2.13.0")


@pytest.fixture
def inst(fleet: Fleet) -> HarborInstance:
    return fleet[1]


@pytest.fixture
def api(fleet: Fleet) -> Iterator[Api]:
    """api(user=("u","p"), n=1, checked=True) -> an httpx.Client on instance n."""
    clients: list[httpx.Client] = []

    def make(auth: tuple[str, str] | None = ADMIN, n: int = 1, checked: bool = True) -> httpx.Client:
        c = client_for(fleet, n, auth=auth, checked=checked)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


def location_id(resp: httpx.Response) -> int:
    assert resp.status_code == 201, resp.text
    return int(resp.headers["Location"].split("/")[-1])
