"""GC test helpers: simulated Harbors on a real socket, fleet rows pointing at them, and a ticker
that moves the simulators' clock when a run sleeps (a 30 s GC takes no wall time)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from unittest import mock

import pytest
from django.utils.timezone import now

from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet.models import Instance
from harborops.harbor_sim import Fleet, SimServer
from harborops.harbor_sim.clock import ManualClock
from harborops.harbor_sim.routes.artifacts import delete_artifact_by_ref, push_artifact
from harborops.maintenance.models import GCPolicy
from harborops.maintenance.services import online, runs

ACTOR = Actor.system("tester")
VERSIONS = ["2.5.0", "2.8.0", "2.13.0", "2.15.0"]


class SimTicker(online.Ticker):
    """Run-loop time = wall time at the start + what the run slept; sleeping moves the sim clock."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.start = now()
        self.slept = 0.0
        self.sleeps: list[float] = []

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.slept)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.slept += seconds
        self.fleet.advance(seconds)


@dataclass
class GCFleet:
    sim: Fleet
    server: SimServer
    rows: list[Instance]
    ticker: SimTicker

    def garbage(self, n: int, size: int, *, tag: str = "old") -> None:
        """Push and delete an artifact on instance n: ``size`` bytes for GC to free."""
        inst = self.sim[n]
        push_artifact(inst, "library", "app", tag, size)
        push_artifact(inst, "library", "app", f"keep-{tag}", 1000)
        delete_artifact_by_ref(inst, "library/app", tag, who="admin")


@pytest.fixture
def gc_fleet(db: None, settings: object) -> Iterator[GCFleet]:
    sim = Fleet.create(4, VERSIONS, clock=ManualClock(now()))  # sim time = harborops time
    with SimServer(sim) as server:
        rows = [Instance.objects.create(name=f"harbor-{n}", url=server.instance_url(n), username="admin",
                                        password="Harbor12345", labels={"env": "prod" if n < 4 else "dev"})
                for n in range(1, 5)]
        ticker = SimTicker(sim)
        with mock.patch.object(online, "TICKER", ticker):
            yield GCFleet(sim, server, rows, ticker)


def make_policy(**values: object) -> GCPolicy:
    from harborops.maintenance.services.policies import create_policy

    fields: dict[str, object] = {"name": "nightly", "targets": GCPolicy.Targets.ALL, "window_minutes": 240,
                                 "concurrency": 2, "dry_run_first": True}
    fields.update(values)
    return create_policy(actor=ACTOR, **fields)


def run(policy: GCPolicy, **kw: object) -> JobRun:
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = runs.start_run(policy, actor=ACTOR, **kw)  # type: ignore[arg-type]
    execute(job.pk)
    job.refresh_from_db()
    return job


def log_of(job: JobRun) -> str:
    return "\n".join(JobLogLine.objects.filter(job=job).order_by("seq").values_list("text", flat=True))
