"""Run one job in a worker: claim, beat, call the kind's handler, record the outcome."""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from harborops.core.jobs.errors import JobCancelled, JobFailed, JobRetry
from harborops.core.jobs.log import Heartbeat, JobLog
from harborops.core.jobs.registry import get_kind
from harborops.core.jobs.services import claim_job, finish_job, retry_job
from harborops.core.models import JobRun
from harborops.core.redaction import redact

logger = logging.getLogger(__name__)


def execute(job_id: int, *, task_id: str = "") -> str:
    job = JobRun.objects.filter(pk=job_id).first()
    if job is None:
        return f"skipped: job {job_id} no longer exists"
    attempt = claim_job(job_id, task_id=task_id)
    if attempt is None:
        return f"skipped: job {job_id} was already claimed or finished"
    job.refresh_from_db()
    kind = get_kind(job.kind)
    log = JobLog(job, attempt=attempt)
    if attempt > 1:
        log.info(f"attempt {attempt} of {job.max_attempts}")
    status, summary, error = JobRun.Status.SUCCEEDED, "", ""
    with Heartbeat(log, settings.JOB_HEARTBEAT_SECONDS):
        try:
            summary = kind.handler(job, log) or ""
        except JobCancelled as exc:
            status, error = JobRun.Status.CANCELLED, str(exc)
        except JobRetry as exc:
            log.warning(f"transient failure: {exc}")
            log.flush()
            retry_job(job, attempt=attempt, reason=redact(str(exc)), countdown=exc.countdown)
            return f"job {job_id}: retry scheduled"
        except JobFailed as exc:
            status, error = JobRun.Status.FAILED, str(exc)
        except SoftTimeLimitExceeded:
            status, error = JobRun.Status.FAILED, "time limit exceeded"
        except Exception as exc:
            logger.exception("job %s (%s) crashed", job_id, job.kind)
            status, error = JobRun.Status.FAILED, f"internal error: {type(exc).__name__}: {exc}"
    error = redact(error)
    if error:
        log.error(error)
    log.flush()
    finish_job(job, attempt=attempt, status=status, summary=redact(summary), error=error)
    return f"job {job_id}: {status}"
