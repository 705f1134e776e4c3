"""GC policies: create / change / delete (audited), their cron in django-celery-beat, and the
instances each one targets, in the order a run visits them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.fleet.models import Instance
from harborops.maintenance.models import GCPolicy, OfflineTarget
from harborops.schedule import SYSTEM_PREFIX, parse_cron

FIELDS = ("name", "enabled", "targets", "target_label", "cron", "window_start", "window_minutes", "concurrency",
          "delete_untagged", "dry_run_first", "workers", "harbor_cron", "notes")
BEAT_TASK = "harborops.maintenance.tasks.run_policy"
BEAT_PREFIX = "gc policy: "  # user schedules never carry SYSTEM_PREFIX (core/beat.py disables those)
MAX_WORKERS = 10  # Harbor 2.13+; the run clamps to what each instance's version accepts
MAX_WINDOW_MINUTES = 7 * 24 * 60  # the run job's time limit covers this (tasks.RUN_TIME_LIMIT)


def parse_label(label: str) -> tuple[str, str]:
    key, sep, value = label.partition("=")
    if not sep or not key.strip():
        raise ValidationError({"target_label": "write the label as key=value, e.g. env=prod"})
    return key.strip(), value.strip()


def check_cron(expression: str) -> str:
    """A 5-field cron for beat; ValidationError naming the field otherwise."""
    expression = " ".join(expression.split())
    if not expression:
        return ""
    try:
        from celery.schedules import crontab

        crontab(**parse_cron(expression))
    except (ValueError, TypeError) as exc:
        raise ValidationError({"cron": f"not a valid cron expression: {exc}"}) from None
    return expression


def check_harbor_cron(expression: str) -> str:
    """Harbor's schedule cron: 6 fields, seconds first (Harbor's own UI writes '0 0 0 * * *')."""
    expression = " ".join(expression.split())
    if not expression:
        return ""
    fields = expression.split()
    if len(fields) != 6:
        raise ValidationError({"harbor_cron": "Harbor's cron has 6 fields, seconds first: e.g. 0 0 3 * * 6"})
    try:
        from celery.schedules import crontab

        crontab(**parse_cron(" ".join(fields[1:])))
    except (ValueError, TypeError) as exc:
        raise ValidationError({"harbor_cron": f"not a valid cron expression: {exc}"}) from None
    if not fields[0].isdigit() or not 0 <= int(fields[0]) < 60:
        raise ValidationError({"harbor_cron": "the seconds field must be a number 0-59"})
    return expression


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in values.items() if k in FIELDS}
    errors: dict[str, list[str]] = {}
    for name, check in (("cron", check_cron), ("harbor_cron", check_harbor_cron)):
        if name in values:
            try:
                values[name] = check(str(values[name] or ""))
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if values.get("targets") == GCPolicy.Targets.LABEL:
        try:
            parse_label(str(values.get("target_label") or ""))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    workers = values.get("workers")
    if workers is not None and not 1 <= int(workers) <= MAX_WORKERS:
        errors["workers"] = [f"GC workers must be 1..{MAX_WORKERS} (Harbor 2.9-2.12 accept 1..5)"]
    if "concurrency" in values and int(values["concurrency"] or 0) < 1:
        errors["concurrency"] = ["at least 1"]
    if "window_minutes" in values and not 1 <= int(values["window_minutes"] or 0) <= MAX_WINDOW_MINUTES:
        errors["window_minutes"] = [f"1 to {MAX_WINDOW_MINUTES} minutes (7 days)"]
    if errors:
        raise ValidationError(errors)
    return values


def sync_beat(policy: GCPolicy) -> None:
    """Mirror the policy's cron into one django-celery-beat PeriodicTask (or remove it)."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    task = policy.periodic_task
    if not policy.cron:
        if task is not None:
            policy.periodic_task = None
            GCPolicy.objects.filter(pk=policy.pk).update(periodic_task=None)
            task.delete()
        return
    from django.conf import settings

    schedule, _ = CrontabSchedule.objects.get_or_create(**parse_cron(policy.cron), timezone=settings.TIME_ZONE)
    name = f"{BEAT_PREFIX}{policy.name}"[:200]
    assert not name.startswith(SYSTEM_PREFIX)
    values = {"name": name, "task": BEAT_TASK, "crontab": schedule, "interval": None,
              "args": json.dumps([policy.pk]), "enabled": policy.enabled, "queue": "periodic",
              "description": "GC policy (edit it on the Maintenance page)"}
    if task is None:
        task = PeriodicTask.objects.create(**values)
        policy.periodic_task = task
        GCPolicy.objects.filter(pk=policy.pk).update(periodic_task=task)
    else:
        for key, value in values.items():
            setattr(task, key, value)
        task.save()


