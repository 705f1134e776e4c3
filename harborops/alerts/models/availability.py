from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from harborops.fleet.models import Instance


class InstanceAvailability(models.Model):
    """An instance's debounced availability (hysteresis over the sweeps), beside its raw last result.

    ``state`` turns *down* only after N consecutive failed sweeps or M minutes of failures, and back
    *up* after K consecutive good sweeps (settings HARBOROPS_ALERT_DOWN_AFTER_* / _UP_AFTER_SUCCESSES,
    overridable per instance label). Updated by the sweep's writer (fleet.services.sweep.record_probes).
    """

    class State(models.TextChoices):
        UP = "up", _("Up")
        DOWN = "down", _("Down")
        UNKNOWN = "unknown", _("Unknown")

    STATE_COLORS = {State.UP: "success", State.DOWN: "danger", State.UNKNOWN: "secondary"}

    instance = models.OneToOneField(Instance, on_delete=models.CASCADE, related_name="availability")
    state = models.CharField(max_length=16, choices=State.choices, default=State.UNKNOWN)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    since = models.DateTimeField(null=True, blank=True)          # when ``state`` last changed
    failing_since = models.DateTimeField(null=True, blank=True)  # first failure of the current streak
    last_raw_ok = models.BooleanField(null=True)                 # the last counted probe answered
    last_probe_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[models.Manager[InstanceAvailability]] = models.Manager()

    class Meta:
        verbose_name_plural = "instance availabilities"

    def __str__(self) -> str:
        return f"{self.instance_id}: {self.state}"
