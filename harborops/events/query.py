"""The one search over Harbor audit events and harborops' own action log.

Both tables keep their own shape; a search maps each to the same columns and reads them as one
``UNION ALL`` ordered newest first by (time, source, id). Pages are keyset-paginated: the cursor
is the last row's (time, source, id) and each branch is filtered by "strictly older than the
cursor" before it is ordered and cut to the page size, so page 10,000 costs what page 1 costs
(no OFFSET). The page, the API, the export and the benchmark all call these functions.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate
from django.utils.dateparse import parse_datetime
from django.utils.timezone import localdate

from harborops.audit.models import ActionLogEntry
from harborops.events.figures import start_of_day
from harborops.events.models import EventDay, HarborEvent
from harborops.fleet.models import Instance

HARBOR, HARBOROPS = "h", "a"  # source markers; "h" > "a", so at equal times Harbor rows come first
SOURCES = {"all": "Harbor and harborops", "harbor": "Harbor only", "harborops": "harborops only"}
COLUMNS = ("ts", "src", "rid", "inst", "who", "op", "rtype", "res", "proj", "detail")
MAX_PAGE = 500


@dataclass
class EventFilter:
    instances: list[int] = field(default_factory=list)
    label: str = ""
    user: str = ""
    operation: str = ""
    resource_type: str = ""
    resource_prefix: str = ""
    resource_contains: str = ""
    project: str = ""
    since: datetime | None = None
    until: datetime | None = None
    source: str = "all"

    def instance_ids(self) -> list[int] | None:
        """Instances selected by id and/or label; None = no instance restriction."""
        if not self.instances and not self.label:
            return None
        qs = Instance.objects.all()
        if self.instances:
            qs = qs.filter(pk__in=self.instances)
        if self.label:
            key, sep, wanted = self.label.partition("=")
            key = key.strip()
            if not key.replace("-", "").replace("_", "").replace(".", "").isalnum():
                return []
            qs = qs.filter(labels__has_key=key) if not sep else qs.filter(**{f"labels__{key}": wanted.strip()})
        return list(qs.values_list("pk", flat=True))


# --- the two branches -----------------------------------------------------------------------------
# EventFilter attribute -> its lookup on HarborEvent (applied when the attribute is set).
HARBOR_LOOKUPS = (("user", "username"), ("operation", "operation"), ("resource_type", "resource_type"),
                  ("resource_prefix", "resource__startswith"), ("resource_contains", "resource__contains"),
                  ("project", "project"), ("since", "op_time__gte"), ("until", "op_time__lt"))


def harbor_queryset(f: EventFilter) -> QuerySet[HarborEvent]:
    qs = HarborEvent.objects.filter(**{lookup: getattr(f, attr) for attr, lookup in HARBOR_LOOKUPS
                                       if getattr(f, attr)})
    ids = f.instance_ids()
    return qs if ids is None else qs.filter(instance_id__in=ids)


def action_queryset(f: EventFilter) -> QuerySet[ActionLogEntry]:
    """The same filter, read the way it applies to harborops' own changes."""
    qs = ActionLogEntry.objects.all()
    ids = f.instance_ids()
    if ids is not None:
        qs = qs.filter(object_type="fleet.instance", object_id__in=[str(i) for i in ids])
    if f.user:
        qs = qs.filter(actor_name=f.user)
    if f.operation:
        qs = qs.filter(Q(action=f.operation) | Q(action__endswith=f".{f.operation}"))
    if f.resource_type:
        qs = qs.filter(Q(object_type=f.resource_type) | Q(object_type__endswith=f".{f.resource_type}"))
    if f.resource_prefix:
        qs = qs.filter(object_repr__startswith=f.resource_prefix)
    if f.resource_contains:
        qs = qs.filter(object_repr__contains=f.resource_contains)
    if f.project:
        qs = qs.filter(Q(object_repr=f.project) | Q(object_repr__startswith=f"{f.project}/"))
    if f.since:
        qs = qs.filter(time__gte=f.since)
    if f.until:
        qs = qs.filter(time__lt=f.until)
    return qs


def _harbor_values(qs: QuerySet[HarborEvent]) -> QuerySet[HarborEvent, Any]:
    return qs.values(ts=F("op_time"), src=Value(HARBOR, output_field=CharField()), rid=F("id"),
                     inst=F("instance_name"), who=F("username"), op=F("operation"), rtype=F("resource_type"),
                     res=F("resource"), proj=F("project"), detail=F("description"))


def _action_values(qs: QuerySet[ActionLogEntry]) -> QuerySet[ActionLogEntry, Any]:
    return qs.values(ts=F("time"), src=Value(HARBOROPS, output_field=CharField()), rid=F("id"),
                     inst=Value("", output_field=CharField()), who=F("actor_name"), op=F("action"),
                     rtype=F("object_type"), res=F("object_repr"), proj=Value("", output_field=CharField()),
                     detail=F("message"))


# --- keyset cursor --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cursor:
    ts: datetime
    src: str
    rid: int

    def encode(self) -> str:
        raw = f"{self.ts.isoformat()}|{self.src}|{self.rid}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor | None:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            ts_text, src, rid = raw.split("|")
            ts = parse_datetime(ts_text)
            if ts is None or src not in (HARBOR, HARBOROPS):
                return None
            return cls(ts, src, int(rid))
        except (ValueError, UnicodeDecodeError):
            return None


