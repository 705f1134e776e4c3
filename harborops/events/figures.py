"""Per-instance figures of the stored events (count, oldest, newest), kept incrementally.

The "events per instance" page and API read them from IngestState instead of running
``COUNT/MIN/MAX`` over the whole events table on every load (10 M rows: seconds). They move in the
same transaction as the rows they describe:

* an ingest batch adds the number of rows it really inserted (COPY: the batch; the ON CONFLICT
  path: the INSERT's row count; SQLite: the batch minus the keys already stored) and widens
  oldest/newest to the batch's times (rows skipped as duplicates are stored already, so the
  widened range is still exact);
* the retention purge subtracts, per instance, what each chunk deleted, then reads the new oldest
  time with one index probe per affected instance ((instance, op_time) index);
* ``recount`` recomputes them from the table: after a migration, for rows written outside the
  ingest (tests, benchmarks), or to repair by hand (``manage.py recount_events``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, Value
from django.db.models.functions import Coalesce, Greatest, Least

from harborops.events.models import HarborEvent, IngestState


def _ensure_state(instance_id: int) -> None:
    if not IngestState.objects.filter(instance_id=instance_id).exists():
        try:
            with transaction.atomic():
                IngestState.objects.create(instance_id=instance_id)
        except IntegrityError:
            pass  # created concurrently


def add_batch(instance_id: int, inserted: int, times: Sequence[datetime]) -> None:
    """Count ``inserted`` new rows of one instance whose batch spans ``times`` (call inside the
    transaction that inserted them)."""
    if not times:
        return
    first, last = min(times), max(times)
    _ensure_state(instance_id)
    IngestState.objects.filter(instance_id=instance_id).update(
        stored_events=F("stored_events") + inserted,
        # Coalesce first: SQLite's MIN()/MAX() of a NULL is NULL, PostgreSQL's LEAST ignores it.
        oldest_event_at=Least(Coalesce(F("oldest_event_at"), Value(first)), Value(first)),
        newest_event_at=Greatest(Coalesce(F("newest_event_at"), Value(last)), Value(last)))


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
    """Recompute the figures from the events table (all instances, or the ones given). Returns how
    many instances were written. A full scan: for migrations, repairs and seeded data only."""
    from harborops.fleet.models import Instance

    ids = list(Instance.objects.values_list("pk", flat=True)) if instance_ids is None else list(instance_ids)
    rows = HarborEvent.objects.filter(instance_id__in=ids).order_by().values("instance_id")
    agg: dict[int, dict[str, Any]] = {r["instance_id"]: r for r in rows.annotate(
        n=Count("id"), oldest=Min("op_time"), newest=Max("op_time"))}
    for instance_id in ids:
        a = agg.get(instance_id, {})
        _ensure_state(instance_id)
        IngestState.objects.filter(instance_id=instance_id).update(
            stored_events=a.get("n", 0), oldest_event_at=a.get("oldest"), newest_event_at=a.get("newest"))
    return len(ids)
