"""Audit logs: events from mutations, q/sort/paging, a million seeded rows in bounded memory, purge."""

from __future__ import annotations

import gc
import tracemalloc

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
    assert {e["resource"] for e in dev.get("/auditlog-exts").json()} == {"mine", "dev"}


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