def _older_than(src: str, cursor: Cursor | None, time_field: str) -> Q:
    """Rows of branch ``src`` that sort strictly after ``cursor`` in (time, src, id) DESC order."""
    if cursor is None:
        return Q()
    if src < cursor.src:
        return Q(**{f"{time_field}__lte": cursor.ts})
    if src > cursor.src:
        return Q(**{f"{time_field}__lt": cursor.ts})
    return Q(**{f"{time_field}__lt": cursor.ts}) | Q(**{time_field: cursor.ts, "id__lt": cursor.rid})


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None


def search(f: EventFilter, *, cursor: Cursor | None = None, limit: int = 50) -> Page:
    """One page, newest first, across the sources the filter asks for."""
    limit = max(1, min(limit, MAX_PAGE))
    branches: list[QuerySet[Any, Any]] = []
    if f.source in ("all", "harbor"):
        qs = harbor_queryset(f).filter(_older_than(HARBOR, cursor, "op_time"))
        branches.append(_harbor_values(qs).order_by("-ts", "-rid"))
    if f.source in ("all", "harborops"):
        qs2 = action_queryset(f).filter(_older_than(HARBOROPS, cursor, "time"))
        branches.append(_action_values(qs2).order_by("-ts", "-rid"))
    if not branches:
        return Page([], None)
    if len(branches) == 1:
        rows = list(branches[0][: limit + 1])
    else:
        if connection.features.supports_slicing_ordering_in_compound:
            # PostgreSQL: each branch is cut to limit + 1 rows inside the UNION, so the database
            # merges two short, index-ordered lists instead of sorting everything that matches.
            branches = [b[: limit + 1] for b in branches]
        else:
            # SQLite refuses LIMIT inside a compound SELECT: the keyset predicate still bounds
            # each branch and the outer ORDER BY ... LIMIT picks the page (embedded sizes).
            branches = [b.order_by() for b in branches]
        union = branches[0].union(branches[1], all=True)
        rows = list(union.order_by("-ts", "-src", "-rid")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = Cursor(rows[-1]["ts"], rows[-1]["src"], rows[-1]["rid"]).encode() if more and rows else None
    return Page(rows, nxt)


def iter_rows(f: EventFilter, *, chunk_size: int = 2000) -> Iterator[dict[str, Any]]:
    """Every matching row, newest first, streamed (a server-side cursor on PostgreSQL)."""
    if f.source == "harbor":
        yield from _harbor_values(harbor_queryset(f)).order_by("-ts", "-rid").iterator(chunk_size=chunk_size)
    elif f.source == "harborops":
        yield from _action_values(action_queryset(f)).order_by("-ts", "-rid").iterator(chunk_size=chunk_size)
    else:
        union = _harbor_values(harbor_queryset(f)).order_by().union(
            _action_values(action_queryset(f)).order_by(), all=True)
        yield from union.order_by("-ts", "-src", "-rid").iterator(chunk_size=chunk_size)


# --- activity ---------------------------------------------------------------------------------------
def activity(f: EventFilter, *, days: int = 30) -> list[tuple[Any, str, int]]:
    """(day, operation, count) over the filter; the window is the filter's, or the last ``days``
    whole days (today included). Harbor events come from the per-day rollup (EventDay, kept by the
    ingest) when the filter selects only instances and/or an operation; any other filter counts the
    matching rows."""
    since = f.since or start_of_day(localdate() - timedelta(days=days - 1))
    windowed = EventFilter(**{**f.__dict__, "since": since})
    out: list[tuple[Any, str, int]] = []
    if f.source in ("all", "harbor"):
        if rollup_answers(f):
            out.extend(_rollup_activity(f, localdate(since)))
        else:
            qs = (harbor_queryset(windowed).annotate(day=TruncDate("op_time")).values("day", "operation")
                  .annotate(n=Count("id")).order_by("day", "operation"))
            out.extend((r["day"], r["operation"] or "other", r["n"]) for r in qs)
    if f.source in ("all", "harborops"):
        aq = (action_queryset(windowed).annotate(day=TruncDate("time")).values("day")
              .annotate(n=Count("id")).order_by("day"))
        out.extend((r["day"], "harborops", r["n"]) for r in aq)
    return out


ROW_FILTERS = ("user", "resource_type", "resource_prefix", "resource_contains", "project", "since", "until")


def rollup_answers(f: EventFilter) -> bool:
    """The rollup holds whole days per instance and operation: it answers a filter of only those."""
    return not any(getattr(f, name) for name in ROW_FILTERS)


def _rollup_activity(f: EventFilter, first_day: date) -> list[tuple[Any, str, int]]:
    qs = EventDay.objects.filter(day__gte=first_day)
    ids = f.instance_ids()
    if ids is not None:
        qs = qs.filter(instance_id__in=ids)
    if f.operation:
        qs = qs.filter(operation=f.operation)
    rows = qs.values("day", "operation").annotate(n=Sum("count")).filter(n__gt=0).order_by("day", "operation")
    return [(r["day"], r["operation"] or "other", r["n"]) for r in rows]
