from __future__ import annotations

import fnmatch
import uuid
from typing import Any, ClassVar

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from harborops.alerts.models.alerts import Alert
from harborops.core.fields import EncryptedTextField


class Channel(models.Model):
    """Where notifications go: an email list, a webhook (generic / Slack / Teams JSON, HMAC-signed),
    or a Prometheus Alertmanager. ``secret`` (the webhook's HMAC key) is encrypted at rest and never
    shown again once saved."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        WEBHOOK = "webhook", _("Webhook")
        ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")

    class Format(models.TextChoices):
        GENERIC = "generic", _("Generic JSON")
        SLACK = "slack", _("Slack-compatible")
        TEAMS = "teams", _("Microsoft Teams-compatible")

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    email_to = models.TextField(blank=True, help_text="email: recipients, comma or newline separated")
    url = models.URLField(max_length=500, blank=True,
                          help_text="webhook: the URL to POST to; Alertmanager: its base URL (http://am:9093)")
    webhook_format = models.CharField(max_length=16, choices=Format.choices, default=Format.GENERIC)
    secret = EncryptedTextField(blank=True, help_text="webhook: HMAC-SHA256 key for the signature header")
    failing_since = models.DateTimeField(null=True, blank=True)  # first failed attempt since the last success
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[models.Manager[Channel]] = models.Manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("alerts:channel_detail", args=[self.pk])

    def recipients(self) -> list[str]:
        return [a.strip() for a in self.email_to.replace("\n", ",").split(",") if a.strip()]

    def target_text(self) -> str:
        if self.kind == self.Kind.EMAIL:
            return ", ".join(self.recipients())
        return self.url


class Route(models.Model):
    """Which alerts go to which channels. Routes are tried in ``position`` order; the first that
    matches takes the alert unless it says ``continue_matching``. Alerts no route takes go to the
    default route(s). Empty matchers match anything."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=100)
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="takes the alerts no other route matched")
    severities = models.JSONField(default=list, blank=True)   # ["critical", ...]; empty = any
    conditions = models.JSONField(default=list, blank=True)   # keys or globs ("fleet.*"); empty = any
    labels = models.JSONField(default=dict, blank=True)       # {"team": "payments"}; all must match
    continue_matching = models.BooleanField(default=False)
    channels = models.ManyToManyField(Channel, related_name="routes", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[models.Manager[Route]] = models.Manager()

    class Meta:
        ordering = ("position", "name")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("alerts:route_edit", args=[self.pk])

    def matches(self, alert: Alert) -> bool:
        if self.severities and alert.severity not in self.severities:
            return False
        if self.conditions and not any(fnmatch.fnmatchcase(alert.condition, c) for c in self.conditions):
            return False
        return all(str(alert.labels.get(k)) == str(v) for k, v in self.labels.items())

    def matcher_text(self) -> str:
        parts = []
        if self.severities:
            parts.append("severity in " + "|".join(self.severities))
        if self.conditions:
            parts.append("condition " + "|".join(self.conditions))
        parts += [f"{k}={v}" for k, v in sorted(self.labels.items())]
        return ", ".join(parts) or "everything"


class Notification(models.Model):
    """One message to one channel about one or more alerts (a digest when many fire together).

    The outbox: written in the same transaction as the alert change that causes it, delivered by a
    Celery task with retries and exponential backoff. ``payload`` is frozen at creation and
    ``idempotency_key`` is in every attempt, so a retried delivery is recognisably the same message.
    A worker killed mid-delivery leaves it ``sending`` with an expired lease: the next dispatch pass
    sends it again (at least once).
    """

    class Kind(models.TextChoices):
        FIRING = "firing", _("Firing")
        REMINDER = "reminder", _("Reminder")
        RESOLVED = "resolved", _("Resolved")
        TEST = "test", _("Test")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    STATUS_COLORS = {Status.PENDING: "secondary", Status.SENDING: "info", Status.SENT: "success",
                     Status.FAILED: "danger"}

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="notifications")
    route_name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    alerts = models.ManyToManyField(Alert, related_name="notifications", blank=True)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField(default=dict)  # {"title": ..., "alerts": [alert dicts]}
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects: ClassVar[models.Manager[Notification]] = models.Manager()

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.kind} to {self.channel_id} ({self.status})"

    @property
    def alert_dicts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self.payload.get("alerts", [])
        return alerts


class DeliveryAttempt(models.Model):
    """One try at delivering a notification: HTTP status or SMTP reply, or the error."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    attempt = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    status_code = models.IntegerField(null=True, blank=True)
    reply = models.TextField(blank=True)  # SMTP reply or the start of the HTTP response body
    error = models.TextField(blank=True)

    objects: ClassVar[models.Manager[DeliveryAttempt]] = models.Manager()

    class Meta:
        ordering = ("notification_id", "attempt", "pk")

    def __str__(self) -> str:
        return f"attempt {self.attempt} of {self.notification_id}"
