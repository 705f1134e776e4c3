"""Kill a real Celery worker in the middle of a job and prove the job ends with its side effect
written exactly once. Runs on whichever broker this run uses: Redis in the PostgreSQL run, the
filesystem transport in the embedded run (the test command runs both)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from django.conf import settings

from harborops.audit.models import ActionLogEntry
from harborops.core.actor import Actor
from harborops.core.jobs import start_job
from harborops.core.jobs.services import reap_stale_jobs
from harborops.core.models import JobLogLine, JobRun
from tests.support import jobkinds  # noqa: F401
from tests.support.processes import start_worker, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded, pytest.mark.worker,
              pytest.mark.timeout(180)]


@pytest.mark.parametrize("kill_at", ["before-effect", "after-effect"])
def test_a_job_survives_a_sigkilled_worker_with_its_effect_once(kill_at: str, tmp_path: Path):
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    worker_env = {"HARBOROPS_JOB_HEARTBEAT_SECONDS": "1"}
    first = start_worker(tmp_path / "worker1.log", **worker_env)
    second = None
    try:
        job = start_job("test.effect_once", actor=Actor.system("pytest"),
                        params={"barrier_dir": str(barrier), "hang_at": kill_at, "hang_attempt": 1})
        wait_for(lambda: (barrier / f"{kill_at}-1").exists(), timeout=60,
                 what=f"the worker to reach {kill_at} (log: {tmp_path / 'worker1.log'})")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        job.refresh_from_db()
        assert job.status == JobRun.Status.RUNNING  # the broker will not bring it back in time

        # The reaper notices the silent heartbeat and re-queues the job.
        requeued = wait_for(lambda: reap_stale_jobs(stale_after=3).requeued, timeout=30,
                            what="the reaper to re-queue the job", interval=0.5)
        assert requeued == [job.pk]

        second = start_worker(tmp_path / "worker2.log", **worker_env)
        wait_for(lambda: JobRun.objects.get(pk=job.pk).is_finished, timeout=60,
                 what=f"the job to finish on the second worker (log: {tmp_path / 'worker2.log'})")
    finally:
        stop(first)
        if second is not None:
            stop(second)

    job.refresh_from_db()
    assert job.status == JobRun.Status.SUCCEEDED, job.error
    assert job.attempts == 2
    assert ActionLogEntry.objects.filter(action="test.effect", object_id=f"job-{job.pk}").count() == 1
    log = list(JobLogLine.objects.filter(job=job).order_by("seq").values_list("text", flat=True))
    assert any("worker lost during attempt 1" in line for line in log)
    expected = "effect already written by an earlier attempt" if kill_at == "after-effect" else "effect written"
    assert log.count(expected) == 1
    assert settings.CELERY_BROKER_URL.split("://")[0] in {"redis", "filesystem"}
