"""HA groups: two or more instances that serve one hostname (shared storage or two-way replication)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.fleet.models import HAGroup, Instance

__all__ = ("create_group", "delete_group", "update_group")


def _view(group: HAGroup) -> dict[str, Any]:
    return {"name": group.name, "hostname": group.hostname, "mode": group.mode, "notes": group.notes,
            "members": sorted(group.instances.values_list("name", flat=True))}


def _set_members(group: HAGroup, members: Iterable[Instance]) -> None:
    wanted = {m.pk for m in members}
    if len(wanted) < 2:
        raise ValidationError({"members": "an HA group needs two or more instances"})
    taken = Instance.objects.filter(pk__in=wanted, ha_group__isnull=False).exclude(ha_group=group)
    if taken.exists():
        names = ", ".join(f"{i.name} (in {i.ha_group})" for i in taken.select_related("ha_group"))
        raise ValidationError({"members": f"already in another HA group: {names}"})
    group.instances.exclude(pk__in=wanted).update(ha_group=None)
    Instance.objects.filter(pk__in=wanted).update(ha_group=group)


def create_group(*, actor: Actor, name: str, members: Iterable[Instance], mode: str = HAGroup.Mode.SHARED_STORAGE,
                 hostname: str = "", notes: str = "") -> HAGroup:
    group = HAGroup(name=name, mode=mode, hostname=hostname, notes=notes)
    group.full_clean()
    with transaction.atomic():
        group.save()
        _set_members(group, members)
        record(actor=actor, action="fleet.hagroup.create", obj=group, before=None, after=_view(group))
    return group


def update_group(group: HAGroup, *, actor: Actor, members: Iterable[Instance] | None = None,
                 **changes: Any) -> HAGroup:
    unknown = set(changes) - {"name", "mode", "hostname", "notes"}
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    before = _view(group)
    for name, value in changes.items():
        setattr(group, name, value)
    group.full_clean()
    with transaction.atomic():
        group.save()
        if members is not None:
            _set_members(group, members)
        record(actor=actor, action="fleet.hagroup.update", obj=group, before=before, after=_view(group))
    return group


def delete_group(group: HAGroup, *, actor: Actor) -> None:
    """The members stay in the fleet; they just no longer form a group."""
    with transaction.atomic():
        record(actor=actor, action="fleet.hagroup.delete", obj=group, before=_view(group), after=None)
        group.delete()
