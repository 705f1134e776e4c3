"""Celery tasks and job kinds of the events app: thin, ids in, a summary string out (STYLE G7)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from harborops.core.jobs import JobFailed, JobLog, JobRetry, job_kind
from harborops.core.models import JobRun
from harborops.events import services
from harborops.events.ingest import LeaseLost, ingest_instance, pending_total
from harborops.fleet.models import Instance
from harborops.harbor import errors as harbor_errors

logger = logging.getLogger(__name__)

INGEST_EXPIRES = 240  # seconds: an instance's pull not started before the next run is dropped


@shared_task(acks_late=True, name="harborops.events.tasks.ingest_fleet", queue="periodic")
def ingest_fleet() -> str:
    """Fan out: one ``ingest_one`` task per enabled instance, so one slow or failing Harbor never
    holds up the others, and the pulls spread over every worker."""
    ids = list(Instance.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        transaction.on_commit(lambda pk=pk: ingest_one.apply_async(  # type: ignore[misc]
            args=(pk,), queue="periodic", expires=INGEST_EXPIRES))
    return f"{len(ids)} instances queued"


@shared_task(acks_late=True, name="harborops.events.tasks.ingest_one", queue="periodic")
def ingest_one(instance_id: int) -> str:
    return services.scheduled_ingest(instance_id)


@shared_task(acks_late=True, name="harborops.events.tasks.purge_events", queue="periodic")
def purge_events() -> str:
    return f"{services.purge_old_events()} events deleted"


@job_kind(services.INGEST, title="Ingest Harbor audit logs", queue="periodic", max_attempts=1)
def run_ingest_job(job: JobRun, log: JobLog) -> str:
    if job.target_id:
        ids = [int(job.target_id)]
    else:
        ids = list(Instance.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))
    log.progress(0, len(ids))
    failures = 0
    for i, pk in enumerate(ids, 1):
        log.check_cancelled()
        for result in services.ingest_many([pk]):
            text = result if isinstance(result, str) else result.summary()
            failed = isinstance(result, str) or bool(result.error)
            failures += failed
            (log.warning if failed else log.info)(text)
        log.progress(i)
    summary = f"{len(ids)} instance(s) ingested" + (f", {failures} failed" if failures else "")
    if failures and failures == len(ids):
        raise JobFailed(summary)
    return summary


@job_kind(services.BACKFILL, title="Backfill Harbor audit history", queue="jobs", max_attempts=3)
def run_backfill_job(job: JobRun, log: JobLog) -> str:
    """Pull everything an instance holds beyond our cursors, with progress.

    Runs on the long ``jobs`` queue, so the scheduled ingest of every other instance keeps its
    pace on ``periodic``. The lease owner is the job itself: an attempt re-queued after its
    worker died takes its own stale lease back at once.
    """
    instance = Instance.objects.filter(pk=int(job.target_id or 0)).first()
    if instance is None:
        return "skipped: instance gone"
    owner = f"job-{job.pk}"
    try:
        total = pending_total(instance)
    except harbor_errors.HarborError as exc:
        if exc.transient:
            raise JobRetry(f"{instance.name}: {exc.message}", countdown=60) from exc
        raise JobFailed(f"{instance.name}: {exc.message}") from exc
    log.info(f"{instance.name}: about {total} event(s) to pull")
    log.progress(0, total)
    done = 0

    def progress(n: int, _total: int | None) -> None:
        nonlocal done
        done += n
        log.progress(min(done, max(total, done)), max(total, done))
        log.check_cancelled()

    try:
        result = ingest_instance(instance, owner=owner, progress=progress)
    except harbor_errors.HarborError as exc:
        if exc.transient:
            raise JobRetry(f"{instance.name}: {exc.message}", countdown=60) from exc
        raise JobFailed(f"{instance.name}: {exc.message}") from exc
    except LeaseLost as exc:
        raise JobRetry(str(exc), countdown=30) from exc
    if result.skipped:
        raise JobRetry(f"{instance.name}: {result.skipped}; trying again", countdown=30)
    log.info(result.summary())
    return result.summary()


@job_kind(services.PURGE, title="Purge old Harbor audit events", queue="periodic", max_attempts=1)
def run_purge_job(job: JobRun, log: JobLog) -> str:
    n = services.purge_old_events()
    log.info(f"{n} event(s) older than the retention deleted")
    return f"{n} events deleted"
