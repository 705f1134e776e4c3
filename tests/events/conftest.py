"""Events test helpers: simulated Harbors whose Instance.client() goes through the simulator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harborops.fleet.models import Instance
from harborops.harbor_sim import Fleet, ManualClock, SimTransport

ADMIN_PASSWORD = "Harbor12345"
MakeFleet = Callable[..., Fleet]


def recent_clock() -> ManualClock:
    """Simulated time a day ago, so seeded events fall inside every retention window."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))


@pytest.fixture
def sim_fleet(db: None, monkeypatch: pytest.MonkeyPatch) -> MakeFleet:
    """``sim_fleet(count, version)``: a simulated fleet plus one Instance per simulated Harbor,
    with ``Instance.client()`` answering through the in-process simulator."""
    current: dict[str, Fleet] = {}
    original = Instance.client

    def client(self: Instance, *, transport: Any = None, **kw: Any) -> Any:
        return original(self, transport=transport or SimTransport(current["fleet"]), **kw)

    monkeypatch.setattr(Instance, "client", client)

    def make(count: int = 1, version: str | list[str] = "2.12.0", **fields: Any) -> Fleet:
        fleet = Fleet.create(count, version, clock=recent_clock())
        current["fleet"] = fleet
        for n in range(1, count + 1):
            Instance.objects.create(name=f"harbor-{n}", url=f"http://sim/h/{n}", username="admin",
                                    password=ADMIN_PASSWORD, **fields)
        return fleet

    return make


def inst(n: int) -> Instance:
    return Instance.objects.get(name=f"harbor-{n}")
