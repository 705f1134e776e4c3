from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils.timezone import now


class JobRun(models.Model):
    """One row per long-running job: its status, progress and live log.

    Status moves PENDING → RUNNING → SUCCEEDED | FAILED | CANCELLED. A RUNNING job whose worker
    died (no heartbeat for JOB_STALE_AFTER_SECONDS) is put back to PENDING by the reaper while
    attempts remain, else FAILED. Only the worker that claimed a job (a conditional UPDATE on
    status) writes its progress and log.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    STATUS_COLORS: dict[str, str] = {
        Status.PENDING: "secondary",
        Status.RUNNING: "info",
        Status.SUCCEEDED: "success",
        Status.FAILED: "danger",
        Status.CANCELLED: "warning",
    }
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    class Trigger(models.TextChoices):
        USER = "user", "User"
        API = "api", "API"
        SCHEDULED = "scheduled", "Scheduled"
        SYSTEM = "system", "System"

    kind = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.USER)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    # A generic target keeps core free of any app: the job may be about an instance, a host, ...
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    target_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    target_repr = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)

    queue = models.CharField(max_length=32, default="jobs")
    celery_task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    cancel_requested = models.BooleanField(default=False)

    created_at = models.DateTimeField(default=now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    progress_current = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    summary = models.TextField(blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("status", "heartbeat_at"))]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("core:job_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def status_color(self) -> str:
        return self.STATUS_COLORS.get(self.status, "secondary")

    @property
    def progress_percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_current / self.progress_total))

    @property
    def duration_seconds(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or now()
        return (end - self.started_at).total_seconds()


class JobLogLine(models.Model):
    """Append-only, numbered log lines of a job (written in batches by core.jobs.log.JobLog)."""

    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"
        STDOUT = "stdout", "stdout"
        STDERR = "stderr", "stderr"

    job = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="log_lines")
    seq = models.PositiveIntegerField()
    ts = models.DateTimeField(default=now)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    text = models.TextField()

    class Meta:
        ordering = ("job", "seq")
        constraints = [models.UniqueConstraint(fields=("job", "seq"), name="joblogline_unique_seq")]

    def __str__(self) -> str:
        return f"{self.seq}: {self.text}"
