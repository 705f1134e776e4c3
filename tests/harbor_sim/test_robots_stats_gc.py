"""Robots, statistics, GC schedules and jobservice queue names as Harbor's source has them (#10 parts 4, 6, 7)."""

from __future__ import annotations

import httpx
import pytest

from harborops.harbor_sim import Fleet, HarborInstance, push_artifact
from tests.harbor_sim.conftest import ADMIN, Api, client_for, location_id

SYS_PERMS = [{"kind": "system", "namespace": "/", "access": [{"resource": "project", "action": "list"}]}]


def _project_perms(project: str) -> list[dict[str, object]]:
    return [{"kind": "project", "namespace": project, "access": [{"resource": "repository", "action": "pull"}]}]


def _can_log_in(c: httpx.Client) -> bool:
    return c.get("/statistics").status_code == 200  # authenticated only


# --- robots (part 4) ----------------------------------------------------------------------------------------
def test_robot_create_ignores_a_given_secret_and_disable(api: Api) -> None:
    """Source: src/server/v2.0/handler/robot.go@v2.13.0 CreateRobot (copies name, description, duration only);
    src/controller/robot/controller.go@v2.13.0 Create (secret from CreateSec) -- same at v2.3.0 and v2.15.2."""
    c = api()
    given = "MyOwnSecret123"
    body = {"name": "ci", "level": "system", "duration": -1, "secret": given, "disable": True, "permissions": SYS_PERMS}
    created = c.post("/robots", json=body).json()
    assert created["secret"] != given
    robot = c.get(f"/robots/{created['id']}").json()
    assert robot["disable"] is False
    assert not _can_log_in(api(auth=(created["name"], given), checked=False))
    assert _can_log_in(api(auth=(created["name"], created["secret"])))


def test_robot_refresh_with_a_given_secret_answers_an_empty_secret(api: Api) -> None:
    """Source: src/server/v2.0/handler/robot.go@v2.13.0 RefreshSec (robotSec.Secret = "" for a given secret)."""
    c = api()
    created = c.post("/robots", json={"name": "ci", "level": "system", "permissions": SYS_PERMS}).json()
    given = "Chosen1Secret"
    assert c.patch(f"/robots/{created['id']}", json={"secret": given}).json() == {"secret": ""}
    assert _can_log_in(api(auth=(created["name"], given)))
    generated = c.patch(f"/robots/{created['id']}", json={"secret": ""}).json()["secret"]
    assert generated and generated != given
    assert api(checked=False).patch(f"/robots/{created['id']}", json={"secret": "weak"}).status_code == 400


@pytest.mark.parametrize(("version", "level_filters"), [("2.12.4", False), ("2.13.0", True)])
def test_robot_list_level_system_filters_only_from_2_13(version: str, level_filters: bool) -> None:
    """Source: src/server/v2.0/handler/robot.go@v2.12.4 ListRobot (ProjectID=0 only without Level) and
    @v2.13.0 ListRobot (Level=system sets ProjectID=0; commit e9a8c05508 "fix 21118")."""
    fleet = Fleet.create(1, version)
    c = client_for(fleet, auth=ADMIN)
    c.post("/projects", json={"project_name": "p1"})
    c.post("/robots", json={"name": "sys", "level": "system", "permissions": SYS_PERMS})
    c.post("/robots", json={"name": "proj", "level": "project", "permissions": _project_perms("p1")})
    levels = sorted(r["level"] for r in c.get("/robots", params={"q": "Level=system"}).json())
    assert levels == (["system"] if level_filters else ["project", "system"])
    assert [r["level"] for r in c.get("/robots").json()] == ["system"]  # no q: system robots on every version
    raw = client_for(fleet, auth=ADMIN, checked=False)
    assert raw.get("/robots", params={"q": "Level=galaxy"}).status_code == 400


