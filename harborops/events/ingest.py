"""Pull Harbor audit events into HarborEvent, incrementally by id, without loss or duplicates.

Guarantees and how they are kept:

* **One ingest per instance at a time**: a lease on the instance's IngestState row, claimed with a
  conditional UPDATE (works the same on PostgreSQL and SQLite), renewed per batch, and expiring on
  its own when a worker is killed.
* **Cursor in the same transaction as its rows**: each batch is inserted (unique key
  instance + source + epoch + harbor id, conflicts ignored) and the cursor is moved by a
  compare-and-set on the value read before the batch, in one transaction. A kill before commit
  leaves both untouched; a redelivered run fetches the same rows again and stores them once.
* **Purged ranges** (ids jump): recorded as a gap anomaly and logged; every surviving row is stored.
* **Reinstalled instances** (ids go backwards): the event under the cursor's id no longer matches
  its fingerprint, so the cursor opens a new epoch at id 0; the old events stay.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils.timezone import now

from harborops.core.actor import Actor
from harborops.events import figures
from harborops.events.models import EventCursor, HarborEvent, IngestAnomaly, IngestState, Source
from harborops.fleet.models import Instance
from harborops.harbor import errors as harbor_errors
from harborops.harbor import types as t
from harborops.harbor.capabilities import Capabilities
from harborops.harbor.client import HarborClient
from harborops.harbor.ops import Op, Req, caps_op, endpoint, q_params
from harborops.harbor.query import Range, build_q

logger = logging.getLogger(__name__)

# Harbor numbers audit rows from a PostgreSQL sequence, and concurrent transactions commit out of id
# order: a row can appear below an id already read. Gaps seen this recently are read again.
GAP_RECHECK = timedelta(minutes=15)
GAP_RECHECK_PAGE = 100
COPY_COLUMNS = ("instance_id", "instance_name", "source", "epoch", "harbor_id", "op_time", "username", "operation",
                "resource_type", "resource", "project", "description", "result", "raw", "ingested_at")
PROJECT_SCOPED = frozenset({"artifact", "repository", "tag", "project", "robot"})
# Harbor 2.13.0-2.13.4 and 2.14.0-2.14.2 put the raw PUT /configurations body into update_configuration's
# op_desc, secrets included (src/pkg/auditext/event/config/config.go@v2.13.0 resolver.Resolve; only the
# payload column was redacted). Values of these keys never reach our database.
_SECRET_KEY = re.compile(r'("[A-Za-z0-9_]*(?:password|secret|token)[A-Za-z0-9_]*"\s*:\s*)"(?:[^"\\]|\\.)*"?',
                         re.IGNORECASE)
Progress = Callable[[int, int | None], None]


class LeaseLost(Exception):
    """Another ingest took this instance over (our lease expired): stop without committing more."""


class CursorMoved(Exception):
    """The cursor is no longer where this batch started: someone else committed; roll back."""


# --- normalization ------------------------------------------------------------------------------
def derive_project(resource_type: str, resource: str) -> str:
    """``proj/repo:tag`` → ``proj``; a project event's resource is the project itself; a project robot's
    ``proj+name`` (Harbor records the stored robot name, src/controller/event/topic.go CreateRobotEvent)."""
    if resource_type not in PROJECT_SCOPED or not resource:
        return ""
    if resource_type == "project":
        return resource
    if resource_type == "robot":
        return resource.split("+", 1)[0] if "+" in resource else ""
    return resource.split("/", 1)[0] if "/" in resource else ""


def redact_description(resource_type: str, text: str) -> str:
    """Mask secret values in an update_configuration description (see _SECRET_KEY)."""
    if resource_type != "configuration" or not text:
        return text
    return _SECRET_KEY.sub(r'\1"***"', text)


def _utc_iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def fingerprint(harbor_id: int, op_time: datetime | None, username: str, operation: str, resource_type: str,
                resource: str) -> str:
    text = "|".join((str(harbor_id), _utc_iso(op_time), username, operation, resource_type, resource))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def row_fingerprint(row: t.AuditLog) -> str:
    return fingerprint(row.id, row.op_time, row.username, row.operation, row.resource_type, row.resource)


def event_fingerprint(ev: HarborEvent) -> str:
    return fingerprint(ev.harbor_id, ev.op_time, ev.username, ev.operation, ev.resource_type, ev.resource)


def row_values(instance: Instance, source: str, epoch: int, row: t.AuditLog, at: datetime) -> tuple[Any, ...]:
    """One normalized event as a tuple in COPY_COLUMNS order (no model instance: ingest is hot)."""
    raw = row.model_dump(mode="json", exclude_none=True)
    description = redact_description(row.resource_type, row.operation_description or "")
    if "operation_description" in raw:
        raw["operation_description"] = description
    return (instance.pk, instance.name, source, epoch, row.id, row.op_time or at, row.username[:255],
            row.operation[:64], row.resource_type[:64], row.resource[:1024],
            derive_project(row.resource_type, row.resource)[:255], description,
            row.operation_result, raw, at)


# --- the lease ----------------------------------------------------------------------------------
def _lease_length(seconds: int | None) -> timedelta:
    # HARBOROPS_EVENTS_LEASE_SECONDS: how long the instance stays blocked after its ingest's worker is killed.
    return timedelta(seconds=settings.EVENTS_LEASE_SECONDS if seconds is None else seconds)


def acquire_lease(instance_id: int, owner: str, seconds: int | None = None) -> bool:
    figures.ensure_state(instance_id)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now()) | Q(lease_owner=owner)
    return IngestState.objects.filter(free, instance_id=instance_id).update(
        lease_owner=owner, lease_until=now() + _lease_length(seconds)) == 1


def renew_lease(instance_id: int, owner: str, seconds: int | None = None) -> None:
    if not IngestState.objects.filter(instance_id=instance_id, lease_owner=owner).update(
            lease_until=now() + _lease_length(seconds)):
        raise LeaseLost(f"the ingest lease of instance {instance_id} was taken over")


def release_lease(instance_id: int, owner: str) -> None:
    IngestState.objects.filter(instance_id=instance_id, lease_owner=owner).update(lease_owner="", lease_until=None)


# --- extra Harbor reads -------------------------------------------------------------------------
def _count_after_op(client: HarborClient, source: str, after_id: int) -> Op[int]:
    """X-Total-Count of events with id > after_id (one row fetched): the backfill's progress total."""
    yield from caps_op(client)
    resource = "audit_log_ext" if source == Source.EXT else "audit_log"
    q = build_q(resource, {"id": Range(after_id + 1, None)})
    resp: object = yield Req("GET", f"/{source}", [*q_params(q, None), ("page", "1"), ("page_size", "1")])
    headers = getattr(resp, "headers", {})
    raw = headers.get("x-total-count", "0") if headers else "0"
    return int(raw) if str(raw).isdigit() else 0


