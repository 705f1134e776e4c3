"""One test per row of api-notes "Version differences" that applies to 2.3+."""

from __future__ import annotations

import json

import pytest

from harborops.harbor_sim import Fleet, HarborInstance, push_artifact
from tests.harbor_sim.conftest import client_for, location_id


def one(version: str, **options: object) -> tuple[HarborInstance, Fleet]:
    fleet = Fleet.create(1, version, **options)  # type: ignore[arg-type]
    return fleet[1], fleet


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.3.0", {"chartmuseum", "notary", "trivy"}),
        ("2.7.0", {"chartmuseum", "notary", "trivy"}),
        ("2.8.0", {"notary", "trivy"}),
        ("2.9.0", {"trivy"}),
        ("2.15.0", {"trivy"}),
    ],
)
def test_health_components_per_version(version: str, expected: set[str]) -> None:
    inst, fleet = one(version, with_chartmuseum=True, with_notary=True)
    inst.unhealthy["redis"] = "dial tcp: connection refused"
    r = client_for(fleet).get("/health")
    assert r.status_code == 200  # always 200: judge by the body
    body = r.json()
    names = [c["name"] for c in body["components"]]
    assert names == sorted(names)
    assert set(names) == {"core", "database", "jobservice", "portal", "redis", "registry", "registryctl"} | expected
    assert body["status"] == "unhealthy"
    assert next(c for c in body["components"] if c["name"] == "redis")["error"] == "dial tcp: connection refused"


@pytest.mark.parametrize(("version", "present"), [("2.12.0", False), ("2.13.0", True), ("2.15.0", True)])
def test_auditlog_exts_exist_from_2_13(version: str, present: bool) -> None:
    _, fleet = one(version)
    c = client_for(fleet, checked=present)
    assert (c.get("/auditlog-exts").status_code == 200) is present
    assert (c.get("/auditlog-exts/events").status_code == 200) is present
    assert c.get("/audit-logs").status_code == 200


def test_audit_logs_freeze_at_the_2_13_upgrade() -> None:
    inst, fleet = one("2.12.0")
    c = client_for(fleet)
    location_id(c.post("/projects", json={"project_name": "before"}))
    assert c.get("/audit-logs").headers["X-Total-Count"] == "1"
    inst.upgrade("2.13.0")
    location_id(c.post("/projects", json={"project_name": "after"}))
    assert [e["resource"] for e in c.get("/audit-logs").json()] == ["before"]
    assert [e["resource"] for e in c.get("/auditlog-exts").json()] == ["after"]


