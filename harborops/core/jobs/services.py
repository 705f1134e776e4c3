"""Start, claim, cancel and reap jobs. The database is the source of truth; the broker only
carries "job N is ready" and may lose or repeat that message."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.timezone import now
from kombu.exceptions import KombuError

from harborops.core.actor import Actor
from harborops.core.jobs.registry import get_kind
from harborops.core.models import JobLogLine, JobRun
from harborops.core.redaction import redact

logger = logging.getLogger(__name__)


def enqueue(job: JobRun, *, countdown: int = 0) -> None:
    """Send "run job N" to the broker once the current transaction commits."""
    kind = get_kind(job.kind)
    task_id = str(uuid.uuid4())
    JobRun.objects.filter(pk=job.pk).update(celery_task_id=task_id)
    job.celery_task_id = task_id
    options: dict[str, Any] = {"queue": kind.queue, "task_id": task_id, "countdown": countdown}
    if kind.time_limit:
        options.update(time_limit=kind.time_limit, soft_time_limit=max(1, kind.time_limit - 30))
    transaction.on_commit(lambda: _send(job, options))


def _send(job: JobRun, options: dict[str, Any]) -> None:
    """Publish, and survive a broker that is down: the job row is committed and stays PENDING, and the
    reaper sends it again once the broker answers. The caller (a page, an API call, the reaper itself)
    goes on instead of failing with a 500 after the job was already created."""
    from harborops.core.tasks import run_job

    try:
        run_job.apply_async(args=(job.pk,), **options)
    except (KombuError, OSError) as exc:  # kombu's retries (about 1 s) are spent: the broker is unreachable
        reason = redact(f"{type(exc).__name__}: {exc}")
        logger.warning("job %s (%s) not sent, the broker is unreachable: %s; it stays pending",
                       job.pk, job.kind, reason)
        append_system_line(job, f"the task queue (broker) is unreachable ({reason}); the job "
                                "stays pending and is sent again automatically once the broker answers", "warning")


def start_job(kind: str, *, actor: Actor, target: models.Model | None = None,
              params: dict[str, Any] | None = None, trigger: str = JobRun.Trigger.USER) -> JobRun:
    """Create the tracking row first, then enqueue after commit (STYLE G9)."""
    spec = get_kind(kind)
    job = JobRun.objects.create(
        kind=kind,
        trigger=trigger,
        user=actor.user,
        actor_name=actor.name,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        params=params or {},
        queue=spec.queue,
        max_attempts=spec.max_attempts,
        heartbeat_at=now(),
    )
    enqueue(job)
    return job


def claim_job(job_id: int, *, task_id: str = "") -> int | None:
    """Move a PENDING job to RUNNING exactly once; return the attempt number, or None when
    another worker (or an earlier delivery of the same message) got there first."""
    with transaction.atomic():
        claimed = JobRun.objects.filter(pk=job_id, status=JobRun.Status.PENDING, cancel_requested=False).update(
            status=JobRun.Status.RUNNING,
            started_at=Coalesce(F("started_at"), now()),
            heartbeat_at=now(),
            attempts=F("attempts") + 1,
            celery_task_id=task_id or F("celery_task_id"),
        )
        if claimed != 1:
            return None
        return JobRun.objects.values_list("attempts", flat=True).get(pk=job_id)


def finish_job(job: JobRun, *, attempt: int, status: str, summary: str = "", error: str = "",
               result: dict[str, Any] | None = None) -> bool:
    """Record the outcome; fenced by attempt so a zombie cannot overwrite a later attempt."""
    done = JobRun.objects.filter(pk=job.pk, status=JobRun.Status.RUNNING, attempts=attempt).update(
        status=status, summary=summary[:10000], error=error[:10000], finished_at=now(), heartbeat_at=now(),
        result=result or {},
    )
    return done == 1


def retry_job(job: JobRun, *, attempt: int, reason: str, countdown: int) -> bool:
    """Put a RUNNING attempt back to PENDING for another try, or fail it when none remain."""
    if attempt >= job.max_attempts:
        return finish_job(job, attempt=attempt, status=JobRun.Status.FAILED,
                          error=f"{reason} (gave up after {attempt} attempts)")
    with transaction.atomic():
        moved = JobRun.objects.filter(pk=job.pk, status=JobRun.Status.RUNNING, attempts=attempt).update(
            status=JobRun.Status.PENDING, heartbeat_at=now())
        if moved:
            append_system_line(job, f"attempt {attempt} failed: {reason}; retrying in {countdown}s", "warning")
            enqueue(job, countdown=countdown)
    return bool(moved)


def request_cancel(job: JobRun, *, actor: Actor) -> JobRun:
    """A pending job is cancelled at once; a running one when its code next checks."""
    from harborops.audit.services import record

    with transaction.atomic():
        before = {"status": job.status, "cancel_requested": job.cancel_requested}
        JobRun.objects.filter(pk=job.pk, status=JobRun.Status.PENDING).update(
            status=JobRun.Status.CANCELLED, cancel_requested=True, finished_at=now(),
            error=f"cancelled by {actor.name} before it started")
        JobRun.objects.filter(pk=job.pk, status=JobRun.Status.RUNNING).update(cancel_requested=True)
        job.refresh_from_db()
        record(actor=actor, action="job.cancel", obj=job, before=before,
               after={"status": job.status, "cancel_requested": job.cancel_requested})
    return job


def append_system_line(job: JobRun, text: str, level: str = "info") -> None:
    last = JobLogLine.objects.filter(job=job).order_by("-seq").values_list("seq", flat=True).first() or 0
    JobLogLine.objects.bulk_create([JobLogLine(job=job, seq=last + 1, level=level, text=text)],
                                   ignore_conflicts=True)


@dataclass
class ReapResult:
    requeued: list[int]
    failed: list[int]
    reenqueued: list[int]

    def summary(self) -> str:
        return (f"{len(self.requeued)} re-queued, {len(self.failed)} failed, "
                f"{len(self.reenqueued)} pending re-sent")


def reap_stale_jobs(*, stale_after: int | None = None) -> ReapResult:
    """Find jobs whose worker died and bring them back (or fail them).

    1. RUNNING with no heartbeat for ``stale_after`` seconds: the worker died (SIGKILL, OOM,
       machine lost). Put it back to PENDING and enqueue again while attempts remain; else FAILED.
    2. PENDING with no sign of life for ``stale_after`` seconds: the message was lost (the
       filesystem transport deletes a message on receipt, so a worker killed right after
       receiving it loses it). Enqueue again; a duplicate message is harmless because
       claim_job() lets only one delivery run.
    Every transition is a conditional UPDATE on the heartbeat we read, so two reapers never
    act twice on one job.
    """
    stale_after = settings.JOB_STALE_AFTER_SECONDS if stale_after is None else stale_after
    cutoff = now() - timedelta(seconds=stale_after)
    result = ReapResult([], [], [])
    running = JobRun.objects.filter(status=JobRun.Status.RUNNING, heartbeat_at__lt=cutoff)
    for job in running:
        if job.attempts >= job.max_attempts:
            if JobRun.objects.filter(pk=job.pk, status=JobRun.Status.RUNNING, heartbeat_at=job.heartbeat_at).update(
                    status=JobRun.Status.FAILED, finished_at=now(),
                    error=f"the worker stopped responding (no heartbeat for {stale_after}s) "
                          f"and all {job.max_attempts} attempts are used"):
                append_system_line(job, "worker lost; no attempts left, job failed", "error")
                result.failed.append(job.pk)
            continue
        with transaction.atomic():
            if JobRun.objects.filter(pk=job.pk, status=JobRun.Status.RUNNING, heartbeat_at=job.heartbeat_at).update(
                    status=JobRun.Status.PENDING, heartbeat_at=now()):
                append_system_line(job, f"worker lost during attempt {job.attempts} "
                                        f"(no heartbeat for {stale_after}s); re-queued", "warning")
                enqueue(job)
                result.requeued.append(job.pk)
    for job in JobRun.objects.filter(status=JobRun.Status.PENDING, heartbeat_at__lt=cutoff):
        with transaction.atomic():
            if JobRun.objects.filter(pk=job.pk, status=JobRun.Status.PENDING, heartbeat_at=job.heartbeat_at).update(
                    heartbeat_at=now()):
                enqueue(job)
                result.reenqueued.append(job.pk)
    if result.requeued or result.failed or result.reenqueued:
        logger.warning("reaper: %s", result.summary())
    return result


def purge_old_jobs(*, days: int | None = None) -> int:
    days = settings.JOB_LOG_RETENTION_DAYS if days is None else days
    cutoff = now() - timedelta(days=days)
    deleted, _ = JobRun.objects.filter(status__in=JobRun.FINISHED, finished_at__lt=cutoff).delete()
    return deleted