_count_after = endpoint(_count_after_op)


def count_pending(client: HarborClient, source: str, after_id: int) -> int:
    return int(_count_after.__get__(client, HarborClient)(source, after_id))


# --- results ------------------------------------------------------------------------------------
@dataclass
class SourceResult:
    source: str
    fetched: int = 0
    gaps: int = 0
    late: int = 0  # rows found inside a recent gap (committed after a higher id was read)
    reset: bool = False
    more: bool = False
    complete: bool = False


@dataclass
class IngestResult:
    instance: str
    skipped: str = ""
    error: str = ""
    sources: list[SourceResult] = field(default_factory=list)

    @property
    def fetched(self) -> int:
        return sum(s.fetched for s in self.sources)

    @property
    def more(self) -> bool:
        return any(s.more for s in self.sources)

    def summary(self) -> str:
        if self.skipped:
            return f"{self.instance}: skipped ({self.skipped})"
        parts = [f"{s.source} +{s.fetched}" + (" (more pending)" if s.more else "")
                 + (f", {s.gaps} gap(s)" if s.gaps else "") + (", reinstall detected" if s.reset else "")
                 for s in self.sources]
        text = f"{self.instance}: " + ("; ".join(parts) or "no source")
        return text + (f"; error: {self.error}" if self.error else "")


# --- one batch ----------------------------------------------------------------------------------
def _advance_cursor(cursor: EventCursor, expected_last_id: int, last: t.AuditLog) -> None:
    moved = EventCursor.objects.filter(pk=cursor.pk, epoch=cursor.epoch, last_id=expected_last_id).update(
        last_id=last.id, anchor=row_fingerprint(last), updated_at=now())
    if moved != 1:
        raise CursorMoved(f"cursor {cursor} moved under this batch")


