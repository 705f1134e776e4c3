"""JobLog: what a running job uses to report. Lines are redacted, numbered and written in
batches (a long SSH run must not rewrite the job row on every line)."""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from django.db import close_old_connections, connection
from django.db.models import F
from django.utils.timezone import now

from harborops.core.jobs.errors import JobCancelled
from harborops.core.models import JobLogLine, JobRun
from harborops.core.redaction import redact

FLUSH_LINES = 50
FLUSH_SECONDS = 0.5


class JobLog:
    """Buffered, redacted log writer for one claimed attempt of a job.

    Every write is fenced by ``attempt``: once the reaper has handed the job to another worker,
    a zombie from an earlier attempt can no longer change it.
    """

    def __init__(self, job: JobRun, *, attempt: int, secrets: tuple[str, ...] = ()) -> None:
        self.job = job
        self.attempt = attempt
        self._secrets = tuple(s for s in secrets if s)
        self._buffer: list[JobLogLine] = []
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        last = JobLogLine.objects.filter(job=job).order_by("-seq").values_list("seq", flat=True).first()
        self._next_seq = (last or 0) + 1

    def _mine(self) -> object:
        return JobRun.objects.filter(pk=self.job.pk, attempts=self.attempt, status=JobRun.Status.RUNNING)

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return redact(text)

    def write(self, text: str, level: str = JobLogLine.Level.INFO) -> None:
        with self._lock:
            for line in self._clean(str(text)).splitlines() or [""]:
                self._buffer.append(JobLogLine(job_id=self.job.pk, seq=self._next_seq, level=level, text=line))
                self._next_seq += 1
            due = len(self._buffer) >= FLUSH_LINES or time.monotonic() - self._last_flush >= FLUSH_SECONDS
        if due:
            self.flush()

    def info(self, text: str) -> None:
        self.write(text, JobLogLine.Level.INFO)

    def warning(self, text: str) -> None:
        self.write(text, JobLogLine.Level.WARNING)

    def error(self, text: str) -> None:
        self.write(text, JobLogLine.Level.ERROR)

    def flush(self) -> None:
        with self._lock:
            batch, self._buffer = self._buffer, []
            self._last_flush = time.monotonic()
        if batch:
            JobLogLine.objects.bulk_create(batch, ignore_conflicts=True)

    def progress(self, current: int, total: int | None = None) -> None:
        values: dict[str, object] = {"progress_current": current, "heartbeat_at": now()}
        if total is not None:
            values["progress_total"] = total
        self._mine().update(**values)  # type: ignore[attr-defined]
        self.job.progress_current = current
        if total is not None:
            self.job.progress_total = total

    def advance(self, step: int = 1) -> None:
        self._mine().update(progress_current=F("progress_current") + step, heartbeat_at=now())  # type: ignore[attr-defined]

    def check_cancelled(self) -> None:
        """Raise JobCancelled if a user asked to cancel. Call it between steps."""
        if JobRun.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled("cancelled on request")

    def heartbeat(self) -> bool:
        """Record that the worker is alive; False if this attempt lost the job."""
        return bool(self._mine().update(heartbeat_at=now()))  # type: ignore[attr-defined]


class Heartbeat:
    """A background thread that beats while a job runs, with its own DB connection."""

    def __init__(self, log: JobLog, interval: float) -> None:
        self.log, self.interval = log, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-job-{log.job.pk}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                close_old_connections()
                self.log.heartbeat()
                self.log.flush()
        finally:
            connection.close()


class JobLogHandler(logging.Handler):
    """Send a logger's records into the job log (NetBox's JobLogHandler idea)."""

    def __init__(self, log: JobLog) -> None:
        super().__init__()
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        level = {logging.WARNING: "warning", logging.ERROR: "error", logging.CRITICAL: "error"}.get(
            record.levelno, "info")
        self.log.write(self.format(record), level)
