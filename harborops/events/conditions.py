"""Alert conditions of the audit ingest (contract: harborops/core/conditions.py), from stored rows only:

- ``events.ingest_stalled``: an enabled instance had no successful ingest for
  ``HARBOROPS_EVENTS_STALL_MINUTES`` (its last attempt's error in the details);
- ``events.gap``: the ingest found ids missing on Harbor (purged before we read them) within the last
  ``HARBOROPS_EVENTS_GAP_ALERT_HOURS``; it clears when that window has passed without a new gap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.urls import reverse

from harborops.core.conditions import Occurrence, conditions
from harborops.core.job_conditions import system_cron
from harborops.events.models import IngestAnomaly, IngestState
from harborops.fleet.models import Instance

INGEST_TASK = "harborops.events.tasks.ingest_fleet"
TITLES = {
    "events.ingest_stalled": "Audit ingest stalled",
    "events.gap": "Audit events missing on Harbor (gap)",
}


def _minutes(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 120 else f"{minutes} min"


def stalled(at: dt.datetime) -> Iterator[Occurrence]:
    if system_cron(INGEST_TASK) is None:
        return  # the scheduled ingest is switched off: nothing is expected to arrive
    limit = dt.timedelta(minutes=settings.EVENTS_STALL_MINUTES)
    states = {s.instance_id: s for s in IngestState.objects.filter(instance__enabled=True)}
    link = reverse("events:instance_list")
    for inst in Instance.objects.filter(enabled=True).order_by("name").only("pk", "name"):
        state = states.get(inst.pk)
        if state is None or state.last_run_at is None:
            continue  # never attempted yet (a new instance): the first scheduled run decides
        last_ok = state.last_success_at
        if last_ok is not None and at - last_ok < limit:
            continue
        if last_ok is None and at - state.last_run_at < limit and not state.last_error:
            continue
        since = f"for {_minutes(at - last_ok)}" if last_ok else "ever"
        yield Occurrence(
            "events.ingest_stalled", f"instance:{inst.pk}", "warning",
            f"{inst.name}: no successful audit ingest {since}",
            details=(f"last attempt {state.last_run_at:%Y-%m-%d %H:%M} UTC"
                     + (f": {state.last_error}" if state.last_error else "")),
            link=link, instance_id=inst.pk)


def gaps(at: dt.datetime) -> Iterator[Occurrence]:
    since = at - dt.timedelta(hours=settings.EVENTS_GAP_ALERT_HOURS)
    rows = (IngestAnomaly.objects.filter(kind=IngestAnomaly.Kind.GAP, detected_at__gte=since, detected_at__lte=at,
                                         instance__enabled=True)
            .order_by().values("instance_id", "instance__name")
            .annotate(n=Count("id"), missing=Sum("missing"), last=Max("detected_at")))
    link = reverse("events:instance_list")
    for row in sorted(rows, key=lambda r: r["instance__name"]):
        yield Occurrence(
            "events.gap", f"instance:{row['instance_id']}", "warning",
            f"{row['instance__name']}: {row['missing']} audit event id(s) missing on Harbor",
            details=(f"{row['n']} gap(s) since {since:%Y-%m-%d %H:%M} UTC, the last at {row['last']:%Y-%m-%d %H:%M} "
                     "UTC: Harbor purged them before the ingest read them (lower the ingest interval or "
                     "lengthen Harbor's audit-log retention)"),
            link=link, instance_id=row["instance_id"])


@conditions("events", TITLES)
def events_conditions(at: dt.datetime) -> Iterator[Occurrence]:
    yield from stalled(at)
    yield from gaps(at)
