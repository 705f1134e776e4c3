"""Audit logs: events from mutations, q/sort/paging, a million seeded rows in bounded memory, purge."""

from __future__ import annotations

import gc
import tracemalloc

import httpx
import pytest

from harborops.harbor_sim import Fleet, HarborInstance, push_artifact
from tests.harbor_sim.conftest import Api, client_for, location_id


def test_mutations_write_audit_events(api: Api, inst: HarborInstance) -> None:
    c = api()
    location_id(c.post("/projects", json={"project_name": "audited"}))
    push_artifact(inst, "audited", "tomcat", "latest", 100, who="admin")
    assert c.delete("/projects/audited/repositories/tomcat").status_code == 200
    events = c.get("/projects/audited/auditlog-exts").json()
    assert [(e["operation"], e["resource_type"], e["resource"]) for e in events] == [
        ("delete", "repository", "audited/tomcat"),
        ("create", "artifact", "audited/tomcat:latest"),
        ("create", "project", "audited"),
    ]
    assert c.put("/configurations", json={"robot_token_duration": 10}).status_code == 200
    assert c.get("/auditlog-exts", params={"q": "resource_type=configuration"}).headers["X-Total-Count"] == "1"


def test_incremental_cursor_over_a_million_seeded_rows_in_bounded_memory() -> None:
    gc.collect()
    tracemalloc.start()
    try:
        fleet = Fleet.create(1, "2.12.0")
        inst = fleet[1]
        inst.seed_audit(1_000_000)
        c = client_for(fleet)
        r = c.get("/audit-logs", params={"q": "id=[999951~]", "sort": "id", "page_size": 100})
        assert r.headers["X-Total-Count"] == "50"
        ids = [e["id"] for e in r.json()]
        assert ids == list(range(999_951, 1_000_001))
        # walk a cursor from the middle, 100 at a time
        cursor = 500_000
        for _ in range(5):
            page = c.get("/audit-logs", params={"q": f"id=[{cursor}~]", "sort": "id", "page_size": 100}).json()
            assert [e["id"] for e in page] == list(range(cursor, cursor + 100))
            cursor = page[-1]["id"] + 1
        bob = c.get("/audit-logs", params={"q": "username=bob,operation=pull", "page_size": 5})
        assert int(bob.headers["X-Total-Count"]) > 10_000
        assert all(e["username"] == "bob" and e["operation"] == "pull" for e in bob.json())
        ids = [e["id"] for e in bob.json()]
        assert ids == sorted(ids, reverse=True)  # default order: op_time desc
        deep = c.get("/audit-logs", params={"page": 2000, "page_size": 100, "q": "resource=~proj-2"})
        assert int(deep.headers["X-Total-Count"]) > 200_000 and len(deep.json()) == 100
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 30 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_q_filters_time_range_and_unknown_keys(api: Api, inst: HarborInstance, fleet: Fleet) -> None:
    inst.seed_audit(1000, step_seconds=60)  # ends "now": 2025-01-01T00:00:00
    c = api()
    r = c.get("/auditlog-exts", params={"q": "op_time=[2024-12-31T23:50:00~2025-01-01T00:00:00]"})
    assert r.headers["X-Total-Count"] == "11"
    r = c.get(
        "/auditlog-exts",
        params={"q": "op_time=[2024-12-31 23:50:00~2025-01-01 00:00:00],bogus=1", "sort": "-creation_time"},
    )
    assert r.headers["X-Total-Count"] == "11"
    assert [e["id"] for e in r.json()] == list(range(1000, 990, -1))[:10]
    ops = c.get("/auditlog-exts", params={"q": "operation={create delete}", "page_size": 100}).json()
    assert {e["operation"] for e in ops} == {"create", "delete"}
    users = c.get("/auditlog-exts", params={"q": "username=~car", "sort": "resource", "page_size": 20}).json()
    assert {e["username"] for e in users} == {"carol"}
    assert [e["resource"] for e in users] == sorted(e["resource"] for e in users)
    events = c.get("/auditlog-exts/events").json()
    assert {"event_type": "create_artifact"} in events