STAGING_DDL = """CREATE TEMP TABLE IF NOT EXISTS events_staging (
    instance_id bigint, instance_name varchar(100), source varchar(16), epoch smallint, harbor_id bigint,
    op_time timestamptz, username varchar(255), operation varchar(64), resource_type varchar(64),
    resource varchar(1024), project varchar(255), description text, result boolean, raw jsonb,
    ingested_at timestamptz) ON COMMIT DELETE ROWS"""
COLS_SQL = ", ".join(COPY_COLUMNS)
_INSTANCE, _SOURCE, _EPOCH, _HARBOR_ID, _OP_TIME, _OPERATION = (
    COPY_COLUMNS.index(c) for c in ("instance_id", "source", "epoch", "harbor_id", "op_time", "operation"))


def _copy_rows(cur: Any, table: str, values: Sequence[tuple[Any, ...]]) -> None:
    from psycopg.types.json import Jsonb

    raw_index = COPY_COLUMNS.index("raw")
    raw_cursor = cur.cursor  # the psycopg 3 cursor under Django's wrapper
    with raw_cursor.copy(f"COPY {table} ({COLS_SQL}) FROM STDIN") as copy:
        for v in values:
            copy.write_row((*v[:raw_index], Jsonb(v[raw_index]), *v[raw_index + 1:]))


