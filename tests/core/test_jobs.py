from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils.timezone import now

from harborops.core.actor import Actor
from harborops.core.jobs import start_job
from harborops.core.jobs.log import JobLog
from harborops.core.jobs.runner import execute
from harborops.core.jobs.services import claim_job, finish_job, reap_stale_jobs, request_cancel
from harborops.core.models import JobLogLine, JobRun
from tests.support import jobkinds  # noqa: F401  (registers the test kinds)

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _start(params: dict | None = None, kind: str = "test.steps") -> JobRun:
    with mock.patch("harborops.core.tasks.run_job.apply_async") as apply_async:
        job = start_job(kind, actor=Actor.system("pytest"), params=params or {})
    job.refresh_from_db()
    job._apply_async = apply_async  # type: ignore[attr-defined]
    return job


def lines(job: JobRun) -> list[str]:
    return list(JobLogLine.objects.filter(job=job).order_by("seq").values_list("text", flat=True))


def test_it_enqueues_after_commit_on_the_kinds_queue(django_capture_on_commit_callbacks):
    with mock.patch("harborops.core.tasks.run_job.apply_async") as apply_async, \
            django_capture_on_commit_callbacks(execute=True):
        job = start_job("test.steps", actor=Actor.system("pytest"))
    job.refresh_from_db()
    apply_async.assert_called_once()
    assert apply_async.call_args.kwargs["queue"] == "periodic"
    assert apply_async.call_args.kwargs["task_id"] == job.celery_task_id
    assert apply_async.call_args.kwargs["args"] == (job.pk,)
    assert job.status == JobRun.Status.PENDING


def test_it_does_not_enqueue_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    with mock.patch("harborops.core.tasks.run_job.apply_async") as apply_async, \
            django_capture_on_commit_callbacks(execute=False) as callbacks:
        start_job("test.steps", actor=Actor.system("pytest"))
    assert len(callbacks) == 1  # queued for commit only, never sent during the transaction
    apply_async.assert_not_called()


def test_it_runs_a_job_to_success_with_progress_and_numbered_lines():
    job = _start({"steps": 3})
    assert execute(job.pk) == f"job {job.pk}: succeeded"
    job.refresh_from_db()
    assert job.status == JobRun.Status.SUCCEEDED
    assert (job.progress_current, job.progress_total) == (3, 3)
    assert job.summary == "3 steps done"
    assert lines(job) == ["step 1 of 3", "step 2 of 3", "step 3 of 3"]
    assert list(JobLogLine.objects.filter(job=job).values_list("seq", flat=True)) == [1, 2, 3]
    assert job.started_at and job.finished_at and job.attempts == 1


def test_it_claims_a_job_only_once():
    job = _start()
    assert claim_job(job.pk) == 1
    assert claim_job(job.pk) is None
    assert execute(job.pk).startswith("skipped")


def test_it_records_a_clean_failure():
    job = _start({"fail": "harbor said no"})
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobRun.Status.FAILED
    assert job.error == "harbor said no"
    assert lines(job)[-1] == "harbor said no"


def test_it_redacts_secrets_in_crashes_and_log_lines():
    job = _start({"leak": "hunter2-canary", "crash": "boom password=hunter2-canary"})
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobRun.Status.FAILED
    assert "hunter2-canary" not in job.error
    assert job.error.startswith("internal error: RuntimeError")
    assert not any("hunter2-canary" in line for line in lines(job))


def test_it_retries_a_transient_failure_until_attempts_run_out():
    job = _start({"retry": True})
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        for _ in range(3):
            execute(job.pk)
    job.refresh_from_db()
    assert job.status == JobRun.Status.FAILED
    assert job.attempts == 3
    assert "gave up after 3 attempts" in job.error


def test_it_cancels_a_pending_job_at_once():
    job = _start()
    request_cancel(job, actor=Actor.system("pytest"))
    job.refresh_from_db()
    assert job.status == JobRun.Status.CANCELLED
    assert execute(job.pk).startswith("skipped")


def test_it_cancels_a_running_job_at_its_next_check():
    job = _start({"steps": 2})
    claim_job(job.pk)
    JobRun.objects.filter(pk=job.pk).update(status=JobRun.Status.RUNNING)
    request_cancel(job, actor=Actor.system("pytest"))
    job.refresh_from_db()
    assert job.status == JobRun.Status.RUNNING and job.cancel_requested


def test_the_reaper_requeues_a_job_whose_worker_died():
    job = _start()
    claim_job(job.pk)
    JobRun.objects.filter(pk=job.pk).update(heartbeat_at=now() - timedelta(minutes=10))
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        result = reap_stale_jobs(stale_after=60)
    job.refresh_from_db()
    assert result.requeued == [job.pk]
    assert job.status == JobRun.Status.PENDING
    assert "worker lost during attempt 1" in lines(job)[-1]
    assert execute(job.pk) == f"job {job.pk}: succeeded"
    job.refresh_from_db()
    assert job.attempts == 2


def test_the_reaper_fails_a_job_without_attempts_left():
    job = _start()
    JobRun.objects.filter(pk=job.pk).update(status=JobRun.Status.RUNNING, attempts=3,
                                            heartbeat_at=now() - timedelta(minutes=10))
    result = reap_stale_jobs(stale_after=60)
    job.refresh_from_db()
    assert result.failed == [job.pk]
    assert job.status == JobRun.Status.FAILED
    assert "all 3 attempts are used" in job.error


def test_the_reaper_resends_a_lost_pending_message_and_leaves_fresh_jobs_alone():
    stale, fresh = _start(), _start()
    JobRun.objects.filter(pk=stale.pk).update(heartbeat_at=now() - timedelta(minutes=10))
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        result = reap_stale_jobs(stale_after=60)
    assert result.reenqueued == [stale.pk]
    assert fresh.pk not in result.requeued + result.reenqueued + result.failed


def test_a_zombie_attempt_cannot_overwrite_a_later_one():
    job = _start()
    claim_job(job.pk)  # attempt 1 ... dies, is re-queued, attempt 2 claims
    JobRun.objects.filter(pk=job.pk).update(status=JobRun.Status.PENDING)
    assert claim_job(job.pk) == 2
    assert finish_job(job, attempt=1, status=JobRun.Status.FAILED, error="zombie") is False
    log = JobLog(job, attempt=1)
    assert log.heartbeat() is False
    job.refresh_from_db()
    assert job.status == JobRun.Status.RUNNING and job.error == ""


def test_log_lines_are_batched():
    job = _start()
    claim_job(job.pk)
    log = JobLog(job, attempt=1)
    with mock.patch("harborops.core.jobs.log.time.monotonic", return_value=0.0):
        log._last_flush = 0.0
        for i in range(49):
            log.info(f"line {i}")
        assert JobLogLine.objects.filter(job=job).count() == 0
        log.info("line 49")
    assert JobLogLine.objects.filter(job=job).count() == 50
