"""Harbor's ``q`` and ``sort`` query syntax, built safely and checked client-side.

Harbor silently ignores unknown ``q`` and ``sort`` keys (src/lib/orm/query.go): a typo returns
the unfiltered list. So every key is checked against the resource's known columns here, and
values are formatted the way src/lib/q/builder.go parses them.

    q = build_q("audit_log", {"id": Range(101, None), "operation": AnyOf("create", "delete")})
    # 'id=[101~],operation={create delete}'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = ("Q_KEYS", "SORT_KEYS", "AllOf", "AnyOf", "Fuzzy", "Range", "Value", "build_q", "build_sort")

Value = str | int | dt.datetime | bool

_AUDIT = frozenset({"id", "username", "resource", "resource_type", "operation", "op_time", "project_id"})
# Columns accepted per resource (JSON field names as Harbor's ORM maps them).
Q_KEYS: Final[dict[str, frozenset[str]]] = {
    "audit_log": _AUDIT,
    "audit_log_ext": _AUDIT | {"operation_description", "operation_result"},
    "project": frozenset(
        {"name", "project_id", "owner_id", "public", "registry_id", "creation_time", "update_time", "deleted"}
    ),
    "user": frozenset({"username", "email", "realname", "user_id", "sysadmin_flag", "creation_time"}),
    "robot": frozenset({"Level", "ProjectID", "name", "id", "disabled", "creation_time"}),
    "registry": frozenset({"name", "url", "type", "id", "status", "creation_time"}),
    "replication_policy": frozenset({"name", "id", "enabled", "creation_time", "update_time"}),
    "gc": frozenset({"id", "job_status", "job_kind", "creation_time", "update_time"}),
    "purge": frozenset({"id", "job_status", "job_kind", "creation_time", "update_time"}),
    "repository": frozenset({"name", "project_id", "id", "creation_time", "update_time", "pull_count"}),
    "artifact": frozenset({"type", "digest", "tags", "labels", "media_type", "push_time", "pull_time"}),
    "quota": frozenset({"reference", "reference_id", "id"}),
}
SORT_KEYS: Final[dict[str, frozenset[str]]] = {
    "audit_log": _AUDIT,
    "audit_log_ext": _AUDIT,
    "project": frozenset({"name", "project_id", "creation_time", "update_time", "owner_id"}),
    "user": frozenset({"username", "user_id", "creation_time", "update_time", "email"}),
    "robot": frozenset({"name", "id", "creation_time", "update_time", "expires_at"}),
    "registry": frozenset({"name", "id", "creation_time", "update_time"}),
    "replication_policy": frozenset({"name", "id", "creation_time", "update_time"}),
    "replication_execution": frozenset({"id", "start_time", "end_time", "status"}),
    "replication_task": frozenset({"id", "start_time", "end_time", "status"}),
    "gc": frozenset({"id", "creation_time", "update_time"}),
    "purge": frozenset({"id", "creation_time", "update_time"}),
    "repository": frozenset({"name", "creation_time", "update_time", "pull_count", "id"}),
    "artifact": frozenset({"push_time", "pull_time", "digest", "id"}),
    "quota": frozenset({"id", "creation_time", "update_time", "hard.storage", "used.storage"}),
}
_SPECIAL_START = ("~", "[", "{", "(")


@dataclass(frozen=True)
class Fuzzy:
    value: str


@dataclass(frozen=True)
class Range:
    low: int | dt.datetime | None
    high: int | dt.datetime | None


@dataclass(frozen=True)
class AnyOf:
    values: tuple[Value, ...]

    def __init__(self, *values: Value) -> None:
        object.__setattr__(self, "values", values)


@dataclass(frozen=True)
class AllOf:
    values: tuple[Value, ...]

    def __init__(self, *values: Value) -> None:
        object.__setattr__(self, "values", values)


Condition = Value | Fuzzy | Range | AnyOf | AllOf


def _fmt(value: Value | None, *, in_list: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    # The parser splits conditions on ',' and list items on ' '; neither can be escaped.
    if "," in text:
        raise ValueError(f"q value {text!r} contains ',' which Harbor cannot express")
    if in_list and (" " in text or any(c in text for c in "{}()")):
        raise ValueError(f"q list value {text!r} cannot contain spaces or brackets")
    if not in_list and text.startswith(_SPECIAL_START):
        text = "\\" + text  # a leading \ makes Harbor read ~[{( literally
    return text


def build_q(resource: str, conditions: Mapping[str, Condition]) -> str:
    """Build a ``q`` string; ValueError for keys Harbor would silently ignore."""
    allowed = Q_KEYS[resource]
    parts: list[str] = []
    for key, cond in conditions.items():
        if key not in allowed:
            raise ValueError(f"unknown q key {key!r} for {resource} (known: {', '.join(sorted(allowed))})")
        if isinstance(cond, Fuzzy):
            parts.append(f"{key}=~{_fmt(cond.value, in_list=True)}")
        elif isinstance(cond, Range):
            if cond.low is None and cond.high is None:
                raise ValueError(f"empty range for {key!r}")
            parts.append(f"{key}=[{_fmt(cond.low)}~{_fmt(cond.high)}]")
        elif isinstance(cond, AnyOf):
            parts.append(f"{key}={{{' '.join(_fmt(v, in_list=True) for v in cond.values)}}}")
        elif isinstance(cond, AllOf):
            parts.append(f"{key}=({' '.join(_fmt(v, in_list=True) for v in cond.values)})")
        else:
            parts.append(f"{key}={_fmt(cond)}")
    return ",".join(parts)


def build_sort(resource: str, *fields: str) -> str:
    """``build_sort("audit_log", "-op_time", "id")`` → ``-op_time,id``; ValueError on unknown keys."""
    allowed = SORT_KEYS[resource]
    for f in fields:
        if f.lstrip("-") not in allowed:
            raise ValueError(f"unknown sort key {f!r} for {resource} (known: {', '.join(sorted(allowed))})")
    return ",".join(fields)
