"""The sweep over real sockets (SimServer): a hanging instance costs one bounded timeout, and
"sweep now" runs as a job with progress."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet import tasks
from harborops.fleet.models import HealthSnapshot, Instance, SweepRun
from harborops.fleet.services import sweep_runs
from harborops.harbor_sim import Faults, Fleet, SimServer
from tests.fleet.conftest import MakeInstance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def served() -> Iterator[tuple[Fleet, SimServer]]:
    fleet = Fleet.create(4, ["2.8.0", "2.13.0", "2.15.0", "2.11.0"])
    with SimServer(fleet) as server:
        yield fleet, server


def test_a_hanging_instance_times_out_and_the_others_are_swept(
        served: tuple[Fleet, SimServer], make_instance: MakeInstance, settings: Any) -> None:
    fleet, server = served
    settings.FLEET_SWEEP_TIMEOUT = 1
    fleet[2].faults = Faults(hang_rate=1.0, path_pattern="^/health")
    fleet[3].faults = Faults(hang_rate=1.0, path_pattern="^/statistics")  # hangs after answering /health
    instances = [make_instance(n, url=server.instance_url(n)) for n in (1, 2, 3, 4)]
    run = sweep_runs.start_run(chunk_size=10)
    t0 = time.monotonic()
    summary = tasks.sweep_chunk([i.pk for i in instances], run.pk, 0)
    elapsed = time.monotonic() - t0
    assert elapsed < 5, f"one hanging instance held the sweep for {elapsed:.1f}s"
    got = {i.name: (i.status, i.error_kind) for i in Instance.objects.all()}
    assert got == {"harbor-1": ("up", ""), "harbor-2": ("down", "timeout"), "harbor-3": ("down", "timeout"),
                   "harbor-4": ("up", "")}
    assert "4 instances swept" in summary
    run.refresh_from_db()
    assert (run.up, run.down, run.chunks_done) == (2, 2, 1) and run.finished_at is not None
    chunk = run.chunks.get()
    assert chunk.state == "done" and chunk.swept == 4 and chunk.worker and chunk.poll_seconds is not None
    # Delivered again (acks_late after a lost ack): the chunk is not polled or counted twice.
    assert "already taken" in tasks.sweep_chunk([i.pk for i in instances], run.pk, 0)
    assert HealthSnapshot.objects.count() == 4 and SweepRun.objects.get(pk=run.pk).up == 2


def test_sweep_now_fans_out_and_the_job_polls_what_no_worker_took(
        served: tuple[Fleet, SimServer], make_instance: MakeInstance, settings: Any) -> None:
    fleet, server = served
    settings.FLEET_SWEEP_CHUNK = 2
    fleet[4].unhealthy["trivy"] = "scanner down"
    for n in (1, 2, 3, 4):
        make_instance(n, url=server.instance_url(n))
    make_instance(9, url="http://127.0.0.1:9", enabled=False)
    job = tasks.start_sweep(actor=Actor.system("test"))
    assert job.queue == "periodic"
    assert execute(job.pk) == f"job {job.pk}: succeeded"
    job.refresh_from_db()
    assert job.summary.startswith("4 instances swept (3 up, 1 degraded)")
    assert (job.progress_current, job.progress_total) == (4, 4)
    lines = list(JobLogLine.objects.filter(job=job).order_by("seq").values_list("level", "text"))
    assert any(text.startswith("harbor-4: Degraded: trivy (v2.11.0") for _, text in lines), lines
    assert HealthSnapshot.objects.count() == 4
    run = SweepRun.objects.get()
    assert (run.trigger, run.job_id, run.chunks_total, run.chunks_done) == ("manual", job.pk, 2, 2)
    assert run.finished_at is not None and (run.up, run.degraded) == (3, 1)
    assert [c.worker.endswith("(this job)") for c in run.chunks.all()] == [True, True]
    assert sum(text.startswith("chunk ") for _, text in lines) == 2
    # The two chunk tasks it sent find their chunks taken: nothing is polled twice.
    for chunk in run.chunks.all():
        assert "already taken" in tasks.sweep_chunk(chunk.instance_ids, run.pk, chunk.index)
    assert HealthSnapshot.objects.count() == 4


def test_sweep_now_for_one_instance(served: tuple[Fleet, SimServer], make_instance: MakeInstance) -> None:
    _, server = served
    one, other = make_instance(1, url=server.instance_url(1)), make_instance(2, url=server.instance_url(2))
    job = tasks.start_sweep(actor=Actor.system("test"), instance=one)
    execute(job.pk)
    assert JobRun.objects.get(pk=job.pk).status == "succeeded"
    assert Instance.objects.get(pk=one.pk).status == "up"
    assert Instance.objects.get(pk=other.pk).status == "unknown"
