"""Signal receivers of core: role groups exist after migrate; job-log retention is kept."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def _create_role_groups(sender: Any, **kwargs: Any) -> None:
    if getattr(sender, "label", "") != "core":
        return
    from harborops.core.roles import ensure_role_groups

    ensure_role_groups()
