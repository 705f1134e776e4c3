"""Stored events made directly (no Harbor): search, pagination and export tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from harborops.audit.models import ActionLogEntry
from harborops.events import figures
from harborops.events.models import HarborEvent
from harborops.fleet.models import Instance

OPS = ("create", "delete", "pull", "update")


def make_instance(name: str, **labels: str) -> Instance:
    return Instance.objects.create(name=name, url=f"http://sim/{name}", username="admin", password="x",
                                   labels=labels)


def harbor_events(instance: Instance, count: int, *, start: datetime, step: timedelta = timedelta(seconds=1),
                  first_id: int = 1, project: str = "proj", user: str = "alice",
                  batch: int = 5000) -> None:
    rows = []
    for i in range(count):
        hid = first_id + i
        op = OPS[i % len(OPS)]
        resource = f"{project}/app-{i % 3}:v{i % 5}"
        rows.append(HarborEvent(instance=instance, instance_name=instance.name, source="audit-logs",
                                harbor_id=hid, op_time=start + step * i, username=user, operation=op,
                                resource_type="artifact", resource=resource, project=project,
                                raw={"id": hid, "operation": op, "resource": resource}))
        if len(rows) >= batch:
            HarborEvent.objects.bulk_create(rows)
            rows = []
    HarborEvent.objects.bulk_create(rows)
    figures.recount([instance.pk])  # rows made here bypass the ingest that keeps the figures


def actions(count: int, *, start: datetime, step: timedelta = timedelta(seconds=1), actor: str = "alice",
            object_repr: str = "proj", action: str = "mapping.update") -> list[ActionLogEntry]:
    return ActionLogEntry.objects.bulk_create([
        ActionLogEntry(time=start + step * i, actor_name=actor, action=action, object_type="access.mapping",
                       object_id=str(i), object_repr=object_repr) for i in range(count)])
