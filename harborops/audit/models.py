from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.timezone import now


class ActionLogEntry(models.Model):
    """One change made through harborops (NetBox's ObjectChange, written explicitly by services).

    ``object_repr`` and ``actor_name`` are snapshots: they stay readable after the object or the
    user is deleted. ``before`` / ``after`` hold the changed fields (secrets never: services pass
    "set" / "unchanged" markers for encrypted fields).
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"

    time = models.DateTimeField(default=now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    actor_name = models.CharField(max_length=150)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.SUCCESS)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ("-time", "-id")
        indexes = [models.Index(fields=("object_type", "object_id", "-time")),
                   # "what did this person do": the unified event search filters by user, newest first.
                   models.Index(fields=("actor_name", "-time", "-id"), name="audit_actor_time")]
        verbose_name = "action log entry"
        verbose_name_plural = "action log entries"

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.object_repr}"

    def diff(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every field whose value changed."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