def test_2_13_keeps_history_in_audit_logs_and_new_rows_in_ext() -> None:
    fleet = Fleet.create(1, "2.13.0")
    inst = fleet[1]
    inst.seed_audit(5000, history=True)
    inst.seed_audit(300)
    c = client_for(fleet)
    assert c.get("/audit-logs").headers["X-Total-Count"] == "5000"
    assert c.get("/auditlog-exts").headers["X-Total-Count"] == "300"
    location_id(c.post("/projects", json={"project_name": "fresh"}))
    assert c.get("/audit-logs").headers["X-Total-Count"] == "5000"
    newest = c.get("/auditlog-exts", params={"page_size": 1}).json()[0]
    assert newest["id"] == 301 and newest["resource"] == "fresh"


def test_non_admins_only_see_logs_of_projects_they_administer(api: Api, inst: HarborInstance) -> None:
    """Source: src/server/v2.0/handler/auditlog.go@v2.13.0 ListAuditLogExts (member projects with list-log)."""
    inst.add_user("dev", "Harbor12345")
    c = api()
    pid = location_id(c.post("/projects", json={"project_name": "mine"}))
    location_id(c.post("/projects", json={"project_name": "theirs"}))
    location_id(c.post(f"/projects/{pid}/members", json={"role_id": 2, "member_user": {"username": "dev"}}))
    dev = api(auth=("dev", "Harbor12345"))
    assert dev.get("/projects/mine/auditlog-exts").status_code == 403
    assert dev.get("/auditlog-exts").json() == []
    assert api(auth=None).get("/auditlog-exts").status_code == 401
    mid = next(m["id"] for m in c.get(f"/projects/{pid}/members").json() if m["entity_name"] == "dev")
    assert c.put(f"/projects/{pid}/members/{mid}", json={"role_id": 1}).status_code == 200
    # no member event on 2.13 (EventTypes has none before Harbor's main branch): only the project's creation
    assert {e["resource"] for e in dev.get("/auditlog-exts").json()} == {"mine"}


def test_purge_deletes_old_rows_over_simulated_time(api: Api, inst: HarborInstance, fleet: Fleet) -> None:
    inst.seed_audit(10_000, step_seconds=60)  # ~7 days of history
    c = api()
    body = {
        "schedule": {"type": "Manual"},
        "parameters": {
            "audit_retention_hour": 24,
            "include_event_types": "create_artifact,login_user",
            "dry_run": False,
        },
    }
    pid = location_id(c.post("/system/purgeaudit/schedule", json=body))
    assert c.get(f"/system/purgeaudit/{pid}").json()["job_status"] == "Running"
    before = int(c.get("/auditlog-exts", params={"q": "operation=login"}).headers["X-Total-Count"])
    fleet.advance(600)
    assert c.get(f"/system/purgeaudit/{pid}").json()["job_status"] == "Success"
    log = c.get(f"/system/purgeaudit/{pid}/log").text
    assert "Purge audit job start" in log and "rows of audit logs" in log
    after = int(c.get("/auditlog-exts", params={"q": "operation=login"}).headers["X-Total-Count"])
    assert 0 < after < before
    old = c.get("/auditlog-exts", params={"q": "operation=login,op_time=[~2024-12-30T00:00:00]"})
    assert old.headers["X-Total-Count"] == "0"
    kept = c.get("/auditlog-exts", params={"q": "operation=update,op_time=[~2024-12-30T00:00:00]"})
    assert int(kept.headers["X-Total-Count"]) > 0
    newest = c.get("/system/purgeaudit", params={"sort": "-creation_time", "page": 1, "page_size": 1}).json()
    assert newest[0]["id"] == pid and newest[0]["job_name"] == "PURGE_AUDIT_LOG"