# --- statistics (part 6) ----------------------------------------------------------------------------------
def test_statistics_a_robot_sees_no_private_project(api: Api) -> None:
    """Source: src/server/v2.0/handler/statistic.go@v2.13.0 GetStatistic (private projects only for a
    local.SecurityContext; robot IsSysAdmin is false) -- unchanged v2.3.0..v2.15.2."""
    c = api()
    c.post("/projects", json={"project_name": "secret1"})
    c.post("/projects", json={"project_name": "secret2"})
    body = {"username": "erin", "email": "erin@example.com", "realname": "Erin", "password": "Secret123"}
    location_id(c.post("/users", json=body))
    c.post("/projects/secret1/members", json={"role_id": 2, "member_user": {"username": "erin"}})
    perms = [
        {"kind": "project", "namespace": "*", "access": [{"resource": "repository", "action": "pull"}]},
    ]
    created = c.post("/robots", json={"name": "reader", "level": "system", "permissions": perms}).json()
    robot = api(auth=(created["name"], created["secret"])).get("/statistics").json()
    assert robot["private_project_count"] == 0 and robot["public_project_count"] == 1  # library
    assert robot["total_project_count"] == 0 and robot["total_storage_consumption"] == 0
    erin = api(auth=("erin", "Secret123")).get("/statistics").json()
    assert erin["private_project_count"] == 1 and erin["public_project_count"] == 1
    admin = c.get("/statistics").json()
    assert admin["total_project_count"] == 3 and admin["private_project_count"] == 2


def test_statistics_storage_drops_only_after_gc(api: Api, inst: HarborInstance, fleet: Fleet) -> None:
    """Source: src/server/v2.0/handler/statistic.go@v2.13.0 GetStatistic (blobCtl.CalculateTotalSize sums the
    blob table; deleting an artifact leaves its blobs until GC: src/jobservice/job/impl/gc/garbage_collection.go
    @v2.13.0 sweep)."""
    c = api()
    push_artifact(inst, "library", "app", "v1", 4_000_000)
    push_artifact(inst, "library", "app", "v2", 6_000_000)
    assert c.get("/statistics").json()["total_storage_consumption"] == 10_000_000
    assert api(checked=False).delete("/projects/library/repositories/app/artifacts/v1").status_code == 200
    assert c.get("/statistics").json()["total_storage_consumption"] == 10_000_000
    dry = {"schedule": {"type": "Manual"}, "parameters": {"dry_run": True, "workers": 1}}
    location_id(c.post("/system/gc/schedule", json=dry))
    fleet.advance(120)
    assert c.get("/statistics").json()["total_storage_consumption"] == 10_000_000
    real = {"schedule": {"type": "Manual"}, "parameters": {"workers": 1}}
    location_id(c.post("/system/gc/schedule", json=real))
    assert c.get("/statistics").json()["total_storage_consumption"] == 10_000_000  # GC still running
    fleet.advance(120)
    assert c.get("/statistics").json()["total_storage_consumption"] == 6_000_000


# --- GC schedules and history (part 7) ------------------------------------------------------------------
def test_gc_post_of_a_periodic_schedule_replaces_the_existing_one(api: Api) -> None:
    """Source: src/server/v2.0/handler/gc.go@v2.13.0 kick/updateSchedule (DeleteSchedule, then CreateSchedule;
    same at v2.3.0); model/gc.go GCSchedule.ToSwagger (schedule id, empty job_name)."""
    c = api()
    weekly = {"schedule": {"type": "Weekly", "cron": "0 0 0 * * 0"}, "parameters": {"delete_untagged": True}}
    assert c.post("/system/gc/schedule", json=weekly).status_code == 201
    first = c.get("/system/gc/schedule").json()
    daily = {"schedule": {"type": "Daily", "cron": "0 0 0 * * *"}, "parameters": {}}
    assert c.post("/system/gc/schedule", json=daily).status_code == 201
    second = c.get("/system/gc/schedule").json()
    assert second["schedule"] == {**second["schedule"], "type": "Daily", "cron": "0 0 0 * * *"}
    assert second["id"] != first["id"] and second["job_name"] == ""
    assert [s["cron"] for s in c.get("/schedules").json()] == ["0 0 0 * * *"]


