from __future__ import annotations

from django.db import models


class LoginFailureCounter(models.Model):
    """Failed logins of one user name or one client address within the current window (core/login_throttle.py)."""

    class Kind(models.TextChoices):
        USERNAME = "username", "user name"
        ADDRESS = "address", "client address"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=255)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    last_failure_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="login_failure_counter_kind_key")]
        indexes = [models.Index(fields=["locked_until"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}"
