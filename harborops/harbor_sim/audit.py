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

# --- which events each version records (#10 part 3) --------------------------------------------------
# audit_log (<= 2.12): the events src/controller/event/handler/auditlog/auditlog.go Handler.Handle
# turns into rows; 2.12 added CreateRobotEvent/DeleteRobotEvent (v2.11.2 has neither).
LEGACY_RECORDED = frozenset(
    {
        "create_artifact",  # PushArtifactEvent
        "pull_artifact",  # PullArtifactEvent (skipped when pull_audit_log_disable, 2.5+)
        "delete_artifact",
        "delete_repository",
        "create_project",
        "delete_project",
        "create_tag",
        "delete_tag",
    }
)
LEGACY_ROBOT_EVENTS = frozenset({"create_robot", "delete_robot"})
# audit_log_ext (2.13+): src/pkg/auditext/model/model.go EventTypes - what /auditlog-exts/events lists
# and what a purge may name. The same list at v2.13.0 ... v2.15.2.
EXT_EVENT_TYPES = (
    "create_artifact",
    "delete_artifact",
    "pull_artifact",
    "create_project",
    "delete_project",
    "delete_repository",
    "login_user",
    "logout_user",
    "create_user",
    "delete_user",
    "update_user",
    "create_robot",
    "delete_robot",
    "update_configuration",
)
# Only on Harbor's main branch after v2.15.2 (VERSION v2.16.0): member events (#23228) and update_project
# (#23527) were appended to EventTypes. No released tag has them.
EXT_MEMBER_EVENTS = ("create_member", "delete_member", "update_member")
EXT_PROJECT_UPDATE = ("update_project",)
# The ext handler also writes tag events (CreateTagEvent/DeleteTagEvent stay in Handler.Handle's switch)
# although EventTypes does not list them: they can be neither listed in /events nor purged.
EXT_UNLISTED = frozenset({"create_tag", "delete_tag"})
OTHER_EVENTS = "other"  # purge keyword: EventTypes[3:]
LEGACY_PURGE_OPS = ("pull", "create", "delete")  # src/pkg/audit/dao/dao.go allowedMaps


def ext_event_types(beh: Any) -> tuple[str, ...]:
    """This version's EventTypes (src/pkg/auditext/model/model.go)."""
    out: tuple[str, ...] = EXT_EVENT_TYPES
    if beh.supports("audit_ext_member_events"):
        out = (*out, *EXT_MEMBER_EVENTS)
    if beh.supports("audit_ext_project_update"):
        out = (*out, *EXT_PROJECT_UPDATE)
    return out


def recorded_kinds(beh: Any) -> frozenset[str]:
    """`<operation>_<resource_type>` events this version writes (to audit_log_ext from 2.13, else audit_log)."""
    if beh.supports("audit_log_ext"):
        return frozenset(ext_event_types(beh)) | EXT_UNLISTED
    return LEGACY_RECORDED | (LEGACY_ROBOT_EVENTS if beh.supports("audit_legacy_robot_events") else frozenset())


def legacy_purge_filter(tokens: Sequence[str]) -> frozenset[str]:
    """src/pkg/audit/dao/dao.go permitOps: only the bare operations pull/create/delete survive (lower-cased);
    the legacy table is matched on lower(operation). From 2.13 the tokens are event types
    (`create_artifact`), so nothing survives and the legacy table is left alone."""
    return frozenset(t.lower() for t in tokens if t.lower() in LEGACY_PURGE_OPS)


def ext_purge_filter(tokens: Sequence[str], event_types: Sequence[str]) -> frozenset[str]:
    """src/pkg/auditext/dao/dao.go permitEventTypes: a token whose lower case is an EventType is kept *as
    given* (then compared with lower(operation || '_' || resource_type), so `Create_Artifact` matches
    nothing); `other` stands for EventTypes[3:]; anything else is dropped."""
    out: set[str] = set()
    for t in tokens:
        if t.lower() in event_types:
            out.add(t)
        elif t.lower() == OTHER_EVENTS:
            out.update(event_types[3:])
    return frozenset(out)


