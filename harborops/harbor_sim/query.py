"""Harbor's `q` / `sort` / paging semantics (src/lib/q/builder.go, src/lib/orm/query.go).

Unknown `q` keys and unknown `sort` keys are silently ignored, exactly like Harbor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from harborops.harbor_sim.http import HarborError, Query

Value = int | str | datetime


@dataclass(frozen=True, slots=True)
class Cond:
    """One `q` condition. kind: exact | fuzzy | range | or | and."""

    key: str
    kind: str
    values: tuple[Value | None, ...]


def _value(raw: str) -> Value:
    raw = raw.strip().strip("\"'")
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        return int(raw)
    except ValueError:
        return raw


def _split_conditions(q: str) -> list[str]:
    parts: list[str] = []
    depth, cur = 0, list[str]()
    for ch in q:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def parse_q(raw: str | None) -> list[Cond]:
    """Parse `q` (already HTTP-decoded once; Harbor unescapes once more)."""
    if not raw:
        return []
    q = unquote(raw)
    conds: list[Cond] = []
    for part in _split_conditions(q):
        key, sep, val = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise HarborError(400, f"invalid query: {part}")
        if val.startswith("\\"):
            conds.append(Cond(key, "exact", (_value(val[1:]),)))
        elif val.startswith("~"):
            conds.append(Cond(key, "fuzzy", (val[1:].strip("\"'"),)))
        elif val.startswith("[") and val.endswith("]"):
            lo, _, hi = val[1:-1].partition("~")
            conds.append(Cond(key, "range", (_value(lo) if lo.strip() else None, _value(hi) if hi.strip() else None)))
        elif val.startswith("{") and val.endswith("}"):
            conds.append(Cond(key, "or", tuple(_value(v) for v in val[1:-1].split())))
        elif val.startswith("(") and val.endswith(")"):
            conds.append(Cond(key, "and", tuple(_value(v) for v in val[1:-1].split())))
        else:
            conds.append(Cond(key, "exact", (_value(val),)))
    return conds


def _norm(a: Any, b: Value) -> tuple[Any, Any]:
    """Make a stored value and a query value comparable (Postgres would cast)."""
    if isinstance(b, datetime):
        if isinstance(a, str):
            try:
                a = datetime.fromisoformat(a.replace("Z", "+00:00"))
            except ValueError:
                return str(a), b.isoformat()
        return a, b
    if isinstance(a, bool):
        return str(a).lower(), str(b).lower()
    if isinstance(a, int) and isinstance(b, str):
        try:
            return a, int(b)
        except ValueError:
            return str(a), b
    if isinstance(a, str) and isinstance(b, int):
        return a, str(b)
    return a, b


def match(cond: Cond, value: Any) -> bool:
    if value is None:
        return False
    if cond.kind == "fuzzy":
        return str(cond.values[0]).lower() in str(value).lower()
    if cond.kind == "exact":
        a, b = _norm(value, cond.values[0])  # type: ignore[arg-type]
        return bool(a == b)
    if cond.kind == "range":
        lo, hi = cond.values
        if lo is not None:
            a, b = _norm(value, lo)
            if a < b:
                return False
        if hi is not None:
            a, b = _norm(value, hi)
            if a > b:
                return False
        return True
    if cond.kind == "or":
        return any(_norm(value, v)[0] == _norm(value, v)[1] for v in cond.values if v is not None)
    # "and": every listed value must match; meaningful for multi-valued columns only
    return all(_norm(value, v)[0] == _norm(value, v)[1] for v in cond.values if v is not None)


def snake_case(name: str) -> str:
    """src/lib/orm/metadata.go snakeCase: `ProjectID` -> `project_id`, `OpTime` -> `op_time`."""
    out: list[str] = []
    for i, ch in enumerate(name):
        if i > 0 and ch.isupper() and ((i + 1 < len(name) and name[i + 1].islower()) or name[i - 1].islower()):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def model_keys(fields: Mapping[str, str]) -> dict[str, str]:
    """A model's query keys -> its column: every Go field name and every column (src/lib/orm/metadata.go
    parseModel registers both)."""
    keys = {col: col for col in fields.values()}
    keys.update(fields)
    return keys


def filter_key(key: str, fields: Mapping[str, str]) -> str | None:
    """The column a `q` key filters, or None when Harbor ignores it (src/lib/orm/query.go setFilters: the
    key as given, else in snake case). Keys with an ORM operator suffix (`name__icontains`) are not
    simulated and count as ignored."""
    if "__" in key:
        return None
    keys = model_keys(fields)
    return keys.get(key) or keys.get(snake_case(key))


def sort_key(key: str, fields: Mapping[str, str]) -> str | None:
    """The column a `sort` key orders by, or None (src/lib/orm/query.go setSorts: exact key only)."""
    return model_keys(fields).get(key)


def model_conds(raw: str | None, fields: Mapping[str, str], *, replaced: Iterable[str] = ()) -> list[Cond]:
    """`q` conditions on a model's columns; keys Harbor would ignore are dropped, and so are the keys a
    handler overwrites in `query.Keywords` (`replaced`, e.g. "ProjectID")."""
    out: list[Cond] = []
    gone = set(replaced)
    for c in parse_q(raw):
        col = None if c.key in gone else filter_key(c.key, fields)
        if col is not None:
            out.append(Cond(col, c.kind, c.values))
    return out


def model_sort(raw: str | None, fields: Mapping[str, str]) -> list[tuple[str, bool]]:
    """`sort` on a model's columns; unknown keys dropped."""
    out: list[tuple[str, bool]] = []
    for part in (raw or "").split(","):
        part = part.strip()
        desc = part.startswith("-")
        col = sort_key(part[1:] if desc else part, fields)
        if col is not None:
            out.append((col, desc))
    return out


