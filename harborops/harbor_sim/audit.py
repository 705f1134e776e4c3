"""Audit-log tables (`audit_log` and, from v2.13, `audit_log_ext`) that scale to millions of rows.

A table is a sequence of id-ordered blocks. A `RealBlock` keeps rows written by mutations. A
`SeededBlock` stores nothing per row: row `id` is generated from `(id - first_id) % PERIOD`
(user, operation, resource...) and its position (op_time grows linearly with id), so counting and
paging under the usual filters is arithmetic, not a scan. Purges on a seeded block are kept as one
id cutoff per residue. op_time never decreases with id across the whole table, so sorting by
op_time is sorting by id.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from harborops.harbor_sim.clock import iso
from harborops.harbor_sim.query import Cond, match

PERIOD = 64
SEED_USERS = ("admin", "alice", "bob", "carol", "robot$ci", "dave", "erin", "frank")
# (operation, resource_type, resource pattern) - {p} project number, {r} repo, {t} tag
LEGACY_EVENTS = (
    ("create", "artifact", "proj-{p}/app-{r}:v{t}"),
    ("pull", "artifact", "proj-{p}/app-{r}:v{t}"),
    ("pull", "artifact", "proj-{p}/app-{r}:latest"),
    ("delete", "artifact", "proj-{p}/app-{r}:v{t}"),
    ("create", "tag", "proj-{p}/app-{r}:rc{t}"),
    ("delete", "tag", "proj-{p}/app-{r}:rc{t}"),
    ("delete", "repository", "proj-{p}/app-{r}"),
    ("create", "project", "proj-{p}"),
)
EXT_EVENTS = (
    ("create", "artifact", "proj-{p}/app-{r}:v{t}"),
    ("delete", "artifact", "proj-{p}/app-{r}:v{t}"),
    ("create", "project", "proj-{p}"),
    ("login", "user", "{u}"),
    ("create", "member", "{u}"),
    ("update", "configuration", "configuration"),
    ("create", "robot", "robot$ci-{t}"),
    ("delete", "repository", "proj-{p}/app-{r}"),
)
FILTER_KEYS = ("id", "username", "resource", "resource_type", "operation", "op_time")
EXT_FILTER_KEYS = (*FILTER_KEYS, "operation_description", "operation_result")
OUT_KEYS = ("id", "username", "resource", "resource_type", "operation", "op_time")
EXT_OUT_KEYS = (*OUT_KEYS[:5], "operation_description", "operation_result", "op_time")
POSITIONAL = ("id", "op_time")


def _template(residue: int, ext: bool) -> dict[str, Any]:
    user = SEED_USERS[residue % len(SEED_USERS)]
    events = EXT_EVENTS if ext else LEGACY_EVENTS
    op, rtype, pattern = events[(residue // len(SEED_USERS)) % len(events)]
    p = residue % 5
    resource = pattern.format(p=p, r=residue % 3, t=residue % 7, u=SEED_USERS[(residue + 3) % 8])
    row: dict[str, Any] = {"username": user, "resource": resource, "resource_type": rtype, "operation": op}
    row["_project"] = f"proj-{p}" if rtype in ("artifact", "tag", "repository", "project") else None
    if ext:
        row["operation_description"] = f"{op} {rtype}: {resource}"
        row["operation_result"] = True
    return row


@dataclass(slots=True)
class SeededBlock:
    first_id: int
    size: int
    t0: datetime
    step_us: int
    ext: bool
    templates: list[dict[str, Any]] = field(default_factory=list)
    cutoff: list[int] = field(default_factory=list)  # per residue: ids below are purged

    def __post_init__(self) -> None:
        self.templates = [_template(r, self.ext) for r in range(PERIOD)]
        self.cutoff = [self.first_id] * PERIOD

    @property
    def last_id(self) -> int:
        return self.first_id + self.size - 1

    def op_time(self, row_id: int) -> datetime:
        return self.t0 + timedelta(microseconds=(row_id - self.first_id) * self.step_us)

    def row(self, row_id: int) -> dict[str, Any]:
        r = dict(self.templates[(row_id - self.first_id) % PERIOD])
        r["id"] = row_id
        r["op_time"] = self.op_time(row_id)
        return r

    def _id_at_or_after(self, ts: datetime) -> int:
        delta = ts - self.t0
        us = delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds
        return self.first_id + max(0, -(-us // self.step_us))

    def _id_at_or_before(self, ts: datetime) -> int:
        delta = ts - self.t0
        us = delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds
        return self.first_id + us // self.step_us if us >= 0 else self.first_id - 1

    def bounds(self, conds: Sequence[Cond]) -> tuple[int, int] | None:
        """Id interval allowed by id / op_time conditions; None when one can't be done arithmetically."""
        lo, hi = self.first_id, self.last_id
        for c in conds:
            if c.key not in POSITIONAL:
                continue
            if c.kind not in ("exact", "range"):
                return None
            a, b = (c.values[0], c.values[0]) if c.kind == "exact" else c.values
            if c.key == "id":
                if a is not None:
                    if not isinstance(a, int):
                        return None
                    lo = max(lo, a)
                if b is not None:
                    if not isinstance(b, int):
                        return None
                    hi = min(hi, b)
            else:
                if a is not None:
                    if not isinstance(a, datetime):
                        return None
                    lo = max(lo, self._id_at_or_after(a))
                if b is not None:
                    if not isinstance(b, datetime):
                        return None
                    hi = min(hi, self._id_at_or_before(b))
        return lo, hi

    def residues(self, conds: Sequence[Cond]) -> list[int]:
        other = [c for c in conds if c.key not in POSITIONAL]
        return [r for r, t in enumerate(self.templates) if all(match(c, t.get(c.key)) for c in other)]

    def _count_res(self, lo: int, hi: int, r: int) -> int:
        lo = max(lo, self.cutoff[r])
        if hi < lo:
            return 0
        # ids x in [lo, hi] with (x - first_id) % PERIOD == r
        base = self.first_id + r
        first = base + -(-(lo - base) // PERIOD) * PERIOD if lo > base else base
        return 0 if first > hi else (hi - first) // PERIOD + 1

    def count(self, lo: int, hi: int, res: Sequence[int]) -> int:
        return sum(self._count_res(lo, hi, r) for r in res)

    def _valid(self, row_id: int, resset: set[int]) -> bool:
        r = (row_id - self.first_id) % PERIOD
        return r in resset and row_id >= self.cutoff[r]

    def iterate(self, lo: int, hi: int, res: Sequence[int], desc: bool, skip: int) -> Iterator[dict[str, Any]]:
        total = self.count(lo, hi, res)
        if skip >= total:
            return
        resset = set(res)
        if not desc:  # smallest x with count(lo, x) >= skip + 1
            a, b = lo, hi
            while a < b:
                mid = (a + b) // 2
                if self.count(lo, mid, res) >= skip + 1:
                    b = mid
                else:
                    a = mid + 1
            x, step = a, 1
        else:  # largest x with count(x, hi) >= skip + 1
            a, b = lo, hi
            while a < b:
                mid = (a + b + 1) // 2
                if self.count(mid, hi, res) >= skip + 1:
                    a = mid
                else:
                    b = mid - 1
            x, step = a, -1
        remaining = total - skip
        while remaining > 0 and lo <= x <= hi:
            if self._valid(x, resset):
                remaining -= 1
                yield self.row(x)
            x += step

    def purge(self, cutoff_time: datetime, match_row: Any) -> int:
        first_kept = min(self._id_at_or_after(cutoff_time), self.last_id + 1)
        purged = 0
        for r, t in enumerate(self.templates):
            if match_row(t) and first_kept > self.cutoff[r]:
                purged += self._count_res(self.cutoff[r], first_kept - 1, r)
                self.cutoff[r] = first_kept
        return purged


@dataclass(slots=True)
class RealBlock:
    rows: list[dict[str, Any]] = field(default_factory=list)


Block = SeededBlock | RealBlock


class AuditTable:
    def __init__(self, *, ext: bool) -> None:
        self.ext = ext
        self.blocks: list[Block] = []
        self._next_id = 1
        self.last_time: datetime | None = None

    @property
    def filter_keys(self) -> tuple[str, ...]:
        return EXT_FILTER_KEYS if self.ext else FILTER_KEYS

    def __len__(self) -> int:
        return sum(
            b.count(b.first_id, b.last_id, range(PERIOD)) if isinstance(b, SeededBlock) else len(b.rows)
            for b in self.blocks
        )

    def append(
        self,
        *,
        username: str,
        resource: str,
        resource_type: str,
        operation: str,
        now: datetime,
        project: str | None,
        description: str = "",
        result: bool = True,
    ) -> int:
        if self.last_time is not None and now < self.last_time:
            now = self.last_time  # keep op_time monotonic in id
        if not self.blocks or not isinstance(self.blocks[-1], RealBlock):
            self.blocks.append(RealBlock())
        block = self.blocks[-1]
        assert isinstance(block, RealBlock)
        row: dict[str, Any] = {
            "id": self._next_id,
            "username": username,
            "resource": resource,
            "resource_type": resource_type,
            "operation": operation,
            "op_time": now,
            "_project": project,
        }
        if self.ext:
            row["operation_description"] = description or f"{operation} {resource_type}: {resource}"
            row["operation_result"] = result
        block.rows.append(row)
        self._next_id += 1
        self.last_time = now
        return int(row["id"])

    def seed(self, count: int, *, now: datetime, step_seconds: float = 1.0) -> range:
        """Add `count` generated rows ending at `now` (op_time spaced `step_seconds` apart)."""
        if count <= 0:
            return range(self._next_id, self._next_id)
        step_us = max(1, int(step_seconds * 1_000_000))
        t0 = now - timedelta(microseconds=step_us * (count - 1))
        if self.last_time is not None and t0 < self.last_time:
            t0 = self.last_time
            span = (now - t0) / max(1, count - 1)
            step_us = max(1, int(span.total_seconds() * 1_000_000))
        block = SeededBlock(self._next_id, count, t0, step_us, self.ext)
        self.blocks.append(block)
        self._next_id += count
        self.last_time = block.op_time(block.last_id)
        return range(block.first_id, block.last_id + 1)

    # --- query -----------------------------------------------------------------------------------
    def _block_stream(
        self, b: Block, conds: Sequence[Cond], desc: bool, skip: int
    ) -> tuple[int, Iterator[dict[str, Any]]]:
        """(matching count, iterator of matches in id order after skipping `skip`)."""
        if isinstance(b, RealBlock):
            rows = [r for r in b.rows if all(match(c, r.get(c.key)) for c in conds)]
            if desc:
                rows.reverse()
            return len(rows), iter(rows[skip:])
        bounds = b.bounds(conds)
        if bounds is None:  # unusual condition on id/op_time: fall back to a scan of the block
            every = set(range(PERIOD))
            gen = (
                row
                for row in (b.row(i) for i in range(b.first_id, b.last_id + 1))
                if b._valid(row["id"], every) and all(match(c, row.get(c.key)) for c in conds)
            )
            rows = list(gen)
            if desc:
                rows.reverse()
            return len(rows), iter(rows[skip:])
        res = b.residues(conds)
        lo, hi = bounds
        return b.count(lo, hi, res), b.iterate(lo, hi, res, desc, skip)

    def query(
        self, conds: Sequence[Cond], order: Sequence[tuple[str, bool]], offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Rows (internal form) for one page, and the total count.

        `conds` keys must already be restricted to filterable keys (plus `_project`).
        """
        if not order or order[0][0] in POSITIONAL:
            desc = order[0][1] if order else True  # Harbor's default: op_time desc
            blocks = list(reversed(self.blocks)) if desc else list(self.blocks)
            total, skip = 0, offset
            out: list[dict[str, Any]] = []
            for b in blocks:
                count, stream = self._block_stream(b, conds, desc, skip if len(out) < limit else 0)
                total += count
                if len(out) < limit and skip < count:
                    out.extend(itertools.islice(stream, limit - len(out)))
                skip = max(0, skip - count)
            return out, total
        # Sorting by a non-positional column: stream everything, keep only what the page needs.
        streams = [self._block_stream(b, conds, False, 0) for b in self.blocks]
        total = sum(n for n, _ in streams)
        key_name, desc = order[0]
        everything = itertools.chain.from_iterable(s for _, s in streams)
        pick = heapq.nlargest if desc else heapq.nsmallest
        top = pick(offset + limit, everything, key=lambda r: (str(r.get(key_name)), r["id"]))
        return top[offset:], total

    def purge(self, cutoff_time: datetime, kinds: set[str] | None) -> int:
        """Delete rows older than `cutoff_time` whose kind (operation or `<op>_<type>`) is listed."""

        def hit(row: dict[str, Any]) -> bool:
            if kinds is None:
                return True
            return row["operation"] in kinds or f"{row['operation']}_{row['resource_type']}" in kinds

        purged = 0
        for b in self.blocks:
            if isinstance(b, SeededBlock):
                purged += b.purge(cutoff_time, hit)
            else:
                keep = [r for r in b.rows if not (r["op_time"] < cutoff_time and hit(r))]
                purged += len(b.rows) - len(keep)
                b.rows = keep
        return purged


def render(row: dict[str, Any], ext: bool) -> dict[str, Any]:
    out = {k: row[k] for k in (EXT_OUT_KEYS if ext else OUT_KEYS)}
    out["op_time"] = iso(row["op_time"])
    return out
