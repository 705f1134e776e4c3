"""Harbor instances, their HA groups, and what the sweep learns about them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import httpx
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from harborops.core.fields import EncryptedTextField
from harborops.harbor.client import AsyncHarborClient, HarborClient

__all__ = ("HAGroup", "HealthSnapshot", "Instance", "StatusChange", "SweepChunk", "SweepRun")


class HAGroup(models.Model):
    """Two or more instances serving one hostname."""

    class Mode(models.TextChoices):
        SHARED_STORAGE = "shared_storage", _("Shared storage")
        TWO_WAY_REPLICATION = "two_way_replication", _("Two-way replication")

    name = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    mode = models.CharField(max_length=32, choices=Mode.choices, default=Mode.SHARED_STORAGE)
    notes = models.TextField(blank=True)

    objects: ClassVar[models.Manager[HAGroup]] = models.Manager()

    class Meta:
        ordering = ("name",)
        verbose_name = "HA group"

    def __str__(self) -> str:
        return self.name


class Instance(models.Model):
    """One Harbor registry: how to reach it, plus its current state as the last sweep saw it."""

    class CredentialKind(models.TextChoices):
        SYSADMIN = "sysadmin", _("System admin user")
        ROBOT = "robot", _("System robot account")

    class Status(models.TextChoices):
        UP = "up", _("Up")
        DEGRADED = "degraded", _("Degraded")
        DOWN = "down", _("Down")
        UNKNOWN = "unknown", _("Unknown")

    STATUS_COLORS = {Status.UP: "success", Status.DEGRADED: "warning", Status.DOWN: "danger",
                     Status.UNKNOWN: "secondary"}

    class ErrorKind(models.TextChoices):
        NONE = "", _("None")
        UNREACHABLE = "unreachable", _("Unreachable")
        TIMEOUT = "timeout", _("Timeout")
        TLS = "tls", _("TLS failure")
        AUTH = "auth", _("Authentication failed")
        FORBIDDEN = "forbidden", _("Permission denied")
        SERVER_ERROR = "server_error", _("Server error")
        BAD_RESPONSE = "bad_response", _("Bad response")
        UNSUPPORTED_VERSION = "unsupported_version", _("Unsupported version")
        INTERNAL = "internal", _("Internal error")

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500, validators=[URLValidator(schemes=["http", "https"])],
                          help_text="Base URL, e.g. https://harbor.example.com")
    labels = models.JSONField(default=dict, blank=True)
    credential_kind = models.CharField(max_length=16, choices=CredentialKind.choices,
                                       default=CredentialKind.SYSADMIN)
    username = models.CharField(max_length=255)
    password = EncryptedTextField(blank=True)
    ca_bundle = models.TextField(blank=True, help_text="PEM; blank = verify with the system CAs")
    notes = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    ha_group = models.ForeignKey(HAGroup, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="instances")

    # Current state, written by the sweep (services/sweep.py).
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNKNOWN)
    status_since = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_swept_at = models.DateTimeField(null=True, blank=True)
    version = models.CharField(max_length=64, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    storage_total = models.BigIntegerField(null=True, blank=True)
    storage_free = models.BigIntegerField(null=True, blank=True)
    unhealthy_components = models.JSONField(default=list, blank=True)
    statistics = models.JSONField(default=dict, blank=True)
    error_kind = models.CharField(max_length=32, choices=ErrorKind.choices, blank=True, default="")
    error_message = models.TextField(blank=True)

    # Declared, not left to the django-stubs plugin: mypy stays exact before the app is installed.
    ha_group_id: int | None
    objects: ClassVar[models.Manager[Instance]] = models.Manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def _client_kwargs(self, timeout: float, connect_timeout: float | None) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "ca_pem": self.ca_bundle.strip() or None,
            "timeout": timeout,
            "connect_timeout": connect_timeout if connect_timeout is not None else min(timeout, 5.0),
        }

    def client(self, *, transport: httpx.BaseTransport | None = None, timeout: float = 15.0,
               connect_timeout: float | None = None, **kw: Any) -> HarborClient:
        """The one place a blocking Harbor client is built (STYLE G3); tests pass ``transport``."""
        return HarborClient(self.url, transport=transport, **self._client_kwargs(timeout, connect_timeout), **kw)

    def async_client(self, *, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 15.0,
                     connect_timeout: float | None = None, **kw: Any) -> AsyncHarborClient:
        """The async twin of :meth:`client`, used by the sweep."""
        return AsyncHarborClient(self.url, transport=transport, **self._client_kwargs(timeout, connect_timeout),
                                 **kw)

    def health_label(self) -> str:
        status = str(self.Status(self.status).label)
        if self.error_kind:
            return f"{status}: {self.ErrorKind(self.error_kind).label}"
        if self.status == self.Status.DEGRADED and self.unhealthy_components:
            return f"{status}: {', '.join(map(str, self.unhealthy_components))}"
        return status

    @property
    def storage_used_fraction(self) -> float | None:
        if not self.storage_total or self.storage_free is None:
            return None
        return 1 - self.storage_free / self.storage_total


class HealthSnapshot(models.Model):
    """What one sweep saw of one instance. Purged after HARBOROPS_SNAPSHOT_RETENTION_DAYS."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=16, choices=Instance.Status.choices)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    version = models.CharField(max_length=64, blank=True)
    components = models.JSONField(default=list, blank=True)  # [{"name", "status", "error"?}]
    storage_total = models.BigIntegerField(null=True, blank=True)
    storage_free = models.BigIntegerField(null=True, blank=True)
    statistics = models.JSONField(default=dict, blank=True)
    job_queues = models.JSONField(null=True, blank=True)  # None: the version has no /jobservice (< 2.7)
    error_kind = models.CharField(max_length=32, choices=Instance.ErrorKind.choices, blank=True, default="")
    error = models.TextField(blank=True)

    instance_id: int
    objects: ClassVar[models.Manager[HealthSnapshot]] = models.Manager()

    class Meta:
        ordering = ("-taken_at",)
        indexes = (models.Index(fields=("instance", "-taken_at")),)

    def __str__(self) -> str:
        return f"{self.instance_id} @ {self.taken_at:%Y-%m-%d %H:%M:%S}: {self.status}"


