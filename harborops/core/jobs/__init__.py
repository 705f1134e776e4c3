"""The job machinery: register a kind, start a job, run it in a worker, reap dead ones.

    @job_kind("fleet.sweep", title="Sweep fleet health", queue="periodic")
    def sweep(job: JobRun, log: JobLog) -> str:
        ...
        return "42 instances swept"

    run = start_job("fleet.sweep", actor=actor, target=instance)
"""

from __future__ import annotations

from harborops.core.jobs.errors import JobCancelled, JobFailed, JobRetry
from harborops.core.jobs.log import JobLog
from harborops.core.jobs.registry import JobKind, get_kind, job_kind, registered_kinds
from harborops.core.jobs.services import claim_job, request_cancel, start_job

__all__ = (
    "JobCancelled",
    "JobFailed",
    "JobKind",
    "JobLog",
    "JobRetry",
    "claim_job",
    "get_kind",
    "job_kind",
    "registered_kinds",
    "request_cancel",
    "start_job",
)