# --- #10 part 3: which events each version records --------------------------------------------------------
def _kinds(rows: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(e["operation"], e["resource_type"], e["resource"]) for e in rows]


@pytest.mark.parametrize(("version", "robots_audited"), [("2.11.2", False), ("2.12.0", True), ("2.12.4", True)])
def test_legacy_audit_log_records_robot_events_only_in_2_12(version: str, robots_audited: bool) -> None:
    """Source: src/controller/event/handler/auditlog/auditlog.go@v2.12.0 Handler.Handle (CreateRobotEvent,
    DeleteRobotEvent; absent @v2.11.2); src/controller/event/topic.go@v2.12.0 CreateRobotEvent.ResolveToAuditLog
    (resource = the stored robot name, without the robot$ prefix)."""
    fleet = Fleet.create(1, version)
    c = client_for(fleet)
    location_id(c.post("/projects", json={"project_name": "p1"}))
    perms = [{"kind": "project", "namespace": "p1", "access": [{"resource": "repository", "action": "pull"}]}]
    rid = c.post("/robots", json={"name": "ci", "level": "project", "duration": -1, "permissions": perms}).json()["id"]
    assert c.delete(f"/robots/{rid}").status_code == 200
    rows = c.get("/audit-logs").json()
    robot_rows = [k for k in _kinds(rows) if k[1] == "robot"]
    assert robot_rows == ([("delete", "robot", "p1+ci"), ("create", "robot", "p1+ci")] if robots_audited else [])
    # project-scoped like Harbor's project_id: a project log listing shows them
    scoped = _kinds(c.get("/projects/p1/logs").json())
    assert (("create", "robot", "p1+ci") in scoped) is robots_audited


def test_2_13_to_2_15_record_no_member_or_project_update_events() -> None:
    """Source: src/pkg/auditext/model/model.go@v2.15.2 EventTypes (no *_member, no update_project; the
    handler writes CommonEvents only from resolvers registered for users, configurations and login)."""
    fleet = Fleet.create(1, "2.15.2")
    inst = fleet[1]
    inst.add_user("dev", "Harbor12345")
    c = client_for(fleet)
    pid = location_id(c.post("/projects", json={"project_name": "p1"}))
    location_id(c.post(f"/projects/{pid}/members", json={"role_id": 2, "member_user": {"username": "dev"}}))
    assert c.put(f"/projects/{pid}", json={"metadata": {"public": "true"}}).status_code == 200
    assert {e["resource_type"] for e in c.get("/auditlog-exts").json()} == {"project"}
    assert [e["operation"] for e in c.get("/auditlog-exts").json()] == ["create"]


def test_main_branch_records_member_and_project_update_events() -> None:
    """Source: src/pkg/auditext/model/model.go@main(c50c7dd, VERSION v2.16.0) EventTypes - unreleased."""
    inst = HarborInstance("2.16.0")
    inst.record("admin", "create", "member", "dev", project="library")
    inst.record("admin", "update", "project", "library", project="library")
    rows, _ = inst.audit_ext.query([], [], 0, 10)
    assert [(r["operation"], r["resource_type"]) for r in rows] == [
        ("update", "project"),
        ("create", "member"),
    ]


def test_ext_rows_follow_harbors_wording_and_disabled_types(api: Api, inst: HarborInstance) -> None:
    """Source: src/controller/event/topic.go@v2.13.0 PushArtifactEvent/DeleteArtifactEvent.ResolveToAuditLog
    (op_desc "push artifact: repo@digest"; delete resource always repo@digest);
    src/lib/config/userconfig.go@v2.13.0 AuditLogEventEnabled (trimmed, case-insensitive)."""
    c = api()
    location_id(c.post("/projects", json={"project_name": "p1"}))
    art = push_artifact(inst, "p1", "app", "v1", 100, who="admin")
    assert c.delete(f"/projects/p1/repositories/app/artifacts/{art.digest}").status_code == 200
    rows = c.get("/projects/p1/auditlog-exts").json()
    assert [(e["operation"], e["resource"], e["operation_description"]) for e in rows[:2]] == [
        ("delete", f"p1/app@{art.digest}", f"delete artifact: p1/app@{art.digest}"),
        ("create", "p1/app:v1", f"push artifact: p1/app@{art.digest}"),
    ]
    assert rows[-1]["operation_description"] == "create project: p1"
    inst.config["disabled_audit_log_event_types"] = " Create_Project ,pull_artifact"
    location_id(c.post("/projects", json={"project_name": "p2"}))
    assert c.get("/projects/p2/auditlog-exts").json() == []