class StatusChange(models.Model):
    """A transition of an instance's status; written once per transition."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="status_changes")
    at = models.DateTimeField(db_index=True)
    from_status = models.CharField(max_length=16, choices=Instance.Status.choices)
    to_status = models.CharField(max_length=16, choices=Instance.Status.choices)
    reason = models.TextField(blank=True)

    instance_id: int
    objects: ClassVar[models.Manager[StatusChange]] = models.Manager()

    class Meta:
        ordering = ("-at", "-pk")

    def __str__(self) -> str:
        return f"{self.instance_id}: {self.from_status} → {self.to_status}"


class SweepRun(models.Model):
    """One sweep over the fleet, scheduled or "Sweep all now": fanned out as one Celery task per
    chunk (:class:`SweepChunk`); each chunk adds its counts as it finishes, the last stamps the end."""

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        MANUAL = "manual", _("Sweep all now")

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULED)
    job = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    instances = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    # Chunks no worker took before their message expired (or whose worker died): the run then ends
    # incomplete, and does not count as the fleet's last complete sweep.
    chunks_expired = models.PositiveIntegerField(default=0)
    up = models.PositiveIntegerField(default=0)
    degraded = models.PositiveIntegerField(default=0)
    down = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    transitions = models.PositiveIntegerField(default=0)

    job_id: int | None
    objects: ClassVar[models.Manager[SweepRun]] = models.Manager()

    class Meta:
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"sweep {self.pk} at {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @property
    def is_complete(self) -> bool:
        return self.finished_at is not None and not self.chunks_expired

    def elapsed(self) -> timedelta | None:
        return self.duration

    def outcome_summary(self) -> str:
        parts = [f"{n} {label}" for label, n in (("up", self.up), ("degraded", self.degraded), ("down", self.down),
                                                 ("unknown", self.unknown)) if n]
        swept = self.up + self.degraded + self.down + self.unknown
        return f"{swept} instances swept ({', '.join(parts) or 'none'}); {self.transitions} status changes"


class SweepChunk(models.Model):
    """One chunk of a sweep run: the instances one Celery task polls, and how long that took.

    A chunk is claimed once (pending -> running, a conditional UPDATE), so a redelivered task or
    the "Sweep all now" job sweeping chunks no worker has picked up never polls it twice."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        EXPIRED = "expired", _("Expired")

    run = models.ForeignKey(SweepRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    instance_ids = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    worker = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    poll_seconds = models.FloatField(null=True, blank=True)
    record_seconds = models.FloatField(null=True, blank=True)
    swept = models.PositiveIntegerField(default=0)

    run_id: int
    objects: ClassVar[models.Manager[SweepChunk]] = models.Manager()

    class Meta:
        ordering = ("run", "index")
        constraints = (models.UniqueConstraint(fields=("run", "index"), name="fleet_sweepchunk_run_index"),)

    def __str__(self) -> str:
        return f"sweep {self.run_id} chunk {self.index}"

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