@transaction.atomic
def create_policy(*, actor: Actor, instances: Iterable[Instance] = (), offline_targets: Iterable[OfflineTarget] = (),
                  **values: Any) -> GCPolicy:
    values = _clean(values)
    if GCPolicy.objects.filter(name=values.get("name", "")).exists():
        raise ValidationError({"name": "a GC policy with this name already exists"})
    policy = GCPolicy(**values)
    policy.full_clean(exclude=["periodic_task", "instances"])
    policy.save()
    policy.instances.set(list(instances))
    policy.offline_targets.set(list(offline_targets))
    sync_beat(policy)
    record(actor=actor, action="maintenance.policy.create", obj=policy, after=policy.snapshot())
    return policy


@transaction.atomic
def update_policy(policy: GCPolicy, *, actor: Actor, instances: Iterable[Instance] | None = None,
                  offline_targets: Iterable[OfflineTarget] | None = None, **values: Any) -> GCPolicy:
    values = _clean(values)
    if "name" in values and GCPolicy.objects.filter(name=values["name"]).exclude(pk=policy.pk).exists():
        raise ValidationError({"name": "a GC policy with this name already exists"})
    before = policy.snapshot()
    for key, value in values.items():
        setattr(policy, key, value)
    policy.full_clean(exclude=["periodic_task", "instances"])
    policy.save()
    if instances is not None:
        policy.instances.set(list(instances))
    if offline_targets is not None:
        policy.offline_targets.set(list(offline_targets))
    sync_beat(policy)
    record(actor=actor, action="maintenance.policy.update", obj=policy, before=before, after=policy.snapshot())
    return policy


@transaction.atomic
def delete_policy(policy: GCPolicy, *, actor: Actor) -> None:
    before = policy.snapshot()
    task = policy.periodic_task
    record(actor=actor, action="maintenance.policy.delete", obj=policy, before=before)
    policy.delete()
    if task is not None:
        task.delete()


def target_instances(policy: GCPolicy, fleet: Sequence[Instance] | None = None) -> list[Instance]:
    """Enabled instances the policy targets, HA groups expanded to every member, by name."""
    fleet = list(fleet) if fleet is not None else list(Instance.objects.filter(enabled=True))
    fleet = [i for i in fleet if i.enabled]
    if policy.targets == GCPolicy.Targets.LABEL:
        key, value = parse_label(policy.target_label)
        chosen = [i for i in fleet if key in (i.labels or {}) and str(i.labels[key]) == value]
    elif policy.targets == GCPolicy.Targets.LISTED:
        listed = {i.pk for i in policy.instances.all()} if policy.pk else set()
        chosen = [i for i in fleet if i.pk in listed]
    else:
        chosen = fleet
    groups = {i.ha_group_id for i in chosen if i.ha_group_id}
    ids = {i.pk for i in chosen}
    chosen += [i for i in fleet if i.ha_group_id in groups and i.pk not in ids]
    return sorted(chosen, key=lambda i: i.name)


def shared_storage_split(instances: Sequence[Instance]) -> tuple[list[Instance], dict[int, str]]:
    """Members of a shared-storage HA group share one registry storage: one GC collects for all of them,
    and a second one on the same storage is wasted at best. The first member by name collects; the
    others come back in ``skipped`` (instance id -> why). Two-way replication groups keep every member
    (each has its own storage; the run staggers them)."""
    from harborops.fleet.models import HAGroup

    collectors: dict[int, Instance] = {}
    keep: list[Instance] = []
    skipped: dict[int, str] = {}
    for inst in sorted(instances, key=lambda i: i.name):
        group = inst.ha_group if inst.ha_group_id else None
        if group is None or group.mode != HAGroup.Mode.SHARED_STORAGE:
            keep.append(inst)
        elif inst.ha_group_id in collectors:
            skipped[inst.pk] = (f"shares storage with {collectors[inst.ha_group_id].name} (HA group {group.name}), "
                                f"which collects for the group")
        else:
            collectors[inst.ha_group_id] = inst  # type: ignore[index]
            keep.append(inst)
    return keep, skipped


def visiting_order(instances: Sequence[Instance]) -> list[Instance]:
    """Interleave HA groups so that the first wave never holds two members of one group: one member
    of each group, then the next member of each, ... ; instances without a group fill in by name.
    The run still enforces the rule itself (a member waits while another one collects)."""
    by_group: dict[int, list[Instance]] = {}
    lone: list[Instance] = []
    for inst in sorted(instances, key=lambda i: i.name):
        if inst.ha_group_id:
            by_group.setdefault(inst.ha_group_id, []).append(inst)
        else:
            lone.append(inst)
    order: list[Instance] = []
    rank = 0
    while any(len(members) > rank for members in by_group.values()):
        order += [members[rank] for members in by_group.values() if len(members) > rank]
        rank += 1
    return order + lone
