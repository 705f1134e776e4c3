"""The simulator's own per-version behaviour table: what a Harbor of version X does, from Harbor's source.

A witness, not a mirror: nothing here is imported from the client (`harborops/harbor/capabilities.py`).
Every row cites the Harbor source it follows (``path@tag symbol``), read at the tags that bound its
range; ``tests/harbor/test_behaviour_crosscheck.py`` compares the rows both tables share and fails,
naming both citations, when they disagree. A row whose behaviour could not be settled from source says
so in ``uncertain`` instead of guessing.

Usage::

    b = SimBehaviour.for_version("2.12.1")
    if b.gc_workers: ...
    b.supports("audit_log_ext")
    BEHAVIOUR["gc_workers"].cite    # 'src/jobservice/job/impl/gc/garbage_collection.go@v2.9.0 ...'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

__all__ = ("BEHAVIOUR", "Row", "SimBehaviour", "SimVersion", "parse_sim_version")

SPEC_MIN: Final = (2, 3)
SPEC_MAX: Final = (2, 15)
_VERSION_RE = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+.~](.*))?\s*$")


@dataclass(frozen=True, order=True)
class SimVersion:
    major: int
    minor: int
    patch: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def parse_sim_version(value: str | SimVersion | tuple[int, ...]) -> SimVersion:
    """``v2.10.0-b8bd1f5a`` / ``2.10`` / ``(2, 10, 0)`` → SimVersion(2, 10, 0); ValueError else."""
    if isinstance(value, SimVersion):
        return value
    if isinstance(value, tuple):
        parts = [*value, 0, 0][:3]
        return SimVersion(int(parts[0]), int(parts[1]), int(parts[2]))
    match = _VERSION_RE.match(str(value or ""))
    if not match:
        raise ValueError(f"not a Harbor version: {value!r}")
    return SimVersion(int(match[1]), int(match[2]), int(match[3] or 0))


@dataclass(frozen=True)
class Row:
    """A behaviour present from ``since`` (inclusive) to ``until`` (inclusive, last version with it).

    ``cite`` names the Harbor source (``path@tag symbol``) at the tag(s) bounding the range;
    ``witness`` says how the range is proven: ``"spec"`` (the swagger extracts show it too) or
    ``"source"`` (only Harbor's code shows it; the cite names the bounding tags read).
    """

    since: tuple[int, ...] | None
    until: tuple[int, ...] | None
    what: str
    cite: str
    witness: str = "source"
    uncertain: str = ""

    def present(self, v: SimVersion) -> bool:
        t = (v.major, v.minor, v.patch)
        if self.since is not None and t < _pad(self.since, 0):
            return False
        return not (self.until is not None and t > _pad(self.until, 10**6))


def _pad(t: tuple[int, ...], fill: int) -> tuple[int, int, int]:
    p = [*t, fill, fill][:3]
    return (p[0], p[1], p[2])


# Every boolean behaviour with its range and source. Names shared with the client's FEATURES are
# cross-checked; the others are the simulator's alone.
BEHAVIOUR: Final[dict[str, Row]] = {
    "audit_log_ext": Row(
        (2, 13),
        None,
        "/auditlog-exts, /auditlog-exts/events, /projects/{p}/auditlog-exts",
        "api/v2.0/swagger.yaml@v2.13.0 /auditlog-exts; src/server/v2.0/handler/auditlog_ext.go@v2.13.0",
        "spec",
    ),
    "legacy_audit_logs_frozen": Row(
        (2, 13),
        None,
        "new events are written to audit_log_ext only; audit_log keeps its old rows",
        "src/controller/event/handler/auditlog/auditlog.go@v2.13.0 Handle (writes auditlog_ext)",
    ),
    "purge_audit": Row(
        (2, 6),
        None,
        "/system/purgeaudit*",
        "api/v2.0/swagger.yaml@v2.6.0 /system/purgeaudit",
        "spec",
    ),
    "purge_include_event_types": Row(
        (2, 13),
        None,
        "purge parameter include_event_types (was include_operations)",
        "src/jobservice/job/impl/purge/audit.go@v2.13.0 Validate",
    ),
    "gc_stop": Row(
        (2, 6), None, "PUT /system/gc/{gc_id} stops a GC", "api/v2.0/swagger.yaml@v2.6.0 PUT /system/gc/{gc_id}", "spec"
    ),
    "gc_workers": Row(
        (2, 9),
        None,
        "GC parameter workers (1-10)",
        "src/jobservice/job/impl/gc/garbage_collection.go@v2.9.0 parseParams (workers)",
    ),
    "gc_delete_tag": Row(
        (2, 15),
        None,
        "GC parameter delete_tag",
        "src/jobservice/job/impl/gc/garbage_collection.go@v2.15.0 parseParams (delete_tag)",
    ),
    "gc_redis_url_redacted": Row(
        (2, 15, 1),
        None,
        "job_parameters no longer carry redis_url_reg",
        "src/controller/gc/controller.go@v2.15.1",
    ),
    "jobservice": Row(
        (2, 7), None, "/jobservice/* dashboard", "api/v2.0/swagger.yaml@v2.7.0 /jobservice/pools", "spec"
    ),
    "schedules": Row((2, 7), None, "/schedules", "api/v2.0/swagger.yaml@v2.7.0 /schedules", "spec"),
    "usergroup_search": Row(
        (2, 4), None, "/usergroups/search", "api/v2.0/swagger.yaml@v2.4.0 /usergroups/search", "spec"
    ),
    "usergroups_paginated": Row(
        (2, 4),
        None,
        "/usergroups page/page_size/ldap_group_dn",
        "api/v2.0/swagger.yaml@v2.4.0 /usergroups",
        "spec",
    ),
    "usergroups_group_name_filter": Row(
        (2, 6),
        None,
        "/usergroups group_name filter",
        "api/v2.0/swagger.yaml@v2.6.0 /usergroups group_name",
        "spec",
    ),
    "ldap_group_attach_parallel": Row(
        (2, 12),
        None,
        "configuration ldap_group_attach_parallel",
        "api/v2.0/swagger.yaml@v2.12.0 Configurations.ldap_group_attach_parallel",
        "spec",
    ),
    "project_robots": Row(
        None,
        (2, 12),
        "/projects/{p}/robots (removed in 2.13)",
        "api/v2.0/legacy_swagger.yaml@v2.12.0 /projects/{project_id}/robots",
        "spec",
    ),
    "robot_permissions": Row((2, 10), None, "GET /permissions", "api/v2.0/swagger.yaml@v2.10.0 /permissions", "spec"),
    "project_artifacts": Row(
        (2, 12),
        None,
        "/projects/{p}/artifacts",
        "api/v2.0/swagger.yaml@v2.12.0 /projects/{project_name}/artifacts",
        "spec",
    ),
    "audit_log_forward": Row(
        (2, 6),
        None,
        "audit_log_forward_endpoint / skip_audit_log_database",
        "api/v2.0/swagger.yaml@v2.6.0 Configurations.audit_log_forward_endpoint",
        "spec",
    ),
    "disabled_audit_log_event_types": Row(
        (2, 13),
        None,
        "configuration disabled_audit_log_event_types",
        "api/v2.0/swagger.yaml@v2.13.0 Configurations.disabled_audit_log_event_types",
        "spec",
    ),
    "health_chartmuseum": Row(
        None,
        (2, 7),
        "health component chartmuseum possible",
        "src/core/api/health.go@v2.7.0 registerHealthCheckers",
    ),
    "health_notary": Row(
        None, (2, 8), "health component notary possible", "src/core/api/health.go@v2.8.0 registerHealthCheckers"
    ),
    "systeminfo_current_time": Row(
        (2, 5),
        None,
        "GeneralInfo.current_time",
        "api/v2.0/swagger.yaml@v2.5.0 GeneralInfo.current_time",
        "spec",
    ),
    "replication_speed": Row(
        (2, 4), None, "ReplicationPolicy.speed", "api/v2.0/swagger.yaml@v2.4.0 ReplicationPolicy.speed", "spec"
    ),
    "replication_copy_by_chunk": Row(
        (2, 7),
        None,
        "ReplicationPolicy.copy_by_chunk",
        "api/v2.0/swagger.yaml@v2.7.0 ReplicationPolicy.copy_by_chunk",
        "spec",
    ),
    "replication_single_active": Row(
        (2, 14),
        None,
        "ReplicationPolicy.single_active_replication",
        "api/v2.0/swagger.yaml@v2.14.0 ReplicationPolicy.single_active_replication",
        "spec",
    ),
    "registry_ca_certificate": Row(
        (2, 15),
        None,
        "Registry.ca_certificate",
        "api/v2.0/swagger.yaml@v2.15.0 Registry.ca_certificate",
        "spec",
    ),
    "cve_export": Row((2, 6), None, "/export/cve", "api/v2.0/swagger.yaml@v2.6.0 /export/cve", "spec"),
    "security_hub": Row(
        (2, 9), None, "/security/summary, /security/vul", "api/v2.0/swagger.yaml@v2.9.0 /security/summary", "spec"
    ),
}


@dataclass(frozen=True)
class SimBehaviour:
    """What the simulated Harbor of one version does. Build with :meth:`for_version`."""

    version: SimVersion
    flags: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def for_version(cls, version: str | SimVersion | tuple[int, ...]) -> SimBehaviour:
        v = parse_sim_version(version)
        if (v.major, v.minor) < SPEC_MIN:
            raise ValueError(f"the simulator plays Harbor v{SPEC_MIN[0]}.{SPEC_MIN[1]} and newer, not {v}")
        return cls(v, {name: row.present(v) for name, row in BEHAVIOUR.items()})

    def __getattr__(self, name: str) -> bool:
        flags = self.__dict__.get("flags", {})
        if name in flags:
            return bool(flags[name])
        raise AttributeError(name)

    def supports(self, name: str) -> bool:
        if name not in BEHAVIOUR:
            raise KeyError(f"unknown simulator behaviour {name!r}")
        return self.flags[name]

    @property
    def spec_name(self) -> str:
        """The spec extract this version answers with (newer minors than known: the newest)."""
        major, minor = min((self.version.major, self.version.minor), SPEC_MAX)
        return f"v{major}.{minor}"

    @property
    def purge_event_key(self) -> str | None:
        if not self.supports("purge_audit"):
            return None
        return "include_event_types" if self.supports("purge_include_event_types") else "include_operations"
