from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harborops.core.jobs.log import JobLog
    from harborops.core.models import JobRun

Handler = Callable[["JobRun", "JobLog"], "str | None"]


@dataclass(frozen=True)
class JobKind:
    name: str
    title: str
    handler: Handler
    queue: str = "jobs"          # "periodic" for short scheduled work, "jobs" for long jobs
    max_attempts: int = 3        # including the first; the reaper and JobRetry obey it
    time_limit: int | None = None  # seconds; None = CELERY_TASK_TIME_LIMIT
    detail_template: str = ""      # optional extra section on the job page (e.g. per-instance steps)


_KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, title: str, queue: str = "jobs", max_attempts: int = 3,
             time_limit: int | None = None, detail_template: str = "") -> Callable[[Handler], Handler]:
    """Register ``handler(job, log) -> summary`` as the code that runs jobs of ``name``."""
    if queue not in ("jobs", "periodic"):
        raise ValueError(f"unknown queue {queue!r}")

    def register(handler: Handler) -> Handler:
        _KINDS[name] = JobKind(name, title, handler, queue, max_attempts, time_limit, detail_template)
        return handler

    return register


def get_kind(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no job kind {name!r} is registered in this process") from None


def registered_kinds() -> dict[str, JobKind]:
    return dict(_KINDS)