def config_description(beh: Any, payload: str) -> str:
    """update_configuration's op_desc: the raw request payload (cut at 950 chars) until 2.13.4 / 2.14.2,
    plain "update configuration" from 2.13.5, 2.14.3 and 2.15.0
    (src/pkg/auditext/event/config/config.go resolver.Resolve)."""
    if beh.supports("audit_config_payload_desc_213") or beh.supports("audit_config_payload_desc_214"):
        if len(payload) > 950:
            payload = payload[:950] + "..."
        return f"update configuration: {payload}"
    return "update configuration"


def default_description(operation: str, resource_type: str, resource: str) -> str:
    """op_desc as topic.go's ResolveToAuditLog writes it for project/repository/tag/robot events."""
    return f"{operation} {resource_type}: {resource}"


# (operation, resource_type, resource pattern) - {p} project number, {r} repo, {t} tag, {u} a user.
# Only events every seeded version records: legacy seeds hold no robot rows (2.12 only).
LEGACY_EVENTS = (
    ("create", "artifact", "proj-{p}/app-{r}:v{t}"),
    ("pull", "artifact", "proj-{p}/app-{r}:v{t}"),
    ("pull", "artifact", "proj-{p}/app-{r}:latest"),
    ("delete", "artifact", "proj-{p}/app-{r}@{d}"),
    ("create", "tag", "proj-{p}/app-{r}:rc{t}"),
    ("delete", "tag", "proj-{p}/app-{r}:rc{t}"),
    ("delete", "repository", "proj-{p}/app-{r}"),
    ("create", "project", "proj-{p}"),
)
# Ext seeds: event types of EXT_EVENT_TYPES (every 2.13+ version), op_desc as Harbor words it.
EXT_EVENTS = (
    ("create", "artifact", "proj-{p}/app-{r}:v{t}"),
    ("delete", "artifact", "proj-{p}/app-{r}@{d}"),
    ("create", "project", "proj-{p}"),
    ("login", "user", "{u}"),
    ("pull", "artifact", "proj-{p}/app-{r}:v{t}"),
    ("update", "configuration", "configuration"),
    ("create", "robot", "proj-{p}+ci-{t}"),
    ("delete", "repository", "proj-{p}/app-{r}"),
)
PROJECT_SCOPED = ("artifact", "tag", "repository", "project", "robot")

# Query keys: Harbor's ORM accepts a model's Go field name or its column (src/lib/orm/metadata.go
# parseModel); a q key is also tried in snake case (src/lib/orm/query.go setFilters). Anything else is
# ignored. Models: src/pkg/audit/model/model.go AuditLog, src/pkg/auditext/model/model.go AuditLogExt.
LEGACY_FIELDS = {
    "ID": "id",
    "ProjectID": "project_id",
    "Operation": "operation",
    "ResourceType": "resource_type",
    "Resource": "resource",
    "Username": "username",
    "OpTime": "op_time",
}
EXT_FIELDS = {**LEGACY_FIELDS, "OperationDescription": "op_desc", "IsSuccessful": "op_result"}
FILTER_KEYS = tuple(LEGACY_FIELDS.values())
EXT_FILTER_KEYS = tuple(EXT_FIELDS.values())
OUT_KEYS = ("id", "username", "resource", "resource_type", "operation", "op_time")
POSITIONAL = ("id", "op_time")


def _fake_digest(n: int) -> str:
    return "sha256:" + f"{n:02x}" * 32


def _describe(op: str, rtype: str, resource: str, digest: str) -> str:
    if rtype == "artifact":
        repo = resource.split("@")[0].rsplit(":", 1)[0]
        verb = {"create": "push"}.get(op, op)
        return f"{verb} artifact: {repo}@{digest}"
    if rtype == "user" and op in ("login", "logout"):
        return op
    if rtype == "configuration":
        return "update configuration"
    return default_description(op, rtype, resource)