@pytest.mark.parametrize(
    ("version", "with_payload"), [("2.13.0", True), ("2.13.5", False), ("2.14.2", True), ("2.14.3", False)]
)
def test_update_configuration_description_per_patch_release(version: str, with_payload: bool) -> None:
    """Source: src/pkg/auditext/event/config/config.go@v2.13.0 resolver.Resolve ("update configuration: "
    + raw payload) vs @v2.13.5 / @v2.14.3 / @v2.15.0 ("update configuration", cherry-pick 03aef5e6d6)."""
    fleet = Fleet.create(1, version)
    c = client_for(fleet)
    assert c.put("/configurations", json={"robot_token_duration": 10}).status_code == 200
    desc = c.get("/auditlog-exts").json()[0]["operation_description"]
    assert desc == ('update configuration: {"robot_token_duration":10}' if with_payload else "update configuration")


def test_event_types_are_the_versions_own_list_and_need_system_access(api: Api, inst: HarborInstance) -> None:
    """Source: src/server/v2.0/handler/auditlog.go@v2.13.0 ListAuditLogEventTypes (RequireSystemAccess list
    audit-log, then model.EventTypes); src/pkg/auditext/model/model.go@v2.13.0 EventTypes (same @v2.15.2)."""
    types = [e["event_type"] for e in api().get("/auditlog-exts/events").json()]
    assert types == [
        "create_artifact", "delete_artifact", "pull_artifact", "create_project", "delete_project",
        "delete_repository", "login_user", "logout_user", "create_user", "delete_user", "update_user",
        "create_robot", "delete_robot", "update_configuration",
    ]  # fmt: skip
    inst.add_user("dev", "Harbor12345")
    assert api(auth=("dev", "Harbor12345"), checked=False).get("/auditlog-exts/events").status_code == 403
    assert api(auth=None, checked=False).get("/auditlog-exts/events").status_code == 401
    perms = [{"kind": "system", "namespace": "/", "access": [{"resource": "audit-log", "action": "list"}]}]
    robot = api().post("/robots", json={"name": "auditor", "level": "system", "permissions": perms}).json()
    assert api(auth=(robot["name"], robot["secret"])).get("/auditlog-exts/events").status_code == 200


def test_a_project_robot_lists_no_audit_rows_without_system_access(api: Api, inst: HarborInstance) -> None:
    """Source: src/server/v2.0/handler/auditlog.go@v2.13.0 ListAuditLogExts (the project list is built only
    for a local.SecurityContext; any other caller without system access gets ProjectID in (-1))."""
    c = api()
    location_id(c.post("/projects", json={"project_name": "p1"}))
    perms = [{"kind": "project", "namespace": "p1", "access": [{"resource": "log", "action": "list"}]}]
    body = {"name": "ci", "level": "project", "duration": -1, "permissions": perms}
    robot = c.post("/robots", json=body).json()
    r = api(auth=(robot["name"], robot["secret"]))
    assert r.get("/auditlog-exts").json() == []
    assert r.get("/projects/p1/auditlog-exts").status_code == 200


# --- #10 part 3: purge semantics ----------------------------------------------------------------------------
OLD = "op_time=[~2024-12-31T23:00:00]"  # seeds end at 2025-01-01T00:00; purges below keep 1 hour