@pytest.mark.parametrize(
    ("version", "key"),
    [("2.6.0", "include_operations"), ("2.12.0", "include_operations"), ("2.13.0", "include_event_types")],
)
def test_purge_parameter_renamed_at_2_13(version: str, key: str) -> None:
    _, fleet = one(version)
    c = client_for(fleet)
    other = "include_event_types" if key == "include_operations" else "include_operations"
    bad = {"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 24, other: "create", "dry_run": True}}
    assert c.post("/system/purgeaudit/schedule", json=bad).status_code == 400
    good = {"schedule": {"type": "Manual"}, "parameters": {"audit_retention_hour": 24, key: "create", "dry_run": True}}
    pid = location_id(c.post("/system/purgeaudit/schedule", json=good))
    assert key in json.loads(c.get(f"/system/purgeaudit/{pid}").json()["job_parameters"])


@pytest.mark.parametrize(("version", "present"), [("2.3.0", False), ("2.5.0", False), ("2.6.0", True)])
def test_purgeaudit_and_audit_forwarding_config_from_2_6(version: str, present: bool) -> None:
    _, fleet = one(version)
    c = client_for(fleet, checked=present)
    assert (c.get("/system/purgeaudit").status_code == 200) is present
    assert ("audit_log_forward_endpoint" in c.get("/configurations").json()) is present


def test_disabled_audit_log_event_types_from_2_13() -> None:
    for version, present in (("2.12.0", False), ("2.13.0", True)):
        _, fleet = one(version)
        assert ("disabled_audit_log_event_types" in client_for(fleet).get("/configurations").json()) is present
    _, fleet = one("2.13.0")
    c = client_for(fleet)
    assert c.put("/configurations", json={"disabled_audit_log_event_types": "create_project"}).status_code == 200
    location_id(c.post("/projects", json={"project_name": "quiet"}))
    assert all(e["resource"] != "quiet" for e in c.get("/auditlog-exts").json())


@pytest.mark.parametrize(
    ("version", "stop", "workers", "delete_tag", "redis"),
    [
        ("2.3.0", False, False, False, True),
        ("2.6.0", True, False, False, True),
        ("2.9.0", True, True, False, True),
        ("2.15.0", True, True, True, True),
        ("2.15.1", True, True, True, False),
    ],
)
def test_gc_features_per_version(version: str, stop: bool, workers: bool, delete_tag: bool, redis: bool) -> None:
    inst, fleet = one(version)
    c = client_for(fleet, checked=stop)  # without the stop op, the PUT below must 404 (not in that spec)
    push_artifact(inst, "library", "app", "v1", 5000)
    assert c.delete("/projects/library/repositories/app/artifacts/v1").status_code == 200
    body = {"schedule": {"type": "Manual"}, "parameters": {"delete_untagged": True, "workers": 3, "delete_tag": True}}
    gc = location_id(c.post("/system/gc/schedule", json=body))
    assert (c.put(f"/system/gc/{gc}").status_code == 200) is stop
    gc = location_id(c.post("/system/gc/schedule", json=body))
    fleet.advance(3600)
    params = json.loads(c.get(f"/system/gc/{gc}").json()["job_parameters"])
    assert ("workers" in params) is workers and ("freed_space" in params) is workers
    assert ("delete_tag" in params) is delete_tag
    assert ("redis_url_reg" in params) is redis
    sched = {"schedule": {"type": "Daily", "cron": "0 0 0 * * *"}, "parameters": {}}
    assert c.put("/system/gc/schedule", json=sched).status_code == 200
    assert ("next_scheduled_time" in c.get("/system/gc/schedule").json()["schedule"]) is stop


@pytest.mark.parametrize(("version", "present"), [("2.6.0", False), ("2.7.0", True), ("2.13.0", True)])
def test_jobservice_dashboard_and_schedules_from_2_7(version: str, present: bool) -> None:
    _, fleet = one(version)
    c = client_for(fleet, checked=present)
    for path in ("/jobservice/pools", "/jobservice/queues", "/schedules"):
        assert (c.get(path).status_code == 200) is present


@pytest.mark.parametrize(
    ("version", "fields"),
    [
        ("2.3.0", set()),
        ("2.4.0", {"speed"}),
        ("2.7.0", {"speed", "copy_by_chunk"}),
        ("2.14.0", {"speed", "copy_by_chunk", "single_active_replication"}),
    ],
)
def test_replication_policy_fields_per_version(version: str, fields: set[str]) -> None:
    _, fleet = one(version)
    c = client_for(fleet)
    reg = location_id(
        c.post("/registries", json={"name": "r", "url": "https://peer.sim", "type": "harbor", "ca_certificate": "PEM"})
    )
    pol = location_id(c.post("/replication/policies", json={"name": "p", "dest_registry": {"id": reg}}))
    got = set(c.get(f"/replication/policies/{pol}").json())
    assert got & {"speed", "copy_by_chunk", "single_active_replication"} == fields
    assert "replicate_deletion" in got and "dest_namespace_replace_count" in got
    assert "ca_certificate" not in c.get(f"/registries/{reg}").json()  # only from 2.15


def test_registry_ca_certificate_from_2_15() -> None:
    _, fleet = one("2.15.0")
    c = client_for(fleet)
    reg = location_id(
        c.post("/registries", json={"name": "r", "url": "https://peer.sim", "type": "harbor", "ca_certificate": "PEM"})
    )
    assert c.get(f"/registries/{reg}").json()["ca_certificate"] == "PEM"


@pytest.mark.parametrize(
    ("version", "project_robots", "permissions", "creator"),
    [
        ("2.3.0", True, False, False),
        ("2.10.0", True, True, False),
        ("2.12.0", True, True, True),
        ("2.13.0", False, True, True),
    ],
)
def test_robot_api_per_version(version: str, project_robots: bool, permissions: bool, creator: bool) -> None:
    _, fleet = one(version)
    c = client_for(fleet, checked=False)
    assert (c.get("/projects/library/robots").status_code == 200) is project_robots
    assert (c.get("/permissions").status_code == 200) is permissions
    r = c.post(
        "/robots",
        json={
            "name": "ci",
            "level": "system",
            "duration": -1,
            "permissions": [
                {"kind": "system", "namespace": "/", "access": [{"resource": "audit-log", "action": "list"}]}
            ],
        },
    )
    robot = c.get(f"/robots/{r.json()['id']}").json()
    assert ("creator_type" in robot) is creator


@pytest.mark.parametrize(
    ("version", "paged", "search", "name_filter"),
    [("2.3.0", False, False, False), ("2.4.0", True, True, False), ("2.6.0", True, True, True)],
)
def test_usergroups_paging_filter_and_search(version: str, paged: bool, search: bool, name_filter: bool) -> None:
    _, fleet = one(version)
    c = client_for(fleet, checked=False)
    for i in range(12):
        location_id(c.post("/usergroups", json={"group_name": f"g{i}", "group_type": 2}))
    r = c.get("/usergroups")
    assert len(r.json()) == (10 if paged else 12)
    assert ("X-Total-Count" in r.headers) is paged
    assert (c.get("/usergroups/search", params={"groupname": "g1"}).status_code == 200) is search
    assert (len(c.get("/usergroups", params={"group_name": "g11"}).json()) == 1) is name_filter


@pytest.mark.parametrize(
    ("version", "present", "absent"),
    [
        ("2.3.0", {"with_chartmuseum", "with_notary"}, {"primary_auth_mode", "banner_message", "current_time"}),
        ("2.5.0", {"current_time", "with_notary"}, {"primary_auth_mode"}),
        ("2.8.0", {"primary_auth_mode", "with_notary"}, {"with_chartmuseum", "banner_message"}),
        ("2.9.0", {"banner_message"}, {"with_notary", "with_chartmuseum"}),
    ],
)
def test_systeminfo_fields_per_version(version: str, present: set[str], absent: set[str]) -> None:
    _, fleet = one(version)
    info = client_for(fleet).get("/systeminfo").json()
    assert present <= set(info) and not absent & set(info)
    assert info["harbor_version"].startswith(f"v{version}-")


@pytest.mark.parametrize(
    ("version", "present", "absent"),
    [
        ("2.6.0", {"email_host"}, {"session_timeout"}),
        ("2.7.0", {"session_timeout", "oidc_group_filter"}, {"email_host", "scanner_skip_update_pulltime"}),
        ("2.8.0", {"scanner_skip_update_pulltime"}, {"ldap_group_attach_parallel"}),
        ("2.12.0", {"ldap_group_attach_parallel"}, {"oidc_logout"}),
    ],
)
def test_configuration_keys_per_version(version: str, present: set[str], absent: set[str]) -> None:
    _, fleet = one(version)
    cfg = client_for(fleet).get("/configurations").json()
    assert present <= set(cfg) and not absent & set(cfg)


@pytest.mark.parametrize(("version", "present"), [("2.11.0", False), ("2.12.0", True)])
def test_project_artifacts_from_2_12(version: str, present: bool) -> None:
    inst, fleet = one(version)
    push_artifact(inst, "library", "app", "v1", 10)
    c = client_for(fleet, checked=present)
    assert (c.get("/projects/library/artifacts").status_code == 200) is present


def test_project_chart_count_until_2_7() -> None:
    for version, present in (("2.7.0", True), ("2.8.0", False)):
        _, fleet = one(version)
        assert ("chart_count" in client_for(fleet).get("/projects/1").json()) is present


def test_versions_outside_2_3_are_refused() -> None:
    with pytest.raises(ValueError, match=r"v2\.3 and newer"):
        HarborInstance("2.2.0")