# src/pkg/task/dao/model.go Execution (v2.3.0 ... v2.15.2): GC, purge-audit and replication executions.
EXECUTION_FIELDS = {
    "ID": "id",
    "VendorType": "vendor_type",
    "VendorID": "vendor_id",
    "Status": "status",
    "StatusMessage": "status_message",
    "Trigger": "trigger",
    "ExtraAttrs": "extra_attrs",
    "StartTime": "start_time",
    "UpdateTime": "update_time",
    "EndTime": "end_time",
    "Revision": "revision",
}


# src/pkg/repository/model/model.go RepoRecord (v2.3.0 ... v2.15.2); the JSON `id` is column repository_id.
REPOSITORY_FIELDS = {
    "RepositoryID": "repository_id",
    "Name": "name",
    "ProjectID": "project_id",
    "Description": "description",
    "PullCount": "pull_count",
    "StarCount": "star_count",
    "CreationTime": "creation_time",
    "UpdateTime": "update_time",
}
REPOSITORY_SHOWN = {
    "repository_id": "id",
    "name": "name",
    "project_id": "project_id",
    "description": "description",
    "pull_count": "pull_count",
    "creation_time": "creation_time",
    "update_time": "update_time",
}
# src/pkg/reg/dao/model.go Registry (v2.3.0 ... v2.15.2); Status is column health; secrets filter:"false"
# from v2.10 (left out on every version here).
REGISTRY_FIELDS = {
    "ID": "id",
    "URL": "url",
    "Name": "name",
    "CredentialType": "credential_type",
    "Type": "type",
    "Insecure": "insecure",
    "Description": "description",
    "Status": "health",
    "CreationTime": "creation_time",
    "UpdateTime": "update_time",
}
REGISTRY_SHOWN = {
    "id": "id",
    "url": "url",
    "name": "name",
    "type": "type",
    "insecure": "insecure",
    "description": "description",
    "health": "status",
    "creation_time": "creation_time",
    "update_time": "update_time",
}


def query_rows(
    rows: list[dict[str, Any]],
    raw_q: str | None,
    raw_sort: str | None,
    fields: Mapping[str, str],
    shown_as: Mapping[str, str],
    default: Sequence[tuple[str, bool]],
) -> list[dict[str, Any]]:
    """Filter and sort rendered rows the way Harbor's ORM does on the model behind them: q / sort keys
    resolve to the model's columns (unknown keys ignored), read from the rendered field `shown_as[column]`.
    A column the rendering does not show matches nothing (not simulated)."""
    conds = [Cond(shown_as.get(c.key, "_" + c.key), c.kind, c.values) for c in model_conds(raw_q, fields)]
    kept = [r for r in rows if all(match(c, r.get(c.key)) for c in conds)]
    order = [(shown_as[k], d) for k, d in model_sort(raw_sort, fields) if k in shown_as]
    return sort_rows(kept, order or list(default))


def filter_rows(rows: Iterable[dict[str, Any]], conds: Sequence[Cond], keys: Iterable[str]) -> list[dict[str, Any]]:
    """Keep rows matching every condition whose key is filterable; other keys are ignored."""
    allowed = set(keys)
    active = [c for c in conds if c.key in allowed]
    return [r for r in rows if all(match(c, r.get(c.key)) for c in active)]


def parse_sort(raw: str | None, keys: Iterable[str]) -> list[tuple[str, bool]]:
    """`sort=a,-b` -> [("a", False), ("b", True)]; unknown keys dropped."""
    allowed = set(keys)
    out: list[tuple[str, bool]] = []
    for part in (raw or "").split(","):
        part = part.strip()
        desc = part.startswith("-")
        name = part.lstrip("-")
        if name in allowed:
            out.append((name, desc))
    return out


def sort_rows(rows: list[dict[str, Any]], order: Sequence[tuple[str, bool]]) -> list[dict[str, Any]]:
    for name, desc in reversed(order):
        rows.sort(key=lambda r, n=name: (r.get(n) is None, r.get(n)), reverse=desc)  # type: ignore[misc]
    return rows


@dataclass(slots=True)
class Page:
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def page_params(query: Query, *, default_size: int = 10) -> Page:
    page = query.int("page", 1, minimum=1)
    size = query.int("page_size", default_size, maximum=100, minimum=0)
    return Page(page, size or default_size)


def link_header(path: str, query: Query, page: Page, total: int) -> str | None:
    """Harbor's `Link` header: prev/next with the request's (un-escaped) query."""
    other = [(k, v) for k, v in query.items() if k not in ("page", "page_size")]

    def url(p: int) -> str:
        qs = "&".join(f"{k}={v}" for k, v in other)
        sep = "&" if qs else ""
        return f"<{path}?{qs}{sep}page={p}&page_size={page.size}>"

    links = []
    if page.page > 1:
        links.append(f'{url(page.page - 1)}; rel="prev"')
    if page.size and page.page < math.ceil(total / page.size):
        links.append(f'{url(page.page + 1)}; rel="next"')
    return " , ".join(links) or None


def paginate(rows: Sequence[dict[str, Any]], page: Page) -> list[dict[str, Any]]:
    return list(rows[page.offset : page.offset + page.size])


ListResult = tuple[list[dict[str, Any]], int]
Shaper = Callable[[dict[str, Any]], dict[str, Any]]
