"""How each version-dependent capability shows in a spec extract (``harborops/harbor/spec/vX.Y.json``).

One mapping, used twice: ``test_spec_extract.test_capabilities_agree_with_the_spec`` holds the
client's table against it, ``test_behaviour_crosscheck`` holds the simulator's ``witness="spec"``
rows against it. Each name maps to one or more (what, predicate) pairs; every predicate must be
true exactly in the versions that have the capability.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Final

SPEC_DIR: Final = Path(__file__).resolve().parents[2] / "harborops" / "harbor" / "spec"

Extract = dict[str, Any]
Witness = tuple[str, Callable[[Extract], bool]]


@cache
def _load(minor: int) -> str:
    return (SPEC_DIR / f"v2.{minor}.json").read_text()


def extract(minor: int) -> Extract:
    """The committed extract of Harbor v2.<minor>.0's swagger (a fresh copy each call)."""
    data: Extract = json.loads(_load(minor))
    return data


def _path(path: str) -> Witness:
    return (f"path {path}", lambda ex: path in ex["paths"])


def _method(method: str, path: str) -> Witness:
    return (f"{method.upper()} {path}", lambda ex: method in ex["paths"].get(path, {}))


def _param(method: str, path: str, name: str) -> Witness:
    def has(ex: Extract) -> bool:
        op = ex["paths"].get(path, {}).get(method) or {}
        return any(p["name"] == name for p in op.get("parameters", []))

    return (f"{method.upper()} {path} parameter {name}", has)


def _prop(definition: str, prop: str) -> Witness:
    return (f"{definition}.{prop}", lambda ex: prop in ex["definitions"][definition]["properties"])


SPEC_WITNESS: Final[dict[str, tuple[Witness, ...]]] = {
    "audit_log_ext": (_path("/auditlog-exts"), _path("/auditlog-exts/events")),
    "purge_audit": (_path("/system/purgeaudit/schedule"),),
    "jobservice": (_path("/jobservice/queues"),),
    "schedules": (_path("/schedules"),),
    "usergroup_search": (_path("/usergroups/search"),),
    "project_robots": (_path("/projects/{project_name_or_id}/robots"),),
    "robot_permissions": (_path("/permissions"),),
    "project_artifacts": (_path("/projects/{project_name_or_id}/artifacts"),),
    "gc_stop": (_method("put", "/system/gc/{gc_id}"),),
    "usergroups_paginated": (_param("get", "/usergroups", "page_size"), _param("get", "/usergroups", "ldap_group_dn")),
    "usergroups_group_name_filter": (_param("get", "/usergroups", "group_name"),),
    "ldap_group_attach_parallel": (_prop("Configurations", "ldap_group_attach_parallel"),),
    "audit_log_forward": (
        _prop("Configurations", "audit_log_forward_endpoint"),
        _prop("Configurations", "skip_audit_log_database"),
    ),
    "disabled_audit_log_event_types": (_prop("Configurations", "disabled_audit_log_event_types"),),
    "replication_single_active": (_prop("ReplicationPolicy", "single_active_replication"),),
    "replication_copy_by_chunk": (_prop("ReplicationPolicy", "copy_by_chunk"),),
    "replication_speed": (_prop("ReplicationPolicy", "speed"),),
    "registry_ca_certificate": (_prop("Registry", "ca_certificate"),),
    "systeminfo_current_time": (_prop("GeneralInfo", "current_time"),),
}

# witness="spec" rows whose path the extracts do not carry (harborops never calls it), so they
# cannot be derived here; their ranges were read in Harbor's full swagger at the cited tags.
NOT_IN_EXTRACTS: Final[dict[str, str]] = {
    "cve_export": "/export/cve",
    "security_hub": "/security/summary",
}