def _purge(c: httpx.Client, fleet: Fleet, params: dict[str, object]) -> str:
    pid = location_id(
        c.post("/system/purgeaudit/schedule", json={"schedule": {"type": "Manual"}, "parameters": params})
    )
    fleet.advance(600)
    return str(c.get(f"/system/purgeaudit/{pid}/log").text)


def test_2_13_purge_leaves_the_legacy_table_alone_for_event_types() -> None:
    """Source: src/jobservice/job/impl/purge/purge.go@v2.13.0 Job.Run (both managers get the same list);
    src/pkg/audit/dao/dao.go@v2.13.0 permitOps (only bare pull/create/delete survive);
    src/pkg/auditext/dao/dao.go@v2.13.0 permitEventTypes (kept as given, compared with
    lower(operation || '_' || resource_type); 'other' = EventTypes[3:])."""
    fleet = Fleet.create(1, "2.13.0")
    inst = fleet[1]
    inst.seed_audit(2000, history=True, step_seconds=600)
    inst.seed_audit(2000, step_seconds=60)
    c = client_for(fleet)
    legacy = len(inst.audit_legacy)
    log = _purge(c, fleet, {"audit_retention_hour": 1, "include_event_types": "create_artifact,pull_artifact"})
    assert len(inst.audit_legacy) == legacy  # history untouched by event types
    assert "Purged 0 rows of audit logs" in log and "rows of audit log exts" in log
    left = {
        e["operation"]
        for e in c.get("/auditlog-exts", params={"q": f"resource_type=artifact,{OLD}", "page_size": 100}).json()
    }
    assert left == {"delete"}
    # A mixed-case event type passes the check but matches nothing in SQL.
    before = len(inst.audit_ext)
    _purge(c, fleet, {"audit_retention_hour": 1, "include_event_types": "Delete_Artifact"})
    assert len(inst.audit_ext) == before
    # "other" is every event type after the first three (not the artifact ones).
    _purge(c, fleet, {"audit_retention_hour": 1, "include_event_types": "other"})
    old = c.get("/auditlog-exts", params={"q": OLD, "page_size": 100}).json()
    kinds = {(e["operation"], e["resource_type"]) for e in old}
    assert kinds == {("delete", "artifact")}
    # A bare operation still reaches the legacy table on 2.13.
    _purge(c, fleet, {"audit_retention_hour": 1, "include_event_types": "pull"})
    assert 0 < len(inst.audit_legacy) < legacy
    assert c.get("/audit-logs", params={"q": f"operation=pull,{OLD}"}).headers["X-Total-Count"] == "0"


