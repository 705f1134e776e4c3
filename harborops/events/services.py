"""Services of the events app: scheduled and manual ingest, backfill, retention, figures."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count
from django.utils.timezone import now

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.jobs import start_job
from harborops.core.models import JobRun
from harborops.events import figures
from harborops.events.ingest import IngestResult, ingest_instance
from harborops.events.models import EventCursor, HarborEvent, IngestAnomaly, IngestState
from harborops.fleet.models import Instance

logger = logging.getLogger(__name__)

BACKFILL, INGEST, PURGE = "events.backfill", "events.ingest", "events.purge"
PURGE_CHUNK = 5000


def active_backfill(instance: Instance) -> JobRun | None:
    ct = ContentType.objects.get_for_model(Instance)
    return (JobRun.objects.filter(kind=BACKFILL, target_type=ct, target_id=str(instance.pk),
                                  status__in=(JobRun.Status.PENDING, JobRun.Status.RUNNING)).order_by("-pk").first())


def start_backfill(instance: Instance, *, actor: Actor, trigger: str = JobRun.Trigger.USER) -> JobRun:
    """A long job (``jobs`` queue) that pulls the whole history; one per instance at a time."""
    existing = active_backfill(instance)
    if existing is not None:
        return existing
    job = start_job(BACKFILL, actor=actor, target=instance, trigger=trigger)
    record(actor=actor, action="events.backfill", obj=instance, after={"job": job.pk})
    return job


def start_ingest(*, actor: Actor, instance: Instance | None = None) -> JobRun:
    job = start_job(INGEST, actor=actor, target=instance)
    record(actor=actor, action="events.ingest", obj=instance, object_type="" if instance else "events.fleet",
           object_repr="" if instance else "all instances", after={"job": job.pk})
    return job


def start_purge(*, actor: Actor) -> JobRun:
    job = start_job(PURGE, actor=actor)
    record(actor=actor, action="events.purge", object_type="events.harborevent", object_repr="stored Harbor events",
           after={"job": job.pk, "retention_days": settings.EVENTS_RETENTION_DAYS})
    return job


def scheduled_ingest(instance_id: int) -> str:
    """One instance's scheduled pull. Never raises: one failing instance must not stop the others
    (each has its own task) nor leave an unhandled error in the worker log for every run."""
    instance = Instance.objects.filter(pk=instance_id, enabled=True).first()
    if instance is None:
        return f"skipped: instance {instance_id} gone or disabled"
    try:
        result = ingest_instance(instance, max_events=settings.EVENTS_INGEST_MAX)
    except Exception as exc:
        logger.warning("events ingest of %s failed: %s", instance.name, exc)
        return f"{instance.name}: failed: {type(exc).__name__}: {exc}"
    if result.more and active_backfill(instance) is None:
        # More than one run's worth behind (a new instance, a long outage): hand the rest to a
        # backfill job on the long queue so the periodic queue stays short for everyone else.
        start_backfill(instance, actor=Actor.system("events ingest"), trigger=JobRun.Trigger.SCHEDULED)
        return result.summary() + "; backfill started"
    return result.summary()


def ingest_many(ids: list[int]) -> list[IngestResult | str]:
    out: list[IngestResult | str] = []
    for inst in Instance.objects.filter(pk__in=ids).order_by("name"):
        try:
            out.append(ingest_instance(inst, max_events=settings.EVENTS_INGEST_MAX))
        except Exception as exc:
            out.append(f"{inst.name}: failed: {type(exc).__name__}: {exc}")
    return out


def purge_old_events(*, days: int | None = None) -> int:
    """Delete stored events older than the retention, in chunks (short transactions, no lock pile-up);
    each chunk takes what it deleted off its instances' figures in the same transaction."""
    days = settings.EVENTS_RETENTION_DAYS if days is None else days
    cutoff = now() - timedelta(days=days)
    deleted, touched = 0, set[int]()
    while True:
        with transaction.atomic():
            ids = list(HarborEvent.objects.filter(op_time__lt=cutoff).order_by()
                       .values_list("id", flat=True)[:PURGE_CHUNK])
            if not ids:
                break
            per_instance = dict(HarborEvent.objects.filter(id__in=ids, instance__isnull=False).order_by()
                                .values_list("instance_id").annotate(n=Count("id")).values_list("instance_id", "n"))
            n, _ = HarborEvent.objects.filter(id__in=ids).delete()
            figures.subtract(per_instance)
        touched.update(per_instance)
        deleted += n
    figures.refresh_bounds(touched)
    figures.after_purge(cutoff)
    return deleted


@dataclass
class InstanceFigures:
    instance: Instance
    state: IngestState | None
    cursors: list[EventCursor]
    stored: int
    oldest: object
    newest: object
    anomalies: int


def instance_figures(instances: Iterable[Instance] | None = None) -> list[InstanceFigures]:
    """Stored rows per instance, cursors, last outcome and syslog forwarding, for the page (one page
    of instances) and the API (all). Four small queries whatever the number of stored events
    (figures kept by events/figures.py)."""
    # defer("password"): the one encrypted column; decrypting 1,000 of them would cost more than the page.
    rows = list(Instance.objects.order_by("name").defer("password") if instances is None else instances)
    ids = [i.pk for i in rows]
    states = {s.instance_id: s for s in IngestState.objects.filter(instance_id__in=ids)}
    cursors: dict[int, list[EventCursor]] = {}
    for cur in EventCursor.objects.filter(instance_id__in=ids).order_by("source"):
        cursors.setdefault(cur.instance_id, []).append(cur)
    anomalies = dict(IngestAnomaly.objects.filter(instance_id__in=ids).order_by().values_list("instance_id")
                     .annotate(n=Count("id")).values_list("instance_id", "n"))
    out = []
    for inst in rows:
        state = states.get(inst.pk)
        out.append(InstanceFigures(inst, state, cursors.get(inst.pk, []), state.stored_events if state else 0,
                                   state.oldest_event_at if state else None,
                                   state.newest_event_at if state else None, anomalies.get(inst.pk, 0)))
    return out
