"""The ten scenarios of shared/harbor/harbor-test-scenarios.md, client against simulator,
every exchange checked against the version's spec (contract gate in conftest.py)."""

from __future__ import annotations

import re

import pytest

from harborops.harbor import errors as e
from harborops.harbor_sim import push_artifact
from tests.harbor.sim import client, sim

GC_LOG = re.compile(r"\s+(\d+)\s+blobs\s+and\s+\d+\s+manifests\s+eligible\s+for\s+deletion")


def test_1_health_probe_judges_the_body() -> None:
    inst, fleet = sim("2.13.0")
    h = client(fleet)
    health = h.health()
    assert health.healthy and {c.name for c in health.components} >= {"core", "database", "redis"}
    inst.unhealthy["redis"] = "failed to check the health status: timeout"
    health = h.health()
    assert not health.healthy
    assert next(c for c in health.components if c.name == "redis").error


def test_2_manual_gc_wait_result_and_log() -> None:
    inst, fleet = sim("2.13.0")
    push_artifact(inst, "library", "app", None, 10_000)
    h = client(fleet)
    gc_id = h.run_gc(delete_untagged=False, workers=1)
    assert h.get_gc(gc_id).job_status == "Running"
    fleet.advance(120)
    run = h.get_gc(gc_id)
    assert run.job_status == "Success"
    log = h.gc_log(gc_id)
    match = GC_LOG.search(log)
    assert match and "workers: 1" in log
    newest = h.list_gc_history(limit=1)[0]
    assert (newest.job_kind, newest.job_name) == ("MANUAL", "GARBAGE_COLLECTION")
    assert {"delete_untagged", "dry_run", "freed_space", "purged_blobs", "purged_manifests", "workers"} <= set(
        newest.job_parameters
    )
    assert "redis_url_reg" not in newest.job_parameters
    gc2 = h.run_gc(delete_untagged=True, workers=2)
    fleet.advance(120)
    assert "workers: 2" in h.gc_log(gc2)


def test_3_gc_and_purge_with_a_least_privilege_system_robot() -> None:
    _, fleet = sim("2.13.0")
    admin = client(fleet)
    access = [{"resource": "garbage-collection", "action": a} for a in ("create", "list", "read", "stop", "update")]
    access += [{"resource": "purge-audit", "action": a} for a in ("create", "list", "read", "stop", "update")]
    robot = admin.create_robot("ops", [{"kind": "system", "namespace": "/", "access": access}])
    r = client(fleet, (robot.name, robot.secret.get_secret_value()))
    gc_id = r.run_gc(delete_untagged=True, workers=1, dry_run=True)
    assert r.list_gc_history() and r.get_gc(gc_id).id == gc_id
    r.stop_gc(gc_id)
    with pytest.raises(e.NotFound):
        r.gc_log(88888888)
    r.set_gc_schedule("Weekly", "0 0 0 * * 0", delete_untagged=True)
    sched = r.get_gc_schedule()
    assert sched is not None and sched.schedule is not None and sched.schedule.cron == "0 0 0 * * 0"
    r.set_gc_schedule("Daily", "0 0 0 * * *")  # a second POST replaces the schedule
    replaced = r.get_gc_schedule()
    assert replaced is not None and replaced.schedule is not None and replaced.schedule.cron == "0 0 0 * * *"
    purge_id = r.run_purge_audit(retention_hours=24, dry_run=True)
    r.stop_purge(purge_id)
    with pytest.raises(e.Forbidden):
        r.list_job_queues()  # no jobservice-monitor permission


def test_4_jobservice_queues_pause_resume_stop() -> None:
    _, fleet = sim("2.13.0")
    h = client(fleet)
    types = {q.job_type for q in h.list_job_queues()}
    assert {"GARBAGE_COLLECTION", "PURGE_AUDIT_LOG", "REPLICATION", "AUDIT_LOGS_GDPR_COMPLIANT"} <= types
    h.job_queue_action("GARBAGE_COLLECTION", "pause")
    h.run_gc()
    gc_queue = next(q for q in h.list_job_queues() if q.job_type == "GARBAGE_COLLECTION")
    assert gc_queue.paused and gc_queue.count >= 1
    h.job_queue_action("GARBAGE_COLLECTION", "resume")
    h.job_queue_action("all", "stop")
    h.job_queue_action("all", "resume")
    assert not any(q.paused for q in h.list_job_queues())


REGISTRY = {
    "name": "peer",
    "url": "https://peer.example",
    "type": "harbor",
    "insecure": True,
    "credential": {"type": "basic", "access_key": "admin", "access_secret": "Harbor12345"},
}


def test_5_registry_and_replication_policy_crud() -> None:
    _, fleet = sim("2.13.0")
    h = client(fleet)
    reg_id = h.create_registry(REGISTRY)
    assert h.ping_registry(registry_id=reg_id) in (True, False)
    policy = {
        "name": "to-peer",
        "dest_registry": {"id": reg_id},
        "dest_namespace": "",
        "filters": [{"type": "name", "value": "library/**"}],
        "trigger": {"type": "manual", "trigger_settings": {"cron": ""}},
        "replicate_deletion": False,
        "override": True,
        "enabled": True,
        "speed": -1,
    }
    pid = h.create_replication_policy(policy)
    assert h.get_replication_policy(pid).name == "to-peer"
    assert [p.name for p in h.list_replication_policies()] == ["to-peer"]
    h.update_replication_policy(pid, {**policy, "description": "changed"})
    assert h.get_replication_policy(pid).description == "changed"
    h.delete_replication_policy(pid)
    h.delete_registry(reg_id)
    assert h.list_registries() == []


