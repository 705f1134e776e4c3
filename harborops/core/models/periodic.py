"""When a system task last completed: the reaper writes here after each run (the sweep has its own
``fleet.SweepRun``), so a reaper that stopped running is an alert (core/job_conditions.py) and a gauge."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.timezone import now


class PeriodicRun(models.Model):
    name = models.CharField(max_length=64, unique=True)
    last_finished_at = models.DateTimeField()
    last_summary = models.CharField(max_length=500, blank=True)

    objects: ClassVar[models.Manager[PeriodicRun]] = models.Manager()

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_finished_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def note(cls, name: str, summary: str = "") -> None:
        """Record that ``name`` just finished (one row per name, updated in place)."""
        cls.objects.update_or_create(name=name, defaults={"last_finished_at": now(), "last_summary": summary[:500]})