def _template(residue: int, ext: bool) -> dict[str, Any]:
    user = SEED_USERS[residue % len(SEED_USERS)]
    events = EXT_EVENTS if ext else LEGACY_EVENTS
    op, rtype, pattern = events[(residue // len(SEED_USERS)) % len(events)]
    p = residue % 5
    digest = _fake_digest(residue)
    login_as = SEED_USERS[(residue + 3) % 4]  # a person, never the robot
    resource = pattern.format(p=p, r=residue % 3, t=residue % 7, u=login_as, d=digest)
    if rtype == "user":
        user = login_as  # a login row's operator is the user logging in (login.go loginResolver)
    row: dict[str, Any] = {"username": user, "resource": resource, "resource_type": rtype, "operation": op}
    row["_project"] = f"proj-{p}" if rtype in PROJECT_SCOPED else None
    row["project_id"] = None  # seeded projects do not exist in the store
    if ext:
        row["op_desc"] = _describe(op, rtype, resource, digest)
        row["op_result"] = True
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

    def purge(self, cutoff_time: datetime, match_row: Any, *, dry_run: bool = False) -> int:
        first_kept = min(self._id_at_or_after(cutoff_time), self.last_id + 1)
        purged = 0
        for r, t in enumerate(self.templates):
            if match_row(t) and first_kept > self.cutoff[r]:
                purged += self._count_res(self.cutoff[r], first_kept - 1, r)
                if not dry_run:
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

    @property
    def fields(self) -> dict[str, str]:
        """Go field name -> column of this table's model (both are query keys in Harbor)."""
        return EXT_FIELDS if self.ext else LEGACY_FIELDS

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
        project_id: int | None = None,
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
            "project_id": project_id if project_id is not None else 0,
        }
        if self.ext:
            row["op_desc"] = description or default_description(operation, resource_type, resource)
            row["op_result"] = result
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

    def purge(self, cutoff_time: datetime, kinds: frozenset[str] | set[str] | None, *, dry_run: bool = False) -> int:
        """Delete (or, dry run, count) rows older than `cutoff_time` whose kind is in `kinds`.

        The kind is what Harbor's purge SQL compares: lower(operation) in audit_log
        (src/pkg/audit/dao/dao.go Purge), lower(operation || '_' || resource_type) in audit_log_ext
        (src/pkg/auditext/dao/dao.go Purge). Build `kinds` with legacy_purge_filter/ext_purge_filter;
        an empty set purges nothing ("no operation selected"); None (simulator-internal) every row.
        """
        if kinds is not None and not kinds:
            return 0

        def hit(row: dict[str, Any]) -> bool:
            if kinds is None:
                return True
            kind = f"{row['operation']}_{row['resource_type']}" if self.ext else str(row["operation"])
            return kind.lower() in kinds

        purged = 0
        for b in self.blocks:
            if isinstance(b, SeededBlock):
                purged += b.purge(cutoff_time, hit, dry_run=dry_run)
            else:
                keep = [r for r in b.rows if not (r["op_time"] < cutoff_time and hit(r))]
                purged += len(b.rows) - len(keep)
                if not dry_run:
                    b.rows = keep
        return purged


def render(row: dict[str, Any], ext: bool) -> dict[str, Any]:
    """The swagger AuditLog / AuditLogExt (op_desc -> operation_description, op_result -> operation_result;
    src/server/v2.0/handler/auditlog.go convertToModelAuditLogExt)."""
    out = {k: row[k] for k in OUT_KEYS}
    out["op_time"] = iso(row["op_time"])
    if ext:
        out["operation_description"] = row["op_desc"]
        out["operation_result"] = row["op_result"]
    return out
