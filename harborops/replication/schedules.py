"""Schedules harborops owns for replication policies, with the "skip if running" guard.

A schedule is a django-celery-beat entry (like a GC policy's) whose task `fire_schedule(id)`:
1. reads the policy's executions that are InProgress on Harbor now (never the stored copy, which can be
   minutes old);
2. with `skip_if_running` and one running: starts nothing, logs "skipped" (action log + logger) and keeps
   the outcome on the schedule;
3. otherwise starts an execution (trigger "manual" on Harbor, as every API start is) and logs it.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.harbor import errors as harbor_errors
from harborops.replication.models import OwnedSchedule, Policy
from harborops.replication.services import _refresh_quietly, client_for
from harborops.schedule import parse_cron

logger = logging.getLogger(__name__)
BEAT_TASK = "harborops.replication.tasks.fire_schedule"
BEAT_PREFIX = "replication schedule: "


def _sync_beat(schedule: OwnedSchedule) -> None:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    crontab, _ = CrontabSchedule.objects.get_or_create(**parse_cron(schedule.cron), timezone=settings.TIME_ZONE)
    values = {"name": f"{BEAT_PREFIX}{schedule.policy.instance.name}/{schedule.policy.name} #{schedule.pk}"[:200],
              "task": BEAT_TASK, "crontab": crontab, "interval": None, "args": json.dumps([schedule.pk]),
              "enabled": schedule.enabled, "queue": "periodic",
              "description": "replication policy schedule owned by harborops (edit it on the policy's page)"}
    task = schedule.periodic_task
    if task is None:
        task = PeriodicTask.objects.create(**values)
        OwnedSchedule.objects.filter(pk=schedule.pk).update(periodic_task=task)
        schedule.periodic_task = task
    else:
        for key, value in values.items():
            setattr(task, key, value)
        task.save()


@transaction.atomic
def set_schedule(policy: Policy, *, cron: str, enabled: bool, skip_if_running: bool, actor: Actor) -> OwnedSchedule:
    cron = " ".join(cron.split())
    try:
        parse_cron(cron)
    except ValueError as exc:
        raise ValidationError({"cron": [str(exc)]}) from exc
    schedule = OwnedSchedule.objects.filter(policy=policy).first()
    before = _snapshot(schedule) if schedule else None
    schedule = schedule or OwnedSchedule(policy=policy)
    schedule.cron, schedule.enabled, schedule.skip_if_running = cron, enabled, skip_if_running
    schedule.save()
    _sync_beat(schedule)
    record(actor=actor, action="replication.schedule_set", obj=policy, before=before, after=_snapshot(schedule))
    return schedule


@transaction.atomic
def delete_schedule(policy: Policy, *, actor: Actor) -> None:
    schedule = OwnedSchedule.objects.filter(policy=policy).first()
    if schedule is None:
        return
    task = schedule.periodic_task
    record(actor=actor, action="replication.schedule_delete", obj=policy, before=_snapshot(schedule))
    schedule.delete()
    if task is not None:
        task.delete()


def _snapshot(s: OwnedSchedule) -> dict[str, object]:
    return {"cron": s.cron, "enabled": s.enabled, "skip_if_running": s.skip_if_running}


def fire(schedule_id: int) -> str:
    """One scheduled run (the beat task). Never raises for Harbor: the outcome is kept and logged."""
    schedule = OwnedSchedule.objects.select_related("policy__instance").filter(pk=schedule_id).first()
    if schedule is None or not schedule.enabled:
        return f"skipped: schedule {schedule_id} gone or disabled"
    policy = schedule.policy
    actor = Actor.system("replication schedule")
    c = client_for(policy.instance)
    schedule.last_fired_at = now()
    try:
        running = ([e.id for e in c.list_replication_executions(policy_id=policy.harbor_id, status="InProgress")]
                   if schedule.skip_if_running else [])
        if running:
            outcome, message, ex_id = (OwnedSchedule.Outcome.SKIPPED,
                                       f"skipped: execution {', '.join(map(str, running))} still InProgress", None)
            logger.info("replication schedule of %s skipped: execution(s) %s still in progress", policy, running)
            record(actor=actor, action="replication.schedule_skip", obj=policy, message=message,
                   after={"running": running})
        else:
            ex_id = int(c.start_replication(policy.harbor_id))
            outcome, message = OwnedSchedule.Outcome.STARTED, f"execution {ex_id} started"
            record(actor=actor, action="replication.trigger", obj=policy, after={"execution": ex_id,
                                                                               "schedule": schedule.pk})
    except harbor_errors.HarborError as exc:
        outcome, message, ex_id = OwnedSchedule.Outcome.FAILED, f"failed: {exc.message}"[:500], None
        logger.warning("replication schedule of %s failed: %s", policy, exc.message)
        record(actor=actor, action="replication.trigger", obj=policy, outcome="failure", message=message)
    schedule.last_outcome, schedule.last_message = outcome, message[:500]
    schedule.last_execution_id = ex_id if ex_id is not None else schedule.last_execution_id
    schedule.save(update_fields=["last_fired_at", "last_outcome", "last_message", "last_execution_id"])
    if outcome == OwnedSchedule.Outcome.STARTED:
        _refresh_quietly(policy.instance, c)
    return f"{policy}: {message}"
