"""Long jobs cannot starve periodic work: with a worker per queue (as `make run` and docker-compose start
them), two long jobs holding every `jobs` worker do not delay a sweep chunk or the reaper. Real workers,
on whichever broker this run uses (Redis in the PostgreSQL run, the filesystem transport embedded)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from harborops.core.actor import Actor
from harborops.core.jobs import start_job
from harborops.core.models import JobRun
from harborops.core.tasks import reap_stale_jobs
from harborops.fleet.models import HealthSnapshot, Instance
from harborops.fleet.tasks import sweep_chunk
from harborops.harbor_sim import Fleet, SimServer
from tests.support import jobkinds  # noqa: F401  (the test.long job kind)
from tests.support.processes import start_worker, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded, pytest.mark.worker,
              pytest.mark.timeout(240)]


@pytest.fixture
def harbor() -> Iterator[SimServer]:
    with SimServer(Fleet.create(1, "2.13.0")) as server:
        yield server


def test_two_long_jobs_do_not_delay_a_sweep_chunk_or_the_reaper(tmp_path: Path, harbor: SimServer):
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    instance = Instance.objects.create(name="harbor-1", url=harbor.instance_url(1), username="admin",
                                       password="Harbor12345")
    workers = [start_worker(tmp_path / f"jobs-{n}.log", queues="jobs") for n in (1, 2)]
    long_jobs = [start_job("test.long", actor=Actor.system("pytest"), params={"barrier_dir": str(barrier)})
                 for _ in range(2)]
    try:
        for job in long_jobs:  # both long jobs run: every jobs worker is busy
            wait_for(lambda job=job: (barrier / f"started-{job.pk}").exists(), timeout=90,
                     what=f"long job {job.pk} to start (logs in {tmp_path})")
        periodic = start_worker(tmp_path / "periodic.log", queues="periodic")
        workers.append(periodic)
        stale = JobRun.objects.create(kind="test.steps", status=JobRun.Status.RUNNING, attempts=1, max_attempts=1,
                                      started_at=timezone.now() - timedelta(hours=1),
                                      heartbeat_at=timezone.now() - timedelta(hours=1))
        reap_stale_jobs.apply_async()
        sweep_chunk.apply_async(args=([instance.pk],))
        wait_for(lambda: JobRun.objects.get(pk=stale.pk).status == JobRun.Status.FAILED, timeout=90,
                 what=f"the reaper to fail the dead job (log {tmp_path / 'periodic.log'})")
        wait_for(lambda: HealthSnapshot.objects.filter(instance=instance).exists(), timeout=90,
                 what=f"the sweep chunk to poll the instance (log {tmp_path / 'periodic.log'})")
        assert [JobRun.objects.get(pk=j.pk).status for j in long_jobs] == [JobRun.Status.RUNNING] * 2
    finally:
        (barrier / "release").touch()
        try:
            for job in long_jobs:
                wait_for(lambda job=job: JobRun.objects.get(pk=job.pk).is_finished, timeout=60,
                         what=f"long job {job.pk} to finish once released")
        finally:
            for worker in workers:
                stop(worker)
    assert [JobRun.objects.get(pk=j.pk).status for j in long_jobs] == [JobRun.Status.SUCCEEDED] * 2
