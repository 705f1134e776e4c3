"""Celery tasks of core: thin wrappers over core.jobs (ids in, a summary string out)."""

from __future__ import annotations

from celery import shared_task

from harborops.core.jobs import runner, services
from harborops.core.models import PeriodicRun

REAPER = "reaper"


@shared_task(bind=True, acks_late=True, name="harborops.core.tasks.run_job")
def run_job(self, job_id: int) -> str:  # type: ignore[no-untyped-def]
    return runner.execute(job_id, task_id=self.request.id or "")


@shared_task(acks_late=True, name="harborops.core.tasks.reap_stale_jobs", queue="periodic")
def reap_stale_jobs() -> str:
    summary = services.reap_stale_jobs().summary()
    PeriodicRun.note(REAPER, summary)  # a reaper that stops running is an alert (core/job_conditions.py)
    return summary


@shared_task(acks_late=True, name="harborops.core.tasks.purge_old_jobs", queue="periodic")
def purge_old_jobs() -> str:
    return f"{services.purge_old_jobs()} rows deleted"
