"""Sync the system schedules (harborops/schedule.py) into django-celery-beat at beat start.

django-celery-beat copies ``beat_schedule`` entries into its tables but never disables an entry
that was removed from code (django-celery-beat #248), so a system entry gone from code would keep
running. System entries carry the ``SYSTEM_PREFIX``; user schedules (GC policies) never do.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import beat_init

from harborops.schedule import SYSTEM_PREFIX

logger = logging.getLogger(__name__)


def disable_removed_system_entries(current_names: set[str]) -> int:
    from django_celery_beat.models import PeriodicTask

    stale = PeriodicTask.objects.filter(name__startswith=SYSTEM_PREFIX, enabled=True).exclude(
        name__in=current_names)
    count = 0
    for task in stale:
        task.enabled = False
        task.save(update_fields=["enabled"])
        count += 1
    if count:
        logger.info("beat: disabled %d system schedule(s) no longer defined in code", count)
    return count


@beat_init.connect
def _on_beat_init(sender: Any = None, **kwargs: Any) -> None:
    from django.conf import settings

    disable_removed_system_entries(set(settings.CELERY_BEAT_SCHEDULE))
