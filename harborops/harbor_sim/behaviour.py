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

    ``cite`` names the Harbor source at the tag(s) bounding the range: one or more
    ``path@vX.Y.Z symbol`` parts joined by ``"; "`` (a part may add a note in parentheses).
    ``witness`` says how the range is proven: ``"spec"`` (Harbor's swagger at the cited tag shows
    it, and so do the extracts in ``harborops/harbor/spec/`` where they carry the path) or
    ``"source"`` (only Harbor's code shows it). A ``"source"`` cite names the tag of every finite
    bound: ``since`` itself, and the first version *without* it after ``until`` (next minor's
    ``.0``, or next patch when ``until`` names a patch); it may also name the tag on the other side.
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
        "api/v2.0/swagger.yaml@v2.13.0 /auditlog-exts, /auditlog-exts/events; "
        "src/server/v2.0/handler/auditlog.go@v2.13.0 ListAuditLogExts",
        "spec",
    ),
    "legacy_audit_logs_frozen": Row(
        (2, 13),
        None,
        "new events are written to audit_log_ext only; audit_log keeps its old rows",
        "src/controller/event/handler/auditlog/auditlog.go@v2.13.0 Handler.Handle (auditext.Mgr.Create only); "
        "src/controller/event/handler/auditlog/auditlog.go@v2.12.4 Handler.Handle (audit.Mgr.Create)",
    ),
    "purge_audit": Row(
        (2, 6),
        None,
        "/system/purgeaudit*",
        "api/v2.0/swagger.yaml@v2.6.0 /system/purgeaudit, /system/purgeaudit/schedule",
        "spec",
    ),
    "purge_include_event_types": Row(
        (2, 13),
        None,
        "purge parameter include_event_types (was include_operations)",
        "src/server/v2.0/handler/purge.go@v2.13.0 verifyCreateRequest (common.PurgeAuditIncludeEventTypes); "
        "src/server/v2.0/handler/purge.go@v2.12.4 verifyCreateRequest (common.PurgeAuditIncludeOperations)",
    ),
    "gc_stop": Row(
        (2, 6),
        None,
        "PUT /system/gc/{gc_id} stops a GC",
        "api/v2.0/swagger.yaml@v2.6.0 PUT /system/gc/{gc_id}; src/server/v2.0/handler/gc.go@v2.6.0 gcAPI.StopGC",
        "spec",
    ),
    "gc_workers": Row(
        (2, 9),
        None,
        "GC parameter workers (1-5; 1-10 from 2.13, see gc_workers_max_10)",
        "src/jobservice/job/impl/gc/garbage_collection.go@v2.9.0 GarbageCollector.parseParams (workers); "
        "src/server/v2.0/handler/gc.go@v2.9.0 validateWorkers; "
        "src/jobservice/job/impl/gc/garbage_collection.go@v2.8.6 GarbageCollector.parseParams (no workers)",
    ),
    "gc_workers_max_10": Row(
        (2, 13),
        None,
        "GC workers accepted up to 10 (400 above 5 before 2.13)",
        "src/server/v2.0/handler/gc.go@v2.13.0 validateWorkers (workers > 10 is 400); "
        "src/server/v2.0/handler/gc.go@v2.12.4 validateWorkers (workers > 5 is 400)",
    ),
    "gc_delete_tag": Row(
        (2, 15),
        None,
        "GC parameter delete_tag",
        "src/server/v2.0/handler/gc.go@v2.15.0 gcAPI.kick (delete_tag); "
        "src/jobservice/job/impl/gc/garbage_collection.go@v2.15.0 GarbageCollector.parseParams (deleteTag); "
        "src/server/v2.0/handler/gc.go@v2.14.4 gcAPI.kick (no delete_tag)",
    ),
    "gc_redis_url_redacted": Row(
        (2, 15, 1),
        None,
        "job_parameters no longer carry redis_url_reg (#23134; not backported: v2.14.4, v2.13.5 still carry it)",
        "src/server/v2.0/handler/model/gc.go@v2.15.1 CleanExtraAttrs (used by gcAPI.GetGC, gcAPI.GetGCHistory, "
        "GCSchedule.ToSwagger); src/server/v2.0/handler/gc.go@v2.15.0 gcAPI.GetGCHistory (marshals ExtraAttrs as is)",
    ),
    "jobservice": Row(
        (2, 7),
        None,
        "/jobservice/* dashboard",
        "api/v2.0/swagger.yaml@v2.7.0 /jobservice/pools, /jobservice/queues",
        "spec",
    ),
    "schedules": Row((2, 7), None, "/schedules", "api/v2.0/swagger.yaml@v2.7.0 /schedules", "spec"),
    "usergroup_search": Row(
        (2, 4), None, "/usergroups/search", "api/v2.0/swagger.yaml@v2.4.0 /usergroups/search", "spec"
    ),
    "usergroups_paginated": Row(
        (2, 4),
        None,
        "/usergroups page/page_size/ldap_group_dn",
        "api/v2.0/swagger.yaml@v2.4.0 GET /usergroups page, page_size, ldap_group_dn",
        "spec",
    ),
    "usergroups_group_name_filter": Row(
        (2, 6),
        None,
        "/usergroups group_name filter",
        "api/v2.0/swagger.yaml@v2.6.0 GET /usergroups group_name",
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
        "api/v2.0/swagger.yaml@v2.12.0 /projects/{project_name_or_id}/robots (gone at v2.13.0); "
        "src/server/v2.0/handler/robotV1.go@v2.12.0 robotV1API.ListRobotV1 (file removed at v2.13.0)",
        "spec",
    ),
    "robot_permissions": Row((2, 10), None, "GET /permissions", "api/v2.0/swagger.yaml@v2.10.0 /permissions", "spec"),
    "project_artifacts": Row(
        (2, 12),
        None,
        "/projects/{p}/artifacts",
        "api/v2.0/swagger.yaml@v2.12.0 /projects/{project_name_or_id}/artifacts",
        "spec",
    ),
    "artifact_q_tags": Row(
        None,
        None,
        "artifact lists filter q=tags=nil (untagged), tags=* (tagged), tags=~x, tags=x",
        "src/pkg/artifact/dao/dao.go@v2.3.0 setTagQuery; src/pkg/artifact/dao/dao.go@v2.15.0 setTagQuery",
    ),
    "artifact_pull_time_zero": Row(
        None,
        None,
        "a never-pulled artifact answers pull_time 0001-01-01T00:00:00.000Z (Go's zero time), not null",
        "src/server/v2.0/handler/model/artifact.go@v2.3.0 Artifact.ToSwagger; "
        "src/server/v2.0/handler/model/artifact.go@v2.15.0 Artifact.ToSwagger",
    ),
    "audit_log_forward": Row(
        (2, 6),
        None,
        "audit_log_forward_endpoint / skip_audit_log_database",
        "api/v2.0/swagger.yaml@v2.6.0 Configurations.audit_log_forward_endpoint, "
        "Configurations.skip_audit_log_database",
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
        "src/controller/health/checker.go@v2.7.0 RegisterHealthCheckers (chartmuseum if WithChartMuseum); "
        "src/controller/health/checker.go@v2.8.0 RegisterHealthCheckers (no chartmuseum)",
    ),
    "health_notary": Row(
        None,
        (2, 8),
        "health component notary possible",
        "src/controller/health/checker.go@v2.8.0 RegisterHealthCheckers (notary if WithNotary); "
        "src/controller/health/checker.go@v2.9.0 RegisterHealthCheckers (no notary)",
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
    "replication_cron_minute_restricted": Row(
        (2, 9),
        None,
        "a scheduled replication policy's cron needs seconds 0 and a Minutes field other than '*'",
        "src/controller/replication/model/model.go@v2.9.0 Policy.Validate; "
        "src/controller/replication/model/model.go@v2.8.0 Policy.Validate (only cron.Parse)",
    ),
    "registry_ca_certificate": Row(
        (2, 15),
        None,
        "Registry.ca_certificate",
        "api/v2.0/swagger.yaml@v2.15.0 Registry.ca_certificate",
        "spec",
    ),
    "cve_export": Row(
        (2, 6),
        None,
        "/export/cve",
        "api/v2.0/swagger.yaml@v2.6.0 /export/cve; "
        "src/server/v2.0/handler/scanexport.go@v2.6.0 scanDataExportAPI.ExportScanData",
        "spec",
    ),
    "security_hub": Row(
        (2, 9),
        None,
        "/security/summary, /security/vul",
        "api/v2.0/swagger.yaml@v2.9.0 /security/summary, /security/vul; "
        "src/server/v2.0/handler/security.go@v2.9.0 securityAPI.GetSecuritySummary",
        "spec",
    ),
    # --- robots, GC, jobservice queues (#10 parts 4 and 7) ---
    "robot_level_system_filter": Row(
        (2, 13),
        None,
        "GET /robots?q=Level=system lists system robots only (before: every robot the caller may list)",
        "src/server/v2.0/handler/robot.go@v2.13.0 ListRobot (sets ProjectID=0 for Level=system; commit e9a8c05508"
        " 'fix 21118'); @v2.12.4 ListRobot sets ProjectID=0 only when q has no Level",
    ),
    "robot_secret_max_128": Row(
        (2, 9),
        None,
        "PATCH /robots/{id} with a caller's secret: 8-128 characters (before: 8 or more, no upper bound), "
        "and the 400 message says so",
        "src/controller/robot/controller.go@v2.9.0 IsValidSec (len <= 128); @v2.8.0 IsValidSec (len >= 8 only); "
        "src/server/v2.0/handler/robot.go@v2.9.0 RefreshSec ('the secret must be 8-128, inclusively, ...'); "
        "@v2.8.0 RefreshSec ('the secret must longer than 8 chars ...'; the same check at @v2.3.0 isValidSec)",
    ),
    "jobservice_queue_purge_audit_log": Row(
        (2, 8),
        None,
        "jobservice job/queue PURGE_AUDIT_LOG (PURGE_AUDIT in 2.6-2.7; listing skips the old name from 2.8)",
        "src/jobservice/job/known_jobs.go@v2.8.0 PurgeAuditVendorType; @v2.7.0 PurgeAudit='PURGE_AUDIT';"
        " src/controller/jobmonitor/monitor.go@v2.8.0 skippedJobTypes",
    ),
    "jobservice_queue_execution_sweep": Row(
        (2, 8),
        None,
        "jobservice job/queue EXECUTION_SWEEP",
        "src/jobservice/runtime/bootstrap.go@v2.8.0 loadAndRunRedisWorkerPool RegisterJobs (ExecSweepVendorType);"
        " absent @v2.7.0",
    ),
    "jobservice_queue_gdpr": Row(
        (2, 10),
        None,
        "jobservice job/queue AUDIT_LOGS_GDPR_COMPLIANT",
        "src/jobservice/runtime/bootstrap.go@v2.10.0 RegisterJobs (AuditLogsGDPRCompliantVendorType); absent @v2.9.0",
    ),
    # --- LDAP groups, user groups, members (#10 parts 1, 2 and 8) ---
    "ldap_group_search_uses_user_scope": Row(
        None,
        None,
        "LDAP group searches (login's verifyGroupInLDAP, /ldap/groups/search) use ldap_scope, the user search "
        "scope, based at the group's DN (by DN) or at ldap_group_base_dn (by exact name, first entry only); "
        "ldap_group_search_scope is stored but never read",
        "src/pkg/ldap/ldap.go@v2.3.0 Session.searchGroup + SearchLdapAttribute (s.basicCfg.Scope); "
        "@v2.13.0 SearchGroupByName, searchGroup, createGroupSearchFilter; @v2.15.0 searchGroup; "
        "src/core/auth/ldap/ldap.go@v2.15.0 verifyGroupInLDAP",
    ),
    "member_entity_id_checked": Row(
        (2, 6, 2),
        None,
        "POST /projects/{p}/members with an unknown member_user.user_id / member_group.id is 400 "
        "'User N not found' / 'Group N not found' (before: the member row was added as given)",
        "src/controller/member/controller.go@v2.6.2 controller.Create (userManager.Get / groupManager.Get);"
        " absent @v2.6.1 and @v2.3.0; same @v2.15.0",
    ),
    "member_group_dn_lookup": Row(
        (2, 4),
        None,
        "POST members by ldap_group_dn first looks the group up by the DN exactly as stored (lower-cased); "
        "before, every add went through SearchAndOnBoardGroup, whose duplicate-DN check (trim-lowered in the "
        "2.3 DAO) answers 500 for any group already on-boarded",
        "src/controller/member/controller.go@v2.4.0 controller.Create ('if the ldap group dn already exist');"
        " @v2.3.0 controller.Create + src/core/auth/ldap/ldap.go@v2.3.0 OnBoardGroup + "
        "src/pkg/usergroup/dao/dao.go@v2.3.0 Query (TrimLower)",
    ),
    # --- audit events per version, purge, query keys (#10 parts 3 and 5) ---
    "audit_legacy_robot_events": Row(
        (2, 12),
        (2, 12),
        "audit_log records create_robot / delete_robot (resource: the robot's stored name, no prefix)",
        "src/controller/event/handler/auditlog/auditlog.go@v2.12.0 Handler.Handle (CreateRobotEvent, "
        "DeleteRobotEvent); absent @v2.11.2; @v2.13.0 the same events go to audit_log_ext instead; "
        "src/controller/event/topic.go@v2.12.0 CreateRobotEvent.ResolveToAuditLog",
    ),
    "audit_ext_member_events": Row(
        (2, 16),
        None,
        "create/update/delete_member recorded in audit_log_ext and listed by /auditlog-exts/events",
        "src/pkg/auditext/model/model.go@main(c50c7dd, VERSION v2.16.0) EventTypes; absent @v2.15.2 and @v2.13.0",
        uncertain="unreleased: only on Harbor's main branch after v2.15.2 (commit f9a52ee1a5, #23228)",
    ),
    "audit_ext_project_update": Row(
        (2, 16),
        None,
        "update_project recorded in audit_log_ext and listed by /auditlog-exts/events",
        "src/pkg/auditext/model/model.go@main(c50c7dd, VERSION v2.16.0) EventTypes; absent @v2.15.2",
        uncertain="unreleased: only on Harbor's main branch after v2.15.2 (commit 266aad1eca, #23527)",
    ),
    "audit_config_payload_desc_213": Row(
        (2, 13, 0),
        (2, 13, 4),
        "update_configuration op_desc carries the raw request payload ('update configuration: {...}', secrets "
        "included, cut at 950 chars)",
        "src/pkg/auditext/event/config/config.go@v2.13.0 resolver.Resolve; "
        "@v2.13.5 writes 'update configuration' (cherry-pick 03aef5e6d6, #22917)",
    ),
    "audit_config_payload_desc_214": Row(
        (2, 14, 0),
        (2, 14, 2),
        "as audit_config_payload_desc_213, on the 2.14 line",
        "src/pkg/auditext/event/config/config.go@v2.14.0 and @v2.14.2 resolver.Resolve; @v2.14.3 and @v2.15.0 "
        "write 'update configuration'",
    ),
    "audit_purge_both_tables": Row(
        (2, 13),
        None,
        "the purge job runs audit_log's Purge (permitOps: bare pull/create/delete only) and audit_log_ext's "
        "(permitEventTypes) with the same include_event_types list, so event-type tokens leave audit_log alone",
        "src/jobservice/job/impl/purge/purge.go@v2.13.0 Job.Run; src/pkg/audit/dao/dao.go@v2.13.0 permitOps; "
        "src/pkg/auditext/dao/dao.go@v2.13.0 permitEventTypes; same @v2.15.2",
    ),
    "orm_query_operator_filter": Row(
        (2, 13, 2),
        None,
        "q keys with an ORM operator suffix: more than one '__' or an operator outside "
        "icontains/in/gte/lte/gt/lt/exact is skipped (before: passed to beego as given)",
        "src/lib/orm/query.go@v2.13.2 setFilters (allowedOperators); absent @v2.13.1",
        uncertain="the simulator ignores every key with '__' on all versions (operator suffixes not simulated)",
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
