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

__all__ = ("KEY_SOURCES", "Q_KEYS", "SORT_KEYS", "AllOf", "AnyOf", "Fuzzy", "Range", "Value", "build_q", "build_sort")

Value = str | int | dt.datetime | bool

# Keys Harbor's ORM accepts (src/lib/orm/metadata.go parseModel): each model field's column (and its Go
# field name, not listed here); FilterByXxx methods add `xxx`; handlers add or overwrite a few
# (KEY_SOURCES names each). Sort keys are columns only (src/lib/orm/query.go setSorts). Everything
# else is dropped by Harbor without an error - hence the check in build_q / build_sort.
_AUDIT = frozenset({"id", "project_id", "operation", "resource_type", "resource", "username", "op_time"})
_AUDIT_EXT = _AUDIT | {"op_desc", "op_result"}
# src/pkg/task/dao/model.go Execution (GC, purge and replication executions run on the task framework)
_EXECUTION = frozenset(
    {"id", "vendor_type", "vendor_id", "status", "status_message", "trigger", "extra_attrs", "start_time",
     "update_time", "end_time", "revision"}
)  # fmt: skip
_TASK = frozenset(
    {"id", "vendor_type", "execution_id", "job_id", "status", "status_code", "status_revision", "status_message",
     "run_count", "extra_attrs", "creation_time", "start_time", "update_time", "end_time"}
)  # fmt: skip
_PROJECT = frozenset({"project_id", "owner_id", "name", "creation_time", "update_time", "deleted", "registry_id"})
_USER = frozenset(
    {"user_id", "username", "email", "password_version", "realname", "comment", "deleted", "sysadmin_flag",
     "reset_uuid", "creation_time", "update_time"}
)  # fmt: skip
_ROBOT = frozenset(
    {"id", "name", "description", "duration", "project_id", "expiresat", "disabled", "visible", "creation_time",
     "update_time"}
)  # fmt: skip
_REGISTRY = frozenset(
    {"id", "url", "name", "credential_type", "type", "insecure", "description", "health", "creation_time",
     "update_time"}
)  # fmt: skip
_POLICY = frozenset(
    {"id", "name", "description", "creator", "src_registry_id", "dest_registry_id", "dest_namespace",
     "dest_namespace_replace_count", "override", "enabled", "trigger", "filters", "replicate_deletion",
     "creation_time", "update_time"}
)  # fmt: skip
_REPOSITORY = frozenset(
    {"repository_id", "name", "project_id", "description", "pull_count", "star_count", "creation_time", "update_time"}
)
_ARTIFACT = frozenset(
    {"id", "type", "media_type", "manifest_media_type", "project_id", "repository_id", "repository_name", "digest",
     "size", "icon", "push_time", "pull_time", "extra_attrs", "annotations"}
)  # fmt: skip

Q_KEYS: Final[dict[str, frozenset[str]]] = {
    "audit_log": _AUDIT,
    "audit_log_ext": _AUDIT_EXT,
    "project": _PROJECT | {"public", "owner"},
    "user": _USER | {"username_or_email"},
    "robot": _ROBOT | {"Level", "ProjectID"},
    "registry": _REGISTRY,
    "replication_policy": _POLICY,
    "gc": _EXECUTION,
    "purge": _EXECUTION,
    "repository": _REPOSITORY | {"blob_digest"},
    "artifact": _ARTIFACT | {"tags", "labels", "base"},
    "quota": frozenset(),  # ListQuotas builds its query without q: every q is ignored
}
SORT_KEYS: Final[dict[str, frozenset[str]]] = {
    "audit_log": _AUDIT,
    "audit_log_ext": _AUDIT_EXT,
    "project": _PROJECT,
    "user": _USER,
    "robot": _ROBOT,
    "registry": _REGISTRY,
    "replication_policy": _POLICY,
    "replication_execution": _EXECUTION,
    "replication_task": _TASK,
    "gc": _EXECUTION,
    "purge": _EXECUTION,
    "repository": _REPOSITORY,
    "artifact": _ARTIFACT,
    "quota": frozenset({"creation_time", "update_time", "hard.storage", "used.storage"}),
}
# Where each resource's keys come from (read at v2.3.0 and v2.15.2 unless a range is given).
KEY_SOURCES: Final[dict[str, str]] = {
    "audit_log": "src/pkg/audit/model/model.go AuditLog; src/server/v2.0/handler/auditlog.go ListAuditLogs",
    "audit_log_ext": "src/pkg/auditext/model/model.go@v2.13.0 AuditLogExt (op_desc, op_result; the JSON names "
    "operation_description / operation_result are not keys)",
    "project": "src/pkg/project/models/project.go Project + FilterByPublic, FilterByOwner (owner = username); "
    "src/server/v2.0/handler/project.go ListProjects",
    "user": "src/pkg/user/dao/user.go@v2.15.2 User (src/common/models/user.go@v2.3.0) + FilterByUsernameOrEmail",
    "robot": "src/pkg/robot/model/model.go Robot (ExpiresAt is column expiresat); src/server/v2.0/handler/robot.go "
    "ListRobot (Level, ProjectID)",
    "registry": "src/pkg/reg/dao/model.go Registry (Status is column health)",
    "replication_policy": "src/pkg/replication/model/model.go Policy (columns present since v2.3.0)",
    "replication_execution": "src/pkg/task/dao/model.go Execution; handler/replication.go ListReplicationExecutions "
    "(sort only, q not read)",
    "replication_task": "src/pkg/task/dao/model.go Task; handler/replication.go ListReplicationTasks (sort only)",
    "gc": "src/pkg/task/dao/model.go Execution (no creation_time: GCHistory.creation_time is start_time); "
    "src/server/v2.0/handler/gc.go GetGCHistory",
    "purge": "src/pkg/task/dao/model.go Execution; src/server/v2.0/handler/purge.go@v2.6.0 ListPurgeHistory",
    "repository": "src/pkg/repository/model/model.go RepoRecord (repository_id, not id) + FilterByBlobDigest",
    "artifact": "src/pkg/artifact/dao/model.go Artifact (artifact_type only from v2.11.0, left out) + "
    "src/pkg/artifact/dao/dao.go setTagQuery/setLabelQuery/setBaseQuery",
    "quota": "src/server/v2.0/handler/quota.go ListQuotas (BuildQuery(nil q)); src/pkg/quota/dao/util.go listOrderBy",
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
