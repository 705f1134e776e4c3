"""Per-instance figures of the stored events (count, oldest, newest) and the per-day activity
rollup (EventDay: instance, day, operation, count), kept incrementally.

The "events per instance" page and API read them from IngestState instead of running
``COUNT/MIN/MAX`` over the whole events table on every load (10 M rows: seconds). They move in the
same transaction as the rows they describe:

* an ingest batch adds the number of rows it really inserted (COPY: the batch; the ON CONFLICT
  path: the INSERT's row count; SQLite: the batch minus the keys already stored) and widens
  oldest/newest to the batch's times (rows skipped as duplicates are stored already, so the
  widened range is still exact);
* the retention purge subtracts, per instance, what each chunk deleted, then reads the new oldest
  time with one index probe per affected instance ((instance, op_time) index);
* the activity rollup is upserted by each batch (``count = count + n``) and, after a purge, the days
  before the cutoff's day are dropped and the cutoff's own day is counted again from the table;
* ``recount`` recomputes them from the table: after a migration, for rows written outside the
  ingest (tests, benchmarks), or to repair by hand (``manage.py recount_events``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Min, QuerySet, Value
from django.db.models.functions import Coalesce, Greatest, Least, TruncDate
from django.utils.timezone import localtime, make_aware

from harborops.events.models import EventDay, HarborEvent, IngestState


def ensure_state(instance_id: int) -> None:
    """The instance's IngestState row exists afterwards (created here unless a concurrent ingest did)."""
    if not IngestState.objects.filter(instance_id=instance_id).exists():
        try:
            with transaction.atomic():
                IngestState.objects.create(instance_id=instance_id)
        except IntegrityError:
            pass  # created concurrently


def add_batch(instance_id: int, inserted: Sequence[tuple[datetime, str]]) -> None:
    """Count the rows of one instance really inserted by a batch, given as (op_time, operation):
    call inside the transaction that inserted them."""
    if not inserted:
        return
    times = [t for t, _ in inserted]
    first, last = min(times), max(times)
    figures = {"stored_events": F("stored_events") + len(inserted),
               # Coalesce first: SQLite's MIN()/MAX() of a NULL is NULL, PostgreSQL's LEAST ignores it.
               "oldest_event_at": Least(Coalesce(F("oldest_event_at"), Value(first)), Value(first)),
               "newest_event_at": Greatest(Coalesce(F("newest_event_at"), Value(last)), Value(last))}
    # The ingest holds a lease on this row, so it exists: create it only when the update finds none.
    if not IngestState.objects.filter(instance_id=instance_id).update(**figures):
        ensure_state(instance_id)
        IngestState.objects.filter(instance_id=instance_id).update(**figures)
    per_day = Counter((localtime(t).date(), op) for t, op in inserted)
    with connection.cursor() as cur:  # one upsert statement, the same SQL on PostgreSQL and SQLite
        cur.executemany(
            "INSERT INTO events_eventday (instance_id, day, operation, count) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (instance_id, day, operation) DO UPDATE SET count = events_eventday.count + excluded.count",
            [(instance_id, day, op, n) for (day, op), n in per_day.items()])


def start_of_day(day: date) -> datetime:
    """Midnight of ``day`` in the dashboard's time zone (where ``TruncDate`` cuts days)."""
    return make_aware(datetime.combine(day, time.min))


def _days_from_table(events: QuerySet[HarborEvent]) -> list[EventDay]:
    rows = (events.order_by().annotate(d=TruncDate("op_time")).values("instance_id", "d", "operation")
            .annotate(n=Count("id")))
    return [EventDay(instance_id=r["instance_id"], day=r["d"], operation=r["operation"], count=r["n"]) for r in rows]


def after_purge(cutoff: datetime) -> None:
    """The rollup after deleting every event before ``cutoff``: earlier days go, the cutoff's own
    (partly purged) day is counted again from what is left of it."""
    day = localtime(cutoff).date()
    start, end = start_of_day(day), start_of_day(day + timedelta(days=1))
    with transaction.atomic():
        EventDay.objects.filter(day__lte=day).delete()
        EventDay.objects.bulk_create(_days_from_table(HarborEvent.objects.filter(op_time__gte=start,
                                                                                 op_time__lt=end)))


def subtract(deleted: dict[int, int]) -> None:
    """After a purge chunk: take what was deleted per instance off its count (same transaction)."""
    for instance_id, n in deleted.items():
        IngestState.objects.filter(instance_id=instance_id).update(stored_events=F("stored_events") - n)


def refresh_bounds(instance_ids: Iterable[int]) -> None:
    """Oldest/newest of each instance from the (instance, op_time) index: two probes each."""
    for instance_id in instance_ids:
        rows = HarborEvent.objects.filter(instance_id=instance_id).order_by()
        oldest = rows.order_by("op_time").values_list("op_time", flat=True).first()
        newest = rows.order_by("-op_time").values_list("op_time", flat=True).first()
        IngestState.objects.filter(instance_id=instance_id).update(oldest_event_at=oldest, newest_event_at=newest)


def recount(instance_ids: Iterable[int] | None = None) -> int:
    """Recompute the figures and the activity rollup from the events table (all instances, or the
    ones given). Returns how many instances were written. A full scan: for migrations, repairs and
    seeded data only."""
    from harborops.fleet.models import Instance

    everything = instance_ids is None
    ids = list(Instance.objects.values_list("pk", flat=True)) if instance_ids is None else list(instance_ids)
    rows = HarborEvent.objects.filter(instance_id__in=ids).order_by().values("instance_id")
    agg: dict[int, dict[str, Any]] = {r["instance_id"]: r for r in rows.annotate(
        n=Count("id"), oldest=Min("op_time"), newest=Max("op_time"))}
    with transaction.atomic():
        for instance_id in ids:
            a = agg.get(instance_id, {})
            ensure_state(instance_id)
            IngestState.objects.filter(instance_id=instance_id).update(
                stored_events=a.get("n", 0), oldest_event_at=a.get("oldest"), newest_event_at=a.get("newest"))
        days = EventDay.objects.all() if everything else EventDay.objects.filter(instance_id__in=ids)
        days.delete()
        events = HarborEvent.objects.all() if everything else HarborEvent.objects.filter(instance_id__in=ids)
        EventDay.objects.bulk_create(_days_from_table(events), batch_size=2000)
    return len(ids)