def _insert_copy(values: Sequence[tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
    """PostgreSQL: ``COPY`` straight into the table; if any row is already stored, the same batch
    again through a staging table and ``INSERT ... ON CONFLICT DO NOTHING``.

    A batch holds only ids above the cursor, and the cursor moves in the same transaction as the
    rows, so a duplicate needs a rewound cursor or a redelivery racing a commit: rare. The common
    case gets COPY's multi-row heap insert; the unique constraint still decides, so the rare case
    stores each event once, exactly like ``bulk_create(ignore_conflicts=True)`` would.
    """
    from psycopg import errors as pg_errors

    with connection.cursor() as cur:
        # The rows and their cursor commit together; if PostgreSQL crashes before this commit's WAL
        # is flushed, both are lost together and simply fetched again: no need to wait for the flush.
        cur.execute("SET LOCAL synchronous_commit TO OFF")
        try:
            with transaction.atomic():  # a savepoint: a unique violation undoes only the COPY
                _copy_rows(cur, "events_harborevent", values)
            return values
        except pg_errors.UniqueViolation:
            logger.info("events: batch overlaps stored events; inserting it with ON CONFLICT DO NOTHING")
        cur.execute(STAGING_DDL)
        _copy_rows(cur, "events_staging", values)
        cur.execute(f"INSERT INTO events_harborevent ({COLS_SQL}) SELECT {COLS_SQL} FROM events_staging "  # noqa: S608
                    "ORDER BY harbor_id ON CONFLICT (instance_id, source, epoch, harbor_id) DO NOTHING "
                    "RETURNING instance_id, source, epoch, harbor_id")
        new = set(cur.fetchall())
        # ON COMMIT empties it too; inside an outer transaction (tests) there is no commit between batches.
        cur.execute("DELETE FROM events_staging")
        return [v for v in values if _key(v) in new]


def _key(v: tuple[Any, ...]) -> tuple[Any, Any, Any, Any]:
    return v[_INSTANCE], v[_SOURCE], v[_EPOCH], v[_HARBOR_ID]


def _not_stored(values: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Those of these events not stored yet: one keyed query per instance/source/epoch."""
    ids: dict[tuple[Any, Any, Any], list[int]] = {}
    for v in values:
        ids.setdefault((v[_INSTANCE], v[_SOURCE], v[_EPOCH]), []).append(v[_HARBOR_ID])
    have = {(i, s, e, h) for (i, s, e), hs in ids.items() for h in HarborEvent.objects.filter(
        instance_id=i, source=s, epoch=e, harbor_id__in=hs).values_list("harbor_id", flat=True)}
    return [v for v in values if _key(v) not in have]


def insert_events(values: Sequence[tuple[Any, ...]]) -> None:
    """Insert one instance's events, skipping any already stored (unique instance + source + epoch +
    harbor id), and add what was really inserted to the instance's figures and activity rollup, in
    the caller's transaction."""
    if not values:
        return
    if connection.vendor == "postgresql":
        inserted = _insert_copy(values)
    else:
        # INSERT OR IGNORE on SQLite: a redelivered batch after a kill stores nothing twice.
        inserted = _not_stored(values)
        objs = [HarborEvent(**dict(zip(COPY_COLUMNS, v, strict=True))) for v in values]
        HarborEvent.objects.bulk_create(objs, ignore_conflicts=True, batch_size=500)
    figures.add_batch(values[0][_INSTANCE], [(v[_OP_TIME], v[_OPERATION]) for v in inserted])


def store_batch(instance: Instance, cursor: EventCursor, rows: Sequence[t.AuditLog]) -> None:
    """Insert the rows and move the cursor past them, all or nothing."""
    expected = cursor.last_id
    at = now()
    values = [row_values(instance, cursor.source, cursor.epoch, r, at) for r in rows]
    with transaction.atomic():
        insert_events(values)
        _advance_cursor(cursor, expected, rows[-1])
    cursor.last_id = rows[-1].id
    cursor.anchor = row_fingerprint(rows[-1])


def note_gaps(instance: Instance, cursor: EventCursor, rows: Sequence[t.AuditLog]) -> int:
    """Ids missing between the cursor and this batch's last row: purged on Harbor before we read
    them (or never committed there). Recorded once per batch; the rows that exist are all kept."""
    prev, missing, first_missing, last_missing = cursor.last_id, 0, 0, 0
    for r in rows:
        if r.id > prev + 1:
            missing += r.id - prev - 1
            first_missing = first_missing or prev + 1
            last_missing = r.id - 1
        prev = r.id
    if not missing:
        return 0
    msg = (f"{instance.name} {cursor.source}: {missing} id(s) in {first_missing}..{last_missing} "
           f"are missing on Harbor (purged before ingest)")
    logger.warning(msg)
    IngestAnomaly.objects.create(instance=instance, source=cursor.source, epoch=cursor.epoch,
                                 kind=IngestAnomaly.Kind.GAP, from_id=first_missing, to_id=last_missing,
                                 missing=missing, message=msg)
    return 1


def recheck_gaps(client: HarborClient, instance: Instance, cursor: EventCursor) -> int:
    """Read recent gaps again and store the rows that have appeared in them since (late commits);
    rows already stored are skipped by the unique key. Returns how many were found."""
    found = 0
    recent = IngestAnomaly.objects.filter(instance=instance, source=cursor.source, epoch=cursor.epoch,
                                          kind=IngestAnomaly.Kind.GAP, detected_at__gte=now() - GAP_RECHECK)
    for gap in recent.order_by("from_id"):
        want = min(gap.to_id - gap.from_id + 1, GAP_RECHECK_PAGE)
        rows = [r for r in client.list_audit_logs(cursor.source, after_id=gap.from_id - 1,  # type: ignore[arg-type]
                                                  max_items=want) if r.id <= gap.to_id]
        have = set(HarborEvent.objects.filter(instance=instance, source=cursor.source, epoch=cursor.epoch,
                                              harbor_id__in=[r.id for r in rows]).values_list("harbor_id", flat=True))
        rows = [r for r in rows if r.id not in have]
        if rows:
            at = now()
            with transaction.atomic():
                insert_events([row_values(instance, cursor.source, cursor.epoch, r, at) for r in rows])
            logger.info("%s %s: %d late row(s) found in the gap %d..%d", instance.name, cursor.source, len(rows),
                        gap.from_id, gap.to_id)
            found += len(rows)
    return found


# --- reinstall detection ------------------------------------------------------------------------
def lineage_changed(client: HarborClient, instance: Instance, cursor: EventCursor) -> tuple[bool, str]:
    """Did Harbor's ids go backwards (a reinstall, a restored empty database)?

    1. Read the event at the cursor's id. Present: it must carry the fingerprint we stored.
    2. Absent (purged): read Harbor's oldest event. If its id is at or below the cursor, we
       stored that id too (or purged it ourselves by retention): compare with what we stored.
    """
    if cursor.last_id <= 0:
        return False, ""
    at = client.list_audit_logs(cursor.source, after_id=cursor.last_id - 1, max_items=1)  # type: ignore[arg-type]
    if at and at[0].id == cursor.last_id:
        if cursor.anchor and row_fingerprint(at[0]) != cursor.anchor:
            return True, f"event {cursor.last_id} is not the one stored (different time, user or resource)"
        return False, ""
    oldest = client.list_audit_logs(cursor.source, after_id=0, max_items=1)  # type: ignore[arg-type]
    if not oldest or oldest[0].id > cursor.last_id:
        return False, ""
    row = oldest[0]
    stored = HarborEvent.objects.filter(instance=instance, source=cursor.source, epoch=cursor.epoch,
                                        harbor_id=row.id).first()
    if stored is not None:
        if event_fingerprint(stored) == row_fingerprint(row):
            return False, ""
        return True, f"event {row.id} is not the one stored"
    cutoff = now() - timedelta(days=settings.EVENTS_RETENTION_DAYS)
    if row.op_time is not None and row.op_time < cutoff:
        return False, ""  # we purged it by retention ourselves
    return True, f"Harbor's oldest event {row.id} is at or below the cursor ({cursor.last_id}) but was never stored"


def open_new_epoch(instance: Instance, cursor: EventCursor, reason: str) -> None:
    old_epoch, old_last = cursor.epoch, cursor.last_id
    msg = (f"{instance.name} {cursor.source}: ids went backwards ({reason}); instance reinstalled? "
           f"keeping the {old_last} ids of epoch {old_epoch}, ingesting from id 0 in epoch {old_epoch + 1}")
    logger.warning(msg)
    from harborops.audit.services import record

    with transaction.atomic():
        moved = EventCursor.objects.filter(pk=cursor.pk, epoch=old_epoch, last_id=old_last).update(
            epoch=F("epoch") + 1, last_id=0, anchor="", complete=False, updated_at=now())
        if not moved:
            raise CursorMoved(f"cursor {cursor} moved during the reinstall check")
        IngestAnomaly.objects.create(instance=instance, source=cursor.source, epoch=old_epoch + 1,
                                     kind=IngestAnomaly.Kind.RESET, from_id=0, to_id=old_last, message=msg)
        record(actor=Actor.system("events ingest"), action="events.reset_detected", obj=instance,
               before={"source": cursor.source, "epoch": old_epoch, "last_id": old_last},
               after={"source": cursor.source, "epoch": old_epoch + 1, "last_id": 0}, message=msg)
    cursor.refresh_from_db()


# --- syslog forwarding --------------------------------------------------------------------------
def check_forwarding(client: HarborClient, caps: Capabilities, state: IngestState) -> None:
    state.forwarding_checked_at = now()
    state.forwarding_error = ""
    if not caps.audit_log_forward:
        state.forward_endpoint, state.skip_database = "", False
        return
    try:
        config = client.get_configurations()
    except harbor_errors.HarborError as exc:
        state.forwarding_error = f"{type(exc).__name__}: {exc.message}"[:255]
        return
    endpoint_item = config.get("audit_log_forward_endpoint")
    skip_item = config.get("skip_audit_log_database")
    state.forward_endpoint = str(endpoint_item.value or "")[:255] if endpoint_item else ""
    state.skip_database = bool(skip_item.value) if skip_item else False


# --- one source, one instance -------------------------------------------------------------------
class _Prefetch:
    """Fetch the next batch from Harbor while the current one is being stored (one batch ahead).

    Only this thread talks to Harbor and only the caller's thread touches the database, so the
    cursor still moves strictly batch by batch in the caller's transactions; the network wait of
    batch k+1 simply overlaps the INSERT of batch k.
    """

    def __init__(self, client: HarborClient, source: str, after_id: int, batch: int, max_events: int | None) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._timeout = float(getattr(client, "timeout", 30.0) or 30.0)
        self._thread = threading.Thread(target=self._run, args=(client, source, after_id, batch, max_events),
                                        name=f"audit-prefetch-{source}", daemon=True)
        self._thread.start()

    def _put(self, item: tuple[str, Any]) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _run(self, client: HarborClient, source: str, after_id: int, batch: int, max_events: int | None) -> None:
        fetched = 0
        try:
            while not self._stop.is_set():
                want = batch if max_events is None else min(batch, max_events - fetched)
                if want <= 0:
                    self._put(("more", None))
                    return
                rows = client.list_audit_logs(source, after_id=after_id, max_items=want)  # type: ignore[arg-type]
                fetched += len(rows)
                done = len(rows) < want
                self._put(("rows", (rows, done)))
                if done:
                    return
                after_id = rows[-1].id
        except Exception as exc:
            self._put(("error", exc))

    def get(self) -> tuple[str, Any]:
        return self._queue.get()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._timeout + 5)


def ingest_source(client: HarborClient, instance: Instance, cursor: EventCursor, *, owner: str, frozen: bool,
                  max_events: int | None, batch: int, progress: Progress | None = None) -> SourceResult:
    result = SourceResult(cursor.source)
    changed, reason = lineage_changed(client, instance, cursor)
    if changed:
        open_new_epoch(instance, cursor, reason)
        result.reset = True
    else:
        result.late = recheck_gaps(client, instance, cursor)
    prefetch = _Prefetch(client, cursor.source, cursor.last_id, batch, max_events)
    try:
        while True:
            kind, payload = prefetch.get()
            if kind == "error":
                raise payload
            if kind == "more":
                result.more = True
                break
            rows, done = payload
            if rows:
                result.gaps += note_gaps(instance, cursor, rows)
                renew_lease(instance.pk, owner)
                store_batch(instance, cursor, rows)
                result.fetched += len(rows)
                if progress is not None:
                    progress(len(rows), None)
            if done:
                break
    finally:
        prefetch.close()
    if frozen and not result.more:
        EventCursor.objects.filter(pk=cursor.pk).update(complete=True)
        result.complete = True
    return result


def sources_for(caps: Capabilities) -> list[tuple[str, bool]]:
    """(source, frozen): v2.13+ reads /auditlog-exts, plus /audit-logs once for the older history."""
    if caps.audit_log_ext:
        return [(Source.EXT.value, False), (Source.LEGACY.value, True)]
    return [(Source.LEGACY.value, False)]


def cursor_for(instance: Instance, source: str) -> EventCursor:
    cursor = EventCursor.objects.filter(instance=instance, source=source).first()
    if cursor is None:
        try:
            with transaction.atomic():
                cursor = EventCursor.objects.create(instance=instance, source=source)
        except IntegrityError:
            cursor = EventCursor.objects.get(instance=instance, source=source)
    return cursor


def ingest_instance(instance: Instance, *, transport: httpx.BaseTransport | None = None,
                    max_events: int | None = None, batch: int | None = None, owner: str = "",
                    progress: Progress | None = None, timeout: float = 30.0) -> IngestResult:
    """Pull every new event of every source of this instance (at most ``max_events`` per source).

    1. Claim the instance's lease; if another ingest holds it, skip (it is doing this work).
    2. Detect the version: which sources exist; read the syslog-forwarding configuration.
    3. Per source: check the lineage (reinstall), then fetch, store and advance batch by batch.
    4. Record the outcome on IngestState and release the lease.
    Harbor errors are recorded and re-raised; the caller decides whether a retry can help.
    """
    owner = owner or uuid.uuid4().hex
    result = IngestResult(instance.name)
    batch = batch or settings.EVENTS_BATCH
    if not acquire_lease(instance.pk, owner):
        result.skipped = "another ingest of this instance is running"
        return result
    state = IngestState.objects.get(instance_id=instance.pk)
    state.last_run_at = now()
    try:
        with instance.client(transport=transport, timeout=timeout) as client:
            caps = client.detect_version()
            state.version = str(caps.version)
            check_forwarding(client, caps, state)
            for source, frozen in sources_for(caps):
                cursor = cursor_for(instance, source)
                if frozen and cursor.complete:
                    continue
                result.sources.append(ingest_source(client, instance, cursor, owner=owner, frozen=frozen,
                                                    max_events=max_events, batch=batch, progress=progress))
        state.last_success_at = now()
        state.last_error = ""
    except (harbor_errors.HarborError, LeaseLost, CursorMoved) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        state.last_error = result.error[:2000]
        raise
    finally:
        state.last_stored = result.fetched
        IngestState.objects.filter(instance_id=instance.pk).update(
            last_run_at=state.last_run_at, last_success_at=state.last_success_at, last_error=state.last_error,
            last_stored=state.last_stored, version=state.version, forward_endpoint=state.forward_endpoint,
            skip_database=state.skip_database, forwarding_checked_at=state.forwarding_checked_at,
            forwarding_error=state.forwarding_error)
        release_lease(instance.pk, owner)
    return result


def pending_total(instance: Instance, *, transport: httpx.BaseTransport | None = None) -> int:
    """How many events Harbor holds beyond our cursors (the backfill's progress total)."""
    total = 0
    with instance.client(transport=transport) as client:
        caps = client.detect_version()
        for source, frozen in sources_for(caps):
            cursor = cursor_for(instance, source)
            if frozen and cursor.complete:
                continue
            total += count_pending(client, source, cursor.last_id)
    return total