def test_gc_history_schedule_type_is_manual_or_schedule(api: Api, inst: HarborInstance, fleet: Fleet) -> None:
    """Source: src/server/v2.0/handler/model/gc.go@v2.13.0 GCHistory.ToSwagger (Title(lower(trigger)));
    src/pkg/task/model.go@v2.13.0 ExecutionTriggerManual/ExecutionTriggerSchedule -- same at v2.3.0."""
    c = api()
    manual = location_id(c.post("/system/gc/schedule", json={"schedule": {"type": "Manual"}, "parameters": {}}))
    c.post("/system/gc/schedule", json={"schedule": {"type": "Custom", "cron": "0 0 3 * * *"}, "parameters": {}})
    scheduled = inst.jobs.fire_schedule("gc").id
    fleet.advance(120)
    rows = {r["id"]: r for r in c.get("/system/gc").json()}
    assert (rows[manual]["schedule"]["type"], rows[manual]["job_kind"]) == ("Manual", "MANUAL")
    assert (rows[scheduled]["schedule"]["type"], rows[scheduled]["job_kind"]) == ("Schedule", "SCHEDULE")
    assert {r["job_name"] for r in rows.values()} == {"GARBAGE_COLLECTION"}


# --- jobservice queue names (part 7) ----------------------------------------------------------------------
BASE = {
    "GARBAGE_COLLECTION",
    "IMAGE_SCAN",
    "P2P_PREHEAT",
    "REPLICATION",
    "RETENTION",
    "SCAN_DATA_EXPORT",
    "SCHEDULER",
    "SLACK",
    "SYSTEM_ARTIFACT_CLEANUP",
    "WEBHOOK",
}


@pytest.mark.parametrize(
    ("version", "extra"),
    [
        ("2.7.0", {"PURGE_AUDIT"}),
        ("2.8.0", {"PURGE_AUDIT_LOG", "EXECUTION_SWEEP"}),
        ("2.9.0", {"PURGE_AUDIT_LOG", "EXECUTION_SWEEP"}),
        ("2.10.0", {"PURGE_AUDIT_LOG", "EXECUTION_SWEEP", "AUDIT_LOGS_GDPR_COMPLIANT"}),
        ("2.13.0", {"PURGE_AUDIT_LOG", "EXECUTION_SWEEP", "AUDIT_LOGS_GDPR_COMPLIANT"}),
        ("2.15.0", {"PURGE_AUDIT_LOG", "EXECUTION_SWEEP", "AUDIT_LOGS_GDPR_COMPLIANT"}),
    ],
)
def test_jobservice_queue_names_per_version(version: str, extra: set[str]) -> None:
    """Source: src/jobservice/runtime/bootstrap.go@v2.7.0/@v2.8.0/@v2.10.0/@v2.13.0 RegisterJobs;
    src/jobservice/job/known_jobs.go@v2.7.0 PurgeAudit, @v2.8.0 PurgeAuditVendorType;
    src/controller/jobmonitor/monitor.go@v2.8.0 skippedJobTypes. SCAN_ALL and SBOM are execution vendor
    types, never registered as jobs, so no queue carries those names."""
    fleet = Fleet.create(1, version)
    c = client_for(fleet, auth=ADMIN)
    names = [q["job_type"] for q in c.get("/jobservice/queues").json()]
    assert set(names) == BASE | extra and names == sorted(names)
    assert not {"SCAN_ALL", "SBOM", "DEMO", "IMAGE_GC"} & set(names)
    purge = next(iter(extra & {"PURGE_AUDIT", "PURGE_AUDIT_LOG"}))
    assert c.put(f"/jobservice/queues/{purge}", json={"action": "pause"}).status_code == 200
    body = {"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 24, "include_operations": "pull"}}
    if tuple(int(x) for x in version.split(".")) >= (2, 13, 0):
        body["parameters"] = {"audit_retention_hour": 24, "include_event_types": "pull_artifact"}
    run = location_id(c.post("/system/purgeaudit/schedule", json=body))
    queued = {q["job_type"]: q for q in c.get("/jobservice/queues").json()}[purge]
    assert queued["paused"] and queued["count"] == 1
    assert c.get(f"/system/purgeaudit/{run}").json()["job_name"] == "PURGE_AUDIT_LOG"  # vendor type, all versions
