from __future__ import annotations

import datetime as dt
import fnmatch
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from harborops.fleet.models import Instance

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
SEVERITY_CHOICES = (("critical", "Critical"), ("warning", "Warning"), ("info", "Info"))


class Alert(models.Model):
    """One condition about one subject, from the first time it was seen until it cleared.

    firing → acknowledged (by whom, comment) → resolved (the condition cleared; a recovery notice
    goes out). At most one open (not resolved) alert per (condition, subject): the database says so.
    """

    class State(models.TextChoices):
        FIRING = "firing", _("Firing")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    STATE_COLORS = {State.FIRING: "danger", State.ACKNOWLEDGED: "warning", State.RESOLVED: "success"}

    condition = models.CharField(max_length=100, db_index=True)
    subject = models.CharField(max_length=200)
    severity = models.CharField(max_length=16, choices=SEVERITY_CHOICES)
    summary = models.CharField(max_length=500)
    details = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    instance = models.ForeignKey(Instance, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    instance_name = models.CharField(max_length=100, blank=True)
    labels = models.JSONField(default=dict, blank=True)  # occurrence labels + the instance's labels
    state = models.CharField(max_length=16, choices=State.choices, default=State.FIRING, db_index=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    acknowledged_by_name = models.CharField(max_length=150, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledge_comment = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    silenced_by = models.ForeignKey("alerts.Silence", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="alerts")

    objects: ClassVar[models.Manager[Alert]] = models.Manager()

    class Meta:
        ordering = ("-first_seen", "-pk")
        constraints = (
            models.UniqueConstraint(fields=("condition", "subject"), condition=~Q(state="resolved"),
                                    name="alerts_one_open_alert_per_condition_subject"),
        )

    def __str__(self) -> str:
        return f"{self.condition} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("alerts:alert_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state != self.State.RESOLVED

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK.get(self.severity, 9)

    def age(self, at: dt.datetime) -> dt.timedelta:
        return (self.resolved_at or at) - self.first_seen


class Silence(models.Model):
    """While active (starts_at <= now < ends_at), matching alerts send nothing and show as silenced.

    Matchers (all given ones must match): ``condition`` (a key or a glob like ``fleet.*``), ``instance``,
    ``labels`` (every key=value must be among the alert's labels). A silence with no matcher at all
    is refused (it would mute everything)."""

    condition = models.CharField(max_length=100, blank=True, help_text="condition key or glob, e.g. fleet.*")
    instance = models.ForeignKey(Instance, null=True, blank=True, on_delete=models.CASCADE, related_name="silences")
    labels = models.JSONField(default=dict, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    author_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[models.Manager[Silence]] = models.Manager()

    class Meta:
        ordering = ("-ends_at", "-pk")

    def __str__(self) -> str:
        return f"silence {self.pk}: {self.matcher_text()}"

    def get_absolute_url(self) -> str:
        return reverse("alerts:silence_edit", args=[self.pk])

    def is_active(self, at: dt.datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def matcher_text(self) -> str:
        parts = []
        if self.condition:
            parts.append(f"condition={self.condition}")
        if self.instance_id:
            parts.append(f"instance={self.instance.name if self.instance else self.instance_id}")
        parts += [f"{k}={v}" for k, v in sorted(self.labels.items())]
        return ", ".join(parts) or "(nothing)"

    def matches(self, alert: Alert) -> bool:
        if self.condition and not fnmatch.fnmatchcase(alert.condition, self.condition):
            return False
        if self.instance_id and alert.instance_id != self.instance_id:
            return False
        return all(str(alert.labels.get(k)) == str(v) for k, v in self.labels.items())
