"""Offline GC targets (registries collected over SSH): create / change / delete, audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.maintenance.models import OfflineTarget

FIELDS = ("name", "host", "instance", "stop_mode", "compose_dir", "compose_service", "systemd_unit", "stop_command",
          "start_command", "gc_command", "config_path", "storage_dir", "registry_url", "verify_refs",
          "command_timeout", "notes")


def snapshot(target: OfflineTarget) -> dict[str, Any]:
    return {k: (str(getattr(target, k)) if k in ("host", "instance") else getattr(target, k)) for k in FIELDS}


def _clean(target: OfflineTarget) -> None:
    errors: dict[str, list[str]] = {}
    mode = target.stop_mode
    if mode == OfflineTarget.StopMode.COMPOSE and not target.compose_dir:
        errors["compose_dir"] = ["the directory of docker-compose.yml is required for docker compose"]
    if mode == OfflineTarget.StopMode.SYSTEMD and not target.systemd_unit:
        errors["systemd_unit"] = ["the unit is required for systemd"]
    if mode == OfflineTarget.StopMode.COMMAND:
        if not target.stop_command:
            errors["stop_command"] = ["a stop command is required"]
        if not target.start_command:
            errors["start_command"] = ["a start command is required"]
    for name in ("stop_command", "start_command", "gc_command", "verify_refs"):
        value = getattr(target, name)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            errors[name] = ["a list of non-empty strings"]
    for ref in target.verify_refs if isinstance(target.verify_refs, list) else []:
        if ":" not in str(ref) and "@" not in str(ref):
            errors["verify_refs"] = [f"{ref!r}: write repository:tag or repository@digest"]
    if errors:
        raise ValidationError(errors)
    target.full_clean()


@transaction.atomic
def create_target(*, actor: Actor, **values: Any) -> OfflineTarget:
    target = OfflineTarget(**{k: v for k, v in values.items() if k in FIELDS})
    _clean(target)
    target.save()
    record(actor=actor, action="maintenance.offline_target.create", obj=target, after=snapshot(target))
    return target


@transaction.atomic
def update_target(target: OfflineTarget, *, actor: Actor, **values: Any) -> OfflineTarget:
    before = snapshot(target)
    for key, value in values.items():
        if key in FIELDS:
            setattr(target, key, value)
    _clean(target)
    target.save()
    record(actor=actor, action="maintenance.offline_target.update", obj=target, before=before,
           after=snapshot(target))
    return target


@transaction.atomic
def delete_target(target: OfflineTarget, *, actor: Actor) -> None:
    record(actor=actor, action="maintenance.offline_target.delete", obj=target, before=snapshot(target))
    target.delete()
