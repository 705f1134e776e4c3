"""A simulated fleet on real sockets whose clock runs a few hours behind real time, so that sim
executions can be hours old by harborops' `now()` (stuck, missed, lagging)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from harborops.fleet.models import Instance
from harborops.harbor.client import HarborClient
from harborops.harbor_sim import Fleet, SimServer
from harborops.harbor_sim.clock import ManualClock

BEHIND = timedelta(hours=6)


@dataclass
class SimFleet:
    fleet: Fleet
    server: SimServer
    clock: ManualClock

    def url(self, n: int) -> str:
        return self.server.instance_url(n)

    def catch_up(self, leave: timedelta = timedelta(seconds=0)) -> None:
        """Move the sim clock to real now minus `leave`."""
        self.clock.set(datetime.now(UTC) - leave)

    def instance_client(self, n: int) -> HarborClient:
        return HarborClient(self.url(n), username="admin", password="Harbor12345", timeout=10)

    def instance(self, n: int, **fields: object) -> Instance:
        values: dict[str, object] = {"name": f"harbor-{n}", "url": self.url(n), "username": "admin",
                                     "password": "Harbor12345"}
        values.update(fields)
        return Instance.objects.create(**values)


def make_fleet(versions: list[str]) -> Iterator[SimFleet]:
    clock = ManualClock(datetime.now(UTC) - BEHIND)
    fleet = Fleet.create(len(versions), versions, clock=clock)
    with SimServer(fleet) as server:
        yield SimFleet(fleet, server, clock)


@pytest.fixture
def sims() -> Iterator[SimFleet]:
    yield from make_fleet(["2.13.0", "2.8.0", "2.15.0"])
