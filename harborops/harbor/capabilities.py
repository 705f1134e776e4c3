"""Harbor versions and what each one can do (v2.3 … v2.15).

The client refuses to call what a version lacks. Every feature cites the Harbor source that shows
its range (``Feature.cite``, ``path@tag symbol``). The simulator does not use this table: it keeps
its own, ``harborops/harbor_sim/behaviour.py``, as an independent witness, and
``tests/harbor/test_behaviour_crosscheck.py`` fails, naming both citations, when the two disagree.
Ranges the swagger specs can witness are re-checked against the spec extracts in
``tests/harbor/test_spec_extract.py``.

Usage::

    v = parse_version("v2.10.0-b8bd1f5a")        # Version(2, 10, 0)
    caps = Capabilities.for_version(v)            # raises UnsupportedVersion for < 2.3
    if caps.gc_workers: ...
    caps.require("audit_log_ext")                  # raises NotSupported
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Final

from harborops.harbor.errors import NotSupported, UnsupportedVersion

__all__ = (
    "FEATURES",
    "GROUP_TYPE_HTTP",
    "GROUP_TYPE_LDAP",
    "GROUP_TYPE_OIDC",
    "ROLE_IDS",
    "ROLE_NAMES",
    "SUPPORTED_MAX",
    "SUPPORTED_MIN",
    "SUPPORTED_MINORS",
    "Capabilities",
    "Feature",
    "Version",
    "parse_version",
    "spec_minor",
)

SUPPORTED_MIN: Final = (2, 3)
SUPPORTED_MAX: Final = (2, 15)
SUPPORTED_MINORS: Final[tuple[tuple[int, int], ...]] = tuple((2, m) for m in range(3, 16))

# Project roles (src/common/const.go; 5 is valid although the swagger text lists 1-4).
ROLE_IDS: Final[dict[str, int]] = {
    "projectAdmin": 1,
    "developer": 2,
    "guest": 3,
    "maintainer": 4,
    "limitedGuest": 5,
}
ROLE_NAMES: Final[dict[int, str]] = {v: k for k, v in ROLE_IDS.items()}
GROUP_TYPE_LDAP: Final = 1
GROUP_TYPE_HTTP: Final = 2
GROUP_TYPE_OIDC: Final = 3

_VERSION_RE = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+.~](.*))?\s*$")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int = 0
    raw: str = field(default="", compare=False)

    @property
    def minor_key(self) -> tuple[int, int]:
        return (self.major, self.minor)

    @property
    def triple(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def parse_version(value: str | Version | tuple[int, ...]) -> Version:
    """``v2.10.0-b8bd1f5a`` → Version(2, 10, 0). Accepts ``2.13.0``, ``v2.15``, tuples. ValueError else."""
    if isinstance(value, Version):
        return value
    if isinstance(value, tuple):
        parts = [*value, 0, 0][:3]
        return Version(int(parts[0]), int(parts[1]), int(parts[2]), raw=".".join(map(str, value)))
    match = _VERSION_RE.match(value or "")
    if not match:
        raise ValueError(f"not a Harbor version: {value!r}")
    major, minor, patch = int(match[1]), int(match[2]), int(match[3] or 0)
    return Version(major, minor, patch, raw=value.strip())


def spec_minor(version: str | Version | tuple[int, ...]) -> tuple[int, int]:
    """The spec (minor) an instance is checked against; newer minors than known map to the newest."""
    v = parse_version(version)
    if v.minor_key < SUPPORTED_MIN:
        raise UnsupportedVersion(v.raw or str(v))
    return min(v.minor_key, SUPPORTED_MAX)


@dataclass(frozen=True)
class Feature:
    """A version range: ``since`` inclusive, ``until`` inclusive (last version that has it)."""

    since: tuple[int, ...] | None
    until: tuple[int, ...] | None
    what: str
    cite: str  # Harbor source showing the range: ``path@vX.Y.Z symbol`` parts joined by "; "

    def present(self, v: Version) -> bool:
        t = v.triple
        if self.since is not None and t < _pad(self.since):
            return False
        return not (self.until is not None and t > _pad(self.until, fill=10**6))


def _pad(t: tuple[int, ...], fill: int = 0) -> tuple[int, int, int]:
    p = [*t, fill, fill][:3]
    return (p[0], p[1], p[2])


# Every boolean capability, with its range and the Harbor source that shows it (``path@tag symbol``,
# parts joined by "; "). Capabilities fields have the same names. The simulator keeps its own table
# (harborops/harbor_sim/behaviour.py); tests/harbor/test_behaviour_crosscheck.py compares the two.
FEATURES: Final[dict[str, Feature]] = {
    "audit_log_ext": Feature(
        (2, 13),
        None,
        "/auditlog-exts, /auditlog-exts/events, /projects/{p}/auditlog-exts",
        "api/v2.0/swagger.yaml@v2.13.0 /auditlog-exts; src/server/v2.0/handler/auditlog.go@v2.13.0 ListAuditLogExts",
    ),
    "legacy_audit_logs_frozen": Feature(
        (2, 13),
        None,
        "/audit-logs only returns rows written before the 2.13 upgrade",
        "src/controller/event/handler/auditlog/auditlog.go@v2.13.0 Handler.Handle (writes auditext only)",
    ),
    "purge_audit": Feature((2, 6), None, "/system/purgeaudit*", "api/v2.0/swagger.yaml@v2.6.0 /system/purgeaudit"),
    "purge_include_event_types": Feature(
        (2, 13),
        None,
        "purge parameter include_event_types (was include_operations)",
        "src/server/v2.0/handler/purge.go@v2.13.0 verifyCreateRequest (PurgeAuditIncludeEventTypes)",
    ),
    "gc_stop": Feature(
        (2, 6), None, "PUT /system/gc/{gc_id} stops a GC", "api/v2.0/swagger.yaml@v2.6.0 PUT /system/gc/{gc_id}"
    ),
    "gc_workers": Feature(
        (2, 9),
        None,
        "GC parameter workers and result stats",
        "src/server/v2.0/handler/gc.go@v2.9.0 validateWorkers; "
        "src/jobservice/job/impl/gc/garbage_collection.go@v2.9.0 GarbageCollector.parseParams",
    ),
    "gc_workers_max_10": Feature(
        (2, 13),
        None,
        "GC parameter workers above 5 (1-5 before, 1-10 from 2.13)",
        "src/server/v2.0/handler/gc.go@v2.13.0 validateWorkers (<= 10); "
        "src/server/v2.0/handler/gc.go@v2.12.4 validateWorkers (<= 5)",
    ),
    "gc_delete_tag": Feature(
        (2, 15),
        None,
        "GC parameter delete_tag",
        "src/server/v2.0/handler/gc.go@v2.15.0 gcAPI.kick (delete_tag)",
    ),
    "gc_redis_url_redacted": Feature(
        (2, 15, 1),
        None,
        "job_parameters no longer carries redis_url_reg (#23134)",
        "src/server/v2.0/handler/model/gc.go@v2.15.1 CleanExtraAttrs",
    ),
    "jobservice": Feature((2, 7), None, "/jobservice/* dashboard", "api/v2.0/swagger.yaml@v2.7.0 /jobservice/pools"),
    "schedules": Feature((2, 7), None, "/schedules", "api/v2.0/swagger.yaml@v2.7.0 /schedules"),
    "usergroup_search": Feature((2, 4), None, "/usergroups/search", "api/v2.0/swagger.yaml@v2.4.0 /usergroups/search"),
    "usergroups_paginated": Feature(
        (2, 4),
        None,
        "/usergroups page/page_size/ldap_group_dn",
        "api/v2.0/swagger.yaml@v2.4.0 GET /usergroups page_size",
    ),
    "usergroups_group_name_filter": Feature(
        (2, 6), None, "/usergroups group_name filter", "api/v2.0/swagger.yaml@v2.6.0 GET /usergroups group_name"
    ),
    "ldap_group_attach_parallel": Feature(
        (2, 12),
        None,
        "configuration ldap_group_attach_parallel",
        "api/v2.0/swagger.yaml@v2.12.0 Configurations.ldap_group_attach_parallel",
    ),
    "project_robots": Feature(
        None,
        (2, 12),
        "/projects/{p}/robots (removed in 2.13)",
        "api/v2.0/swagger.yaml@v2.12.0 /projects/{project_name_or_id}/robots; "
        "src/server/v2.0/handler/robotV1.go@v2.12.0 robotV1API.ListRobotV1 (removed at v2.13.0)",
    ),
    "robot_permissions": Feature((2, 10), None, "GET /permissions", "api/v2.0/swagger.yaml@v2.10.0 /permissions"),
    "project_artifacts": Feature(
        (2, 12),
        None,
        "/projects/{p}/artifacts",
        "api/v2.0/swagger.yaml@v2.12.0 /projects/{project_name_or_id}/artifacts",
    ),
    "audit_log_forward": Feature(
        (2, 6),
        None,
        "audit_log_forward_endpoint / skip_audit_log_database",
        "api/v2.0/swagger.yaml@v2.6.0 Configurations.audit_log_forward_endpoint",
    ),
    "disabled_audit_log_event_types": Feature(
        (2, 13),
        None,
        "configuration disabled_audit_log_event_types",
        "api/v2.0/swagger.yaml@v2.13.0 Configurations.disabled_audit_log_event_types",
    ),
    "health_chartmuseum": Feature(
        None,
        (2, 7),
        "health component chartmuseum possible",
        "src/controller/health/checker.go@v2.8.0 RegisterHealthCheckers (no chartmuseum)",
    ),
    "health_notary": Feature(
        None,
        (2, 8),
        "health component notary possible",
        "src/controller/health/checker.go@v2.9.0 RegisterHealthCheckers (no notary)",
    ),
    "systeminfo_current_time": Feature(
        (2, 5), None, "GeneralInfo.current_time", "api/v2.0/swagger.yaml@v2.5.0 GeneralInfo.current_time"
    ),
    "replication_speed": Feature(
        (2, 4), None, "ReplicationPolicy.speed", "api/v2.0/swagger.yaml@v2.4.0 ReplicationPolicy.speed"
    ),
    "replication_copy_by_chunk": Feature(
        (2, 7), None, "ReplicationPolicy.copy_by_chunk", "api/v2.0/swagger.yaml@v2.7.0 ReplicationPolicy.copy_by_chunk"
    ),
    "replication_single_active": Feature(
        (2, 14),
        None,
        "ReplicationPolicy.single_active_replication",
        "api/v2.0/swagger.yaml@v2.14.0 ReplicationPolicy.single_active_replication",
    ),
    "registry_ca_certificate": Feature(
        (2, 15), None, "Registry.ca_certificate", "api/v2.0/swagger.yaml@v2.15.0 Registry.ca_certificate"
    ),
    "cve_export": Feature((2, 6), None, "/export/cve", "api/v2.0/swagger.yaml@v2.6.0 /export/cve"),
    "security_hub": Feature(
        (2, 9),
        None,
        "/security/summary, /security/vul",
        "api/v2.0/swagger.yaml@v2.9.0 /security/summary, /security/vul",
    ),
}

HEALTH_COMPONENTS_BASE: Final = frozenset(
    {"core", "database", "jobservice", "portal", "redis", "registry", "registryctl", "trivy"}
)


@dataclass(frozen=True)
class Capabilities:
    """What one Harbor version offers. Build with :meth:`for_version`."""

    version: Version
    spec: tuple[int, int]
    audit_log_ext: bool
    legacy_audit_logs_frozen: bool
    purge_audit: bool
    purge_include_event_types: bool
    gc_stop: bool
    gc_workers: bool
    gc_workers_max_10: bool
    gc_delete_tag: bool
    gc_redis_url_redacted: bool
    jobservice: bool
    schedules: bool
    usergroup_search: bool
    usergroups_paginated: bool
    usergroups_group_name_filter: bool
    ldap_group_attach_parallel: bool
    project_robots: bool
    robot_permissions: bool
    project_artifacts: bool
    audit_log_forward: bool
    disabled_audit_log_event_types: bool
    health_chartmuseum: bool
    health_notary: bool
    systeminfo_current_time: bool
    replication_speed: bool
    replication_copy_by_chunk: bool
    replication_single_active: bool
    registry_ca_certificate: bool
    cve_export: bool
    security_hub: bool

    @classmethod
    def for_version(cls, version: str | Version | tuple[int, ...]) -> Capabilities:
        """Capabilities of ``version``; UnsupportedVersion below 2.3, newer minors act as 2.15."""
        v = parse_version(version)
        spec = spec_minor(v)  # raises UnsupportedVersion
        flags = {name: feat.present(v) for name, feat in FEATURES.items()}
        return cls(version=v, spec=spec, **flags)

    # -- derived values ------------------------------------------------------------------
    @property
    def spec_name(self) -> str:
        """Name of the spec extract for this instance, e.g. ``v2.13``."""
        return f"v{self.spec[0]}.{self.spec[1]}"

    @property
    def purge_event_key(self) -> str | None:
        """The purge-audit parameter naming the purged events, or None before 2.6."""
        if not self.purge_audit:
            return None
        return "include_event_types" if self.purge_include_event_types else "include_operations"

    @property
    def audit_log_endpoints(self) -> tuple[str, ...]:
        """Where audit events live: ext first (new rows), then the legacy table (history)."""
        return ("/auditlog-exts", "/audit-logs") if self.audit_log_ext else ("/audit-logs",)

    @property
    def health_components(self) -> frozenset[str]:
        """Component names that may appear in GET /health for this version."""
        extra = {"chartmuseum"} if self.health_chartmuseum else set()
        if self.health_notary:
            extra.add("notary")
        return HEALTH_COMPONENTS_BASE | extra

    @property
    def gc_parameters(self) -> frozenset[str]:
        """GC ``parameters`` keys this version understands."""
        keys = {"delete_untagged", "dry_run"}
        if self.gc_workers:
            keys.add("workers")
        if self.gc_delete_tag:
            keys.add("delete_tag")
        return frozenset(keys)

    def supports(self, feature: str) -> bool:
        if feature not in FEATURES:
            raise KeyError(f"unknown Harbor feature {feature!r}")
        return bool(getattr(self, feature))

    def require(self, feature: str, what: str | None = None) -> None:
        """Raise NotSupported (no request is sent) unless this version has ``feature``."""
        if not self.supports(feature):
            feat = FEATURES[feature]
            rng = (
                f"since v{'.'.join(map(str, feat.since))}"
                if feat.since
                else f"until v{'.'.join(map(str, feat.until or ()))}"
            )
            raise NotSupported(f"{what or feat.what} is not available in Harbor {self.version} ({rng})")

    def as_dict(self) -> dict[str, object]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["version"] = str(self.version)
        return data
