"""Harbor audit events pulled from every instance, the per-source ingest cursors, and what the
ingest noticed on the way (purged id ranges, reinstalled instances).

One ``HarborEvent`` per Harbor audit row, unique on (instance, source, epoch, harbor id). ``epoch``
is the instance's "lineage" for that source: a reinstalled Harbor starts its ids at 1 again, so
the ingest opens a new epoch instead of mistaking new events for ones it already has (which would
lose them) or overwriting the old ones (which would lose those).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.timezone import now

from harborops.fleet.models import Instance

__all__ = ("EventCursor", "EventDay", "HarborEvent", "IngestAnomaly", "IngestState")


class Source(models.TextChoices):
    LEGACY = "audit-logs", "/audit-logs"
    EXT = "auditlog-exts", "/auditlog-exts"


class HarborEvent(models.Model):
    """One audit event of one Harbor, normalized; ``raw`` keeps the record as Harbor sent it."""

    id = models.BigAutoField(primary_key=True)
    # SET_NULL, not CASCADE: removing an instance from the dashboard must not erase its audit trail.
    # db_index=False: (instance, op_time, id) and the unique key already lead with instance.
    instance = models.ForeignKey(Instance, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    instance_name = models.CharField(max_length=100)
    source = models.CharField(max_length=16, choices=Source.choices)
    epoch = models.PositiveSmallIntegerField(default=1)
    harbor_id = models.BigIntegerField()
    op_time = models.DateTimeField()
    username = models.CharField(max_length=255, blank=True)
    operation = models.CharField(max_length=64, blank=True)
    resource_type = models.CharField(max_length=64, blank=True)
    resource = models.CharField(max_length=1024, blank=True)
    project = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    result = models.BooleanField(null=True)
    raw = models.JSONField(default=dict)
    ingested_at = models.DateTimeField(default=now)

    instance_id: int | None
    objects: ClassVar[models.Manager[HarborEvent]] = models.Manager()

    class Meta:
        ordering = ("-op_time", "-id")
        constraints = [
            models.UniqueConstraint(fields=("instance", "source", "epoch", "harbor_id"),
                                    name="events_unique_harbor_id"),
        ]
        # Every list is "newest first" under one equality filter, so each index ends in (op_time, id):
        # the keyset predicate (op_time, id) < (T, N) and ORDER BY op_time DESC, id DESC walk it.
        indexes = [
            models.Index(fields=("-op_time", "-id"), name="events_time"),
            models.Index(fields=("instance", "-op_time", "-id"), name="events_inst_time"),
            models.Index(fields=("username", "-op_time", "-id"), name="events_user_time"),
            models.Index(fields=("project", "-op_time", "-id"), name="events_project_time"),
            # resource prefix / substring: PostgreSQL pattern and trigram indexes (migration 0002).
            models.Index(fields=("operation", "-op_time", "-id"), name="events_op_time"),
        ]

    def __str__(self) -> str:
        return f"{self.instance_name}#{self.harbor_id} {self.username} {self.operation} {self.resource}"


class EventDay(models.Model):
    """Stored events per instance, day and operation: the activity chart's rollup, moved in the same
    transaction as the events it counts (events/figures.py), so the chart never groups 10 M rows.
    ``day`` is the event's date in the dashboard's time zone (what ``TruncDate`` gives)."""

    # SET_NULL like HarborEvent.instance: a removed instance's events still count in "all instances".
    instance = models.ForeignKey(Instance, null=True, on_delete=models.SET_NULL, related_name="+")
    day = models.DateField()
    operation = models.CharField(max_length=64, blank=True)
    count = models.BigIntegerField(default=0)

    objects: ClassVar[models.Manager[EventDay]] = models.Manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=("instance", "day", "operation"), name="events_day_unique")]
        indexes = [models.Index(fields=("day",), name="events_day_day")]

    def __str__(self) -> str:
        return f"{self.instance_id} {self.day} {self.operation}: {self.count}"


class EventCursor(models.Model):
    """How far the ingest got in one source of one instance.

    ``last_id`` only moves in the transaction that stores the rows up to it (compare-and-set on
    the value read before the batch), so a killed worker leaves it at the last committed batch.
    ``anchor`` fingerprints the event at ``last_id``: if Harbor later shows another event under
    that id, the instance was reinstalled.
    """

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices)
    epoch = models.PositiveSmallIntegerField(default=1)
    last_id = models.BigIntegerField(default=0)
    anchor = models.CharField(max_length=64, blank=True)
    # /audit-logs on v2.13+ is frozen history: once read to the end it is never polled again.
    complete = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=now)

    instance_id: int
    objects: ClassVar[models.Manager[EventCursor]] = models.Manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=("instance", "source"), name="events_cursor_unique")]

    def __str__(self) -> str:
        return f"{self.instance_id}/{self.source}@{self.epoch}:{self.last_id}"


class IngestState(models.Model):
    """Per instance: the ingest lease (one ingest at a time), the last outcome, and whether Harbor
    forwards its audit log to syslog instead of its database."""

    instance = models.OneToOneField(Instance, on_delete=models.CASCADE, related_name="+", primary_key=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_stored = models.IntegerField(default=0)
    version = models.CharField(max_length=64, blank=True)
    forward_endpoint = models.CharField(max_length=255, blank=True)
    skip_database = models.BooleanField(null=True)
    forwarding_checked_at = models.DateTimeField(null=True, blank=True)
    forwarding_error = models.CharField(max_length=255, blank=True)
    # Stored events of this instance, kept in the transaction that inserts or purges them
    # (events/figures.py): the per-instance page never aggregates the events table.
    stored_events = models.BigIntegerField(default=0)
    oldest_event_at = models.DateTimeField(null=True, blank=True)
    newest_event_at = models.DateTimeField(null=True, blank=True)

    instance_id: int
    objects: ClassVar[models.Manager[IngestState]] = models.Manager()

    def __str__(self) -> str:
        return f"ingest state of {self.instance_id}"

    @property
    def nothing_to_pull(self) -> bool:
        return bool(self.skip_database)


class IngestAnomaly(models.Model):
    """Something the ingest noticed and handled: a purged id range or a reinstalled instance."""

    class Kind(models.TextChoices):
        GAP = "gap", "Ids missing (purged before ingest)"
        RESET = "reset", "Ids went backwards (instance reinstalled)"

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices)
    epoch = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    from_id = models.BigIntegerField(default=0)
    to_id = models.BigIntegerField(default=0)
    missing = models.BigIntegerField(default=0)
    message = models.TextField(blank=True)
    detected_at = models.DateTimeField(default=now, db_index=True)

    objects: ClassVar[models.Manager[IngestAnomaly]] = models.Manager()

    class Meta:
        ordering = ("-detected_at", "-id")

    def __str__(self) -> str:
        return f"{self.kind} {self.source} {self.from_id}..{self.to_id}"