def test_pre_2_13_purge_matches_operations_and_dry_run_counts() -> None:
    """Source: src/pkg/audit/dao/dao.go@v2.12.0 Purge/dryRunPurge (lower(operation) IN permitOps);
    src/server/v2.0/handler/purge.go@v2.12.0 verifyCreateRequest (include_operations must be present)."""
    fleet = Fleet.create(1, "2.12.0")
    inst = fleet[1]
    inst.seed_audit(3000, step_seconds=10)
    c = client_for(fleet)
    total = len(inst.audit_legacy)
    log = _purge(c, fleet, {"audit_retention_hour": 1, "include_operations": "pull", "dry_run": True})
    assert "[DRYRUN]Purged" in log and len(inst.audit_legacy) == total
    _purge(c, fleet, {"audit_retention_hour": 1, "include_operations": "create_artifact"})  # not an operation
    assert len(inst.audit_legacy) == total
    _purge(c, fleet, {"audit_retention_hour": 1, "include_operations": "PULL"})
    pulls = c.get("/audit-logs", params={"q": "operation=pull"}).json()
    assert pulls and all(e["op_time"] >= "2024-12-31T23:00:00" for e in pulls)
    bad = client_for(fleet, checked=False).post(
        "/system/purgeaudit/schedule",
        json={"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 1, "include_event_types": "x"}},
    )
    assert bad.status_code == 400 and "include_operations should provide" in bad.text


# --- #10 part 5: query keys -----------------------------------------------------------------------------------
def test_audit_ext_query_keys_are_the_models_columns_and_field_names(api: Api, inst: HarborInstance) -> None:
    """Source: src/pkg/auditext/model/model.go@v2.13.0 AuditLogExt (columns op_desc, op_result, project_id);
    src/lib/orm/metadata.go@v2.13.0 parseModel (field names and columns are keys);
    src/lib/orm/query.go@v2.13.0 setFilters (unknown keys skipped, snake-case fallback) and setSorts."""
    c = api()
    location_id(c.post("/projects", json={"project_name": "p1"}))
    pid = location_id(c.post("/projects", json={"project_name": "p2"}))
    push_artifact(inst, "p1", "app", "v1", 10, who="admin")

    def count(q: str) -> int:
        return int(c.get("/auditlog-exts", params={"q": q}).headers["X-Total-Count"])

    assert count("op_desc=~push artifact") == 1
    assert count("OperationDescription=~push artifact") == 1
    assert count("operation_description=~push artifact") == 3  # not a key: ignored, everything listed
    assert count("op_result=false") == 0 and count("op_result=true") == 3
    assert count("operation_result=false") == 3  # ignored
    assert count(f"project_id={pid}") == 1 and count(f"ProjectID={pid}") == 1 and count(f"projectId={pid}") == 1
    names = [e["resource"] for e in c.get("/auditlog-exts", params={"sort": "Resource"}).json()]
    assert names == sorted(names)
    default = [e["id"] for e in c.get("/auditlog-exts", params={"sort": "creation_time"}).json()]
    assert default == sorted(default, reverse=True)  # unknown sort key: the model default, op_time desc


def test_a_non_admins_project_id_key_is_overwritten_by_the_scope(api: Api, inst: HarborInstance) -> None:
    """Source: src/server/v2.0/handler/auditlog.go@v2.13.0 ListAuditLogExts (query.Keywords["ProjectID"] = ol)."""
    inst.add_user("dev", "Harbor12345")
    c = api()
    mine = location_id(c.post("/projects", json={"project_name": "mine"}))
    theirs = location_id(c.post("/projects", json={"project_name": "theirs"}))
    location_id(c.post(f"/projects/{mine}/members", json={"role_id": 1, "member_user": {"username": "dev"}}))
    dev = api(auth=("dev", "Harbor12345"))
    assert [e["resource"] for e in dev.get("/auditlog-exts", params={"q": f"ProjectID={theirs}"}).json()] == ["mine"]
    assert dev.get("/auditlog-exts", params={"q": f"project_id={theirs}"}).json() == []


def test_purge_history_keys_are_execution_columns(api: Api, fleet: Fleet) -> None:
    """Source: src/pkg/task/dao/model.go@v2.13.0 Execution (status, trigger, start_time sort:"default:desc";
    no creation_time, no job_status); src/server/v2.0/handler/purge.go@v2.13.0 ListPurgeHistory (BuildQuery
    with q and sort, then the execution manager)."""
    c = api()
    params = {"audit_retention_hour": 1, "include_event_types": "create_artifact"}
    first = location_id(
        c.post("/system/purgeaudit/schedule", json={"schedule": {"type": "Manual"}, "parameters": params})
    )
    fleet.advance(600)
    second = location_id(
        c.post("/system/purgeaudit/schedule", json={"schedule": {"type": "Manual"}, "parameters": params})
    )

    def ids(**query: str) -> list[int]:
        return [h["id"] for h in c.get("/system/purgeaudit", params=query).json()]

    assert ids(q="status=Success") == [first]
    assert ids(q="Status=Running") == [second]
    assert ids(q="job_status=Success") == [second, first]  # the JSON name is no key: ignored
    assert ids(q="trigger=MANUAL") == [second, first]
    assert ids(sort="start_time") == [first, second]
    assert ids(sort="creation_time") == [second, first]  # ignored: the default start_time desc
