"""harborops' own action log: every service that changes state calls ``record`` itself."""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from harborops.audit.models import ActionLogEntry
from harborops.core.actor import Actor
from harborops.core.redaction import redact


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    import json

    # Round-trip through Django's encoder (dates, decimals, UUIDs) and redact any secret shape.
    result: dict[str, Any] = json.loads(redact(json.dumps(data, cls=DjangoJSONEncoder)))
    return result


def record(*, actor: Actor, action: str, obj: models.Model | None = None, object_type: str = "",
           object_id: str = "", object_repr: str = "", before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, outcome: str = ActionLogEntry.Outcome.SUCCESS,
           message: str = "") -> ActionLogEntry:
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    return ActionLogEntry.objects.create(
        user=actor.user,
        actor_name=actor.name,
        request_id=actor.request_id,
        source_ip=actor.source_ip,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        before=_jsonable(before),
        after=_jsonable(after),
        outcome=outcome,
        message=redact(message),
    )
