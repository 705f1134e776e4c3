"""The sweep fans out: one Celery task per chunk, so two workers poll two chunks at the same time,
and the run is summed up when the last chunk finishes. Real workers, on whichever broker this run
uses (Redis in the PostgreSQL run, the filesystem transport embedded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harborops.core.actor import Actor
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet import tasks
from harborops.fleet.models import HealthSnapshot, Instance, SweepRun
from harborops.harbor_sim import Faults, Fleet, SimServer
from harborops.harbor_sim.faults import Latency
from tests.support.processes import start_worker, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded, pytest.mark.worker,
              pytest.mark.timeout(240)]

SLOW_MS = 700  # each call of every instance: a chunk of 2 instances x 4 calls takes >= 2.8 s


@pytest.fixture
def slow_fleet() -> Iterator[SimServer]:
    fleet = Fleet.create(4, "2.13.0")
    for n in range(1, 5):
        fleet[n].faults = Faults(latency=Latency(a=SLOW_MS))
    with SimServer(fleet) as server:
        yield server


def _instances(server: SimServer) -> list[Instance]:
    return [Instance.objects.create(name=f"harbor-{n}", url=server.instance_url(n), username="admin",
                                    password="Harbor12345") for n in range(1, 5)]


def _ready(log: Path) -> bool:
    return log.exists() and b" ready." in log.read_bytes()


def _workers(tmp_path: Path, n: int) -> list[Any]:
    """``n`` periodic workers (solo pool: one task at a time each), started and ready."""
    logs = [tmp_path / f"periodic-{k}.log" for k in range(n)]
    workers = [start_worker(log, queues="periodic", HARBOROPS_SWEEP_CONCURRENCY="2",
                            HARBOROPS_SWEEP_CHUNK="2") for log in logs]
    for log in logs:
        wait_for(lambda log=log: _ready(log), timeout=90, what=f"worker to be ready ({log})")
    return workers


def test_two_workers_poll_the_two_chunks_of_a_scheduled_sweep_at_once(
        tmp_path: Path, slow_fleet: SimServer, settings: Any) -> None:
    settings.FLEET_SWEEP_CHUNK = 2
    _instances(slow_fleet)
    workers = _workers(tmp_path, 2)
    try:
        tasks.sweep_fleet.apply_async()  # what beat sends every minute
        run = wait_for(lambda: SweepRun.objects.exclude(finished_at=None).first(), timeout=120,
                       what=f"the sweep run to finish (logs in {tmp_path})")
    finally:
        for worker in workers:
            stop(worker)
    assert isinstance(run, SweepRun)
    assert (run.trigger, run.instances, run.chunks_total, run.chunks_done, run.up) == ("scheduled", 4, 2, 2, 4)
    assert run.duration is not None and run.transitions == 4  # unknown -> up, each once
    first, second = run.chunks.order_by("index")
    assert first.worker != second.worker, "one worker polled both chunks"
    assert first.started_at and first.finished_at and second.started_at and second.finished_at
    # Both chunks were being polled at the same moment: the fan-out's point.
    assert first.started_at < second.finished_at and second.started_at < first.finished_at, (
        f"chunks ran one after another: {first.started_at}-{first.finished_at}, "
        f"{second.started_at}-{second.finished_at}")
    assert HealthSnapshot.objects.count() == 4


def test_sweep_all_now_fans_out_to_the_workers_and_reports_the_whole_run(
        tmp_path: Path, slow_fleet: SimServer, settings: Any) -> None:
    settings.FLEET_SWEEP_CHUNK = 2
    _instances(slow_fleet)
    workers = _workers(tmp_path, 2)
    try:
        job = tasks.start_sweep(actor=Actor.system("pytest"))
        wait_for(lambda: JobRun.objects.get(pk=job.pk).is_finished, timeout=120,
                 what=f"the sweep job to finish (logs in {tmp_path})")
    finally:
        for worker in workers:
            stop(worker)
    job.refresh_from_db()
    assert job.status == JobRun.Status.SUCCEEDED, job.error
    assert job.summary.startswith("4 instances swept (4 up)")
    run = SweepRun.objects.get()
    assert (run.trigger, run.job_id, run.chunks_done, run.up) == ("manual", job.pk, 2, 4)
    assert run.finished_at is not None
    assert HealthSnapshot.objects.count() == 4  # every instance polled exactly once
    lines = list(JobLogLine.objects.filter(job=job).values_list("text", flat=True))
    assert sum(line.startswith("chunk ") for line in lines) == 2, lines
    assert sum(line.startswith("harbor-") and ": Up" in line for line in lines) == 4, lines