def test_6_run_replication_and_wait_for_success() -> None:
    inst, fleet = sim("2.13.0")
    push_artifact(inst, "library", "nginx", "1.0", 1000)
    h = client(fleet)
    reg_id = h.create_registry(REGISTRY)
    pid = h.create_replication_policy(
        {
            "name": "push",
            "dest_registry": {"id": reg_id},
            "dest_namespace": "",
            "trigger": {"type": "manual"},
            "enabled": True,
            "override": True,
        }
    )
    exec_id = h.start_replication(pid)
    fleet.advance(600)
    runs = h.list_replication_executions(policy_id=pid)
    assert [x.status for x in runs if x.id == exec_id] == ["Succeed"]
    for task in h.list_replication_tasks(exec_id):
        assert task.status == "Succeed"
        assert isinstance(h.replication_task_log(exec_id, task.id), str)
    second = h.start_replication(pid)
    h.stop_replication(second)
    assert h.get_replication_execution(second).status == "Stopped"


def test_7_audit_forwarding_settings_and_ext_log() -> None:
    inst, fleet = sim("2.13.0")
    h = client(fleet)
    with pytest.raises(e.ValidationFailed):
        h.update_configurations({"skip_audit_log_database": True})
    h.update_configurations({"audit_log_forward_endpoint": "syslog.example:514"})
    config = h.get_configurations()
    assert config["audit_log_forward_endpoint"].value == "syslog.example:514"
    assert config["skip_audit_log_database"].value is False
    push_artifact(inst, "library", "tomcat", "latest", 100, who="admin")
    newest = h.list_audit_logs("auditlog-exts")[-1]
    assert (newest.operation, newest.resource, newest.resource_type, newest.username) == (
        "create",
        "library/tomcat:latest",
        "artifact",
        "admin",
    )


def test_8_project_audit_log_query_and_visibility() -> None:
    inst, fleet = sim("2.13.0")
    inst.add_user("alice", "Alice12345")
    alice = client(fleet, ("alice", "Alice12345"))
    alice.create_project("alice-proj")
    logs = alice.list_audit_logs("auditlog-exts", project="alice-proj")
    assert [(x.username, x.resource, x.resource_type, x.operation) for x in logs] == [
        ("alice", "alice-proj", "project", "create")
    ]
    inst.add_user("bob", "Bob12345x")
    alice.add_member("alice-proj", "developer", username="bob")
    with pytest.raises(e.Forbidden):
        client(fleet, ("bob", "Bob12345x")).list_audit_logs("auditlog-exts", project="alice-proj")


def test_9_audit_log_purge() -> None:
    inst, fleet = sim("2.13.0")
    h = client(fleet)
    pid = h.run_purge_audit(retention_hours=24, dry_run=True)
    h.stop_purge(pid)
    assert h.get_purge(pid).job_status in ("Stopped", "Success")
    pid2 = h.run_purge_audit(retention_hours=1)
    fleet.advance(300)
    assert h.get_purge(pid2).job_status == "Success"
    log = h.purge_log(pid2)
    assert "Purge audit job start" in log and "rows of audit logs" in log
    h.set_purge_schedule("Weekly", "0 0 0 * * 0", retention_hours=24)
    sched = h.get_purge_schedule()
    assert sched is not None and sched.schedule is not None and sched.schedule.type == "Weekly"
    assert sched.job_parameters["audit_retention_hour"] == 24
    h.set_purge_schedule(
        "Custom", "0 15 10 ? * *", retention_hours=12, event_types=("create_artifact", "delete_artifact")
    )
    sched = h.get_purge_schedule()
    assert sched is not None and sched.job_parameters["include_event_types"] == "create_artifact,delete_artifact"
    inst.add_user("plain", "Plain12345")
    with pytest.raises(e.Forbidden):
        client(fleet, ("plain", "Plain12345")).list_purge_history()


LDAP_CONF = {
    "auth_mode": "ldap_auth",
    "ldap_url": "ldap://ldap.sim",
    "ldap_search_dn": "cn=admin,dc=example,dc=com",
    "ldap_search_password": "admin",
    "ldap_base_dn": "dc=example,dc=com",
    "ldap_uid": "cn",
    "ldap_filter": "",
    "ldap_group_attribute_name": "cn",
    "ldap_group_base_dn": "ou=groups,dc=example,dc=com",
    "ldap_group_search_filter": "objectclass=groupOfNames",
    "ldap_group_search_scope": 2,
}


def test_10_ldap_group_to_project_role() -> None:
    _, fleet = sim("2.13.0")
    h = client(fleet)
    h.update_configurations(LDAP_CONF)
    pid = h.create_project("team", public=False)
    for role, group in ((1, "harbor_admin"), (2, "harbor_dev"), (3, "harbor_guest")):
        h.add_member(pid, role, ldap_group_dn=f"cn={group},ou=groups,dc=example,dc=com")
    members = {m.entity_name: (m.entity_type, m.role_id, m.role_name) for m in h.list_members(pid)}
    assert members["harbor_dev"] == ("g", 2, "developer")
    admin_user = client(fleet, ("admin_user", "Harbor12345"))
    mike_mid = admin_user.add_member("team", "guest", username="mike")
    assert mike_mid > 0
    with pytest.raises(e.Forbidden):
        client(fleet, ("dev_user", "Harbor12345")).add_member("team", "guest", username="mike02")
    gid = h.create_usergroup("harbor_group123", ldap_group_dn="cn=harbor_group,ou=groups,dc=example,dc=com")
    assert gid in {g.id for g in h.list_usergroups()}
    assert h.ldap_search_groups(groupname="nope") == []
