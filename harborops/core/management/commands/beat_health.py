"""Exit 0 when beat is dispatching: the every-minute reaper entry ran within --max-age seconds.
Used as the beat container's health check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.timezone import now

from harborops.schedule import SYSTEM_PREFIX


class Command(BaseCommand):
    help = "Check that celery beat has dispatched the reaper recently."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-age", type=int, default=180)

    def handle(self, *args: Any, **options: Any) -> None:
        from django_celery_beat.models import PeriodicTask

        task = PeriodicTask.objects.filter(name=SYSTEM_PREFIX + "Reap jobs whose worker died").first()
        if task is None or task.last_run_at is None:
            raise CommandError("beat has not dispatched the reaper yet")
        age = now() - task.last_run_at
        if age > timedelta(seconds=options["max_age"]):
            raise CommandError(f"beat last dispatched the reaper {int(age.total_seconds())}s ago")
        self.stdout.write(f"beat ok: reaper dispatched {int(age.total_seconds())}s ago")
