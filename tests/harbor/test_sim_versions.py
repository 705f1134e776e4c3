"""Version differences, client against the simulator playing each version (contract-checked).

Each test is referenced from docs/harbor-compatibility.md.
"""

from __future__ import annotations

import asyncio

import pytest

from harborops.harbor import errors as e
from harborops.harbor_sim import push_artifact
from tests.harbor.sim import async_client, client, sim
from tests.harbor.test_sim_scenarios import LDAP_CONF

ALL = [f"2.{m}.0" for m in range(3, 16)]


@pytest.mark.parametrize("version", ALL)
def test_version_detection_and_health_components(version: str) -> None:
    _, fleet = sim(version, with_chartmuseum=True, with_notary=True)
    h = client(fleet)
    caps = h.detect_version()
    assert str(caps.version) == version
    names = {c.name for c in h.health().components}
    assert ("chartmuseum" in names) is caps.health_chartmuseum
    assert ("notary" in names) is caps.health_notary


@pytest.mark.parametrize("version", ["2.12.0", "2.13.0"])
def test_audit_sources_by_version(version: str) -> None:
    inst, fleet = sim(version)
    push_artifact(inst, "library", "app", "v1", 10)
    h = client(fleet)
    sources = h.audit_log_sources()
    for source in sources:
        h.list_audit_logs(source)
    if version == "2.12.0":
        assert sources == ("audit-logs",)
        assert [x.resource for x in h.list_audit_logs("audit-logs")][-1] == "library/app:v1"
        with pytest.raises(e.NotSupported):
            h.list_audit_logs("auditlog-exts")
    else:
        assert sources == ("auditlog-exts", "audit-logs")
        assert [x.resource for x in h.list_audit_logs("auditlog-exts")][-1] == "library/app:v1"


def test_legacy_audit_log_frozen_at_upgrade() -> None:
    inst, fleet = sim("2.12.0")
    push_artifact(inst, "library", "old", "v1", 10)
    h = client(fleet)
    before = h.list_audit_logs("audit-logs")
    inst.upgrade("2.13.0")
    h = client(fleet)
    h.detect_version()
    push_artifact(inst, "library", "new", "v1", 10)
    assert h.list_audit_logs("audit-logs") == before  # no new rows in the old table
    assert "library/new:v1" in [x.resource for x in h.list_audit_logs("auditlog-exts")]


def test_audit_cursor_pages_through_many_rows() -> None:
    inst, fleet = sim("2.13.0")
    ids = inst.seed_audit(250)
    h = client(fleet)
    got = h.list_audit_logs("auditlog-exts", after_id=0, max_items=10_000)
    assert len(got) >= 250 and [x.id for x in got] == sorted(x.id for x in got)
    tail = h.list_audit_logs("auditlog-exts", after_id=got[-5].id)
    assert [x.id for x in tail] == [x.id for x in got[-4:]]
    assert ids


@pytest.mark.parametrize(
    ("version", "key"),
    [
        ("2.6.0", "include_operations"),
        ("2.12.0", "include_operations"),
        ("2.13.0", "include_event_types"),
        ("2.15.0", "include_event_types"),
    ],
)
def test_purge_parameter_name_by_version(version: str, key: str) -> None:
    _, fleet = sim(version)
    h = client(fleet)
    h.set_purge_schedule("Daily", "0 0 0 * * *", retention_hours=48)
    sched = h.get_purge_schedule()
    assert sched is not None and key in sched.job_parameters


def test_purge_not_before_2_6() -> None:
    _, fleet = sim("2.5.0")
    with pytest.raises(e.NotSupported):
        client(fleet).run_purge_audit(retention_hours=1)


@pytest.mark.parametrize("version", ["2.8.0", "2.9.0", "2.14.0", "2.15.0"])
def test_gc_workers_and_delete_tag_by_version(version: str) -> None:
    _, fleet = sim(version)
    h = client(fleet)
    caps = h.detect_version()
    if caps.gc_workers:
        h.run_gc(workers=3)
    else:
        with pytest.raises(e.NotSupported):
            h.run_gc(workers=3)
        h.run_gc()
    if caps.gc_delete_tag:
        h.run_gc(delete_tag=True)
    else:
        with pytest.raises(e.NotSupported):
            h.run_gc(delete_tag=True)


def test_gc_stop_not_before_2_6() -> None:
    _, fleet = sim("2.5.0")
    h = client(fleet)
    gc_id = h.run_gc()
    with pytest.raises(e.NotSupported):
        h.stop_gc(gc_id)


@pytest.mark.parametrize("version", ["2.6.0", "2.7.0"])
def test_jobservice_from_2_7(version: str) -> None:
    _, fleet = sim(version)
    h = client(fleet)
    if version == "2.6.0":
        with pytest.raises(e.NotSupported):
            h.list_job_queues()
    else:
        assert h.list_job_queues()


@pytest.mark.parametrize("version", ["2.3.0", "2.4.0", "2.6.0"])
def test_usergroups_search_and_filters(version: str) -> None:
    _, fleet = sim(version)
    h = client(fleet)
    h.update_configurations(LDAP_CONF)
    h.create_usergroup("devs", ldap_group_dn="cn=harbor_dev,ou=groups,dc=example,dc=com")
    assert [g.group_name for g in h.list_usergroups()] == ["devs"]
    if version == "2.3.0":
        with pytest.raises(e.NotSupported):
            h.search_usergroups("dev")
        with pytest.raises(e.NotSupported):
            h.list_usergroups(ldap_group_dn="cn=harbor_dev,ou=groups,dc=example,dc=com")
    else:
        assert [g.group_name for g in h.search_usergroups("dev")] == ["devs"]
    if version == "2.6.0":
        assert [g.group_name for g in h.list_usergroups(group_name="dev")] == ["devs"]


@pytest.mark.parametrize("version", ["2.11.0", "2.12.0"])
def test_ldap_group_attach_parallel_from_2_12(version: str) -> None:
    _, fleet = sim(version)
    h = client(fleet)
    if version == "2.11.0":
        with pytest.raises(e.NotSupported):
            h.update_configurations({"ldap_group_attach_parallel": True})
    else:
        h.update_configurations({"ldap_group_attach_parallel": True})
        assert h.get_configurations()["ldap_group_attach_parallel"].value is True


@pytest.mark.parametrize("version", ["2.12.0", "2.13.0"])
def test_project_robots_endpoint_removed_in_2_13(version: str) -> None:
    _, fleet = sim(version)
    h = client(fleet)
    pid = h.create_project("p1")
    perm = [{"kind": "project", "namespace": "p1", "access": [{"resource": "repository", "action": "pull"}]}]
    h.create_robot("puller", perm, level="project")
    assert [r.name for r in h.list_robots(project_id=pid)] and h.list_robots() == []
    if version == "2.12.0":
        assert h.list_project_robots_legacy("p1")
    else:
        with pytest.raises(e.NotSupported):
            h.list_project_robots_legacy("p1")


@pytest.mark.parametrize("version", ["2.0.0", "2.2.0"])
def test_old_generations_refused_with_ssh_hint(version: str) -> None:
    from harborops.harbor.client import HarborClient

    with pytest.raises(e.UnsupportedVersion, match="SSH-only operations available"):
        HarborClient("http://h", version=version)


def test_async_client_against_simulator() -> None:
    _, fleet = sim("2.14.0")

    async def run() -> None:
        async with async_client(fleet) as h:
            caps = await h.detect_version()
            assert caps.spec_name == "v2.14"
            pid = await h.create_project("async-proj")
            assert (await h.get_project(pid)).name == "async-proj"
            assert await h.project_exists("async-proj") and not await h.project_exists("nope")
            assert len(await h.list_projects()) == 2

    asyncio.run(run())


def test_session_cookie_from_simulator_is_never_returned() -> None:
    inst, fleet = sim("2.13.0", session_cookie=True)
    h = client(fleet)
    h.health()
    h.create_project("csrf-ok")  # the simulator answers CSRF 403 if a sid comes back
    h.create_project("csrf-ok-2")
    assert inst.requests_served >= 3


def test_repository_names_with_slashes_are_double_encoded() -> None:
    inst, fleet = sim("2.13.0")
    push_artifact(inst, "library", "team/app", "v1", 10)
    h = client(fleet)
    assert [a.digest for a in h.list_artifacts("library", "library/team/app")]
    h.delete_repository("library", "team/app")
    assert h.list_repositories("library") == []


def test_aiohttp_transport_over_a_real_socket() -> None:
    """The sweep's default transport (httpx-aiohttp): no cookie jar, %252F kept, contract-checked."""
    from harborops.harbor.client import AsyncHarborClient
    from harborops.harbor.http import install_transport_wrapper, remove_transport_wrapper
    from harborops.harbor_sim import SimServer
    from tests.harbor.sim import _checked

    inst, fleet = sim("2.13.0", session_cookie=True)
    push_artifact(inst, "library", "team/app", "v1", 10)

    async def run(url: str) -> None:
        install_transport_wrapper(_checked)
        try:
            h = AsyncHarborClient(url, username="admin", password="Harbor12345", timeout=5)
        finally:
            remove_transport_wrapper(_checked)
        async with h:
            assert (await h.health()).healthy
            await h.create_project("via-aiohttp")  # CSRF 403 if the sid cookie came back
            assert await h.list_artifacts("library", "team/app")

    with SimServer(fleet) as server:
        asyncio.run(run(server.instance_url(1)))


@pytest.mark.parametrize("version", ["2.12.4", "2.13.0"])
def test_list_robots_filters_by_level_itself(version: str) -> None:
    """Harbor before 2.13 answers q=Level=system with project robots too
    (src/server/v2.0/handler/robot.go@v2.12.4 ListRobot; fixed @v2.13.0); the client filters on every version."""
    inst, fleet = sim(version)
    h = client(fleet)
    pid = h.create_project("p1")
    h.create_robot("sys", [{"kind": "system", "namespace": "/", "access": [{"resource": "project", "action": "list"}]}])
    h.create_robot(
        "puller",
        [{"kind": "project", "namespace": "p1", "access": [{"resource": "repository", "action": "pull"}]}],
        level="project",
    )
    assert inst.behaviour.robot_level_system_filter is (version == "2.13.0")
    assert [r.name for r in h.list_robots()] == ["robot$sys"]
    assert [r.name for r in h.list_robots(project_id=pid)] == ["robot$p1+puller"]


def test_robot_secret_is_generated_and_a_chosen_one_set_by_refresh() -> None:
    """src/server/v2.0/handler/robot.go@v2.13.0 CreateRobot ignores a body secret; RefreshSec answers
    ``secret: ""`` for a given one, so the client returns the secret it sent."""
    _, fleet = sim("2.13.0")
    h = client(fleet)
    perm = [{"kind": "system", "namespace": "/", "access": [{"resource": "project", "action": "list"}]}]
    robot = h.create_robot("ci", perm)
    assert robot.secret.get_secret_value()
    with pytest.raises(TypeError):
        h.create_robot("ci2", perm, secret="Chosen1Secret")  # type: ignore[call-arg]
    assert h.refresh_robot_secret(robot.id, "Chosen1Secret") == "Chosen1Secret"
    assert client(fleet, (robot.name, "Chosen1Secret")).statistics().private_project_count == 0


def test_replication_zero_end_time_reads_as_none() -> None:
    """handler/replication.go@v2.13.0 convertExecution/convertTask always set end_time (Go's zero time while
    running) and tasks can be Pending (queued in jobservice)."""
    inst, fleet = sim("2.13.0")
    push_artifact(inst, "library", "app", "v1", 10)  # flow/copy.go: no resources -> no tasks
    h = client(fleet)
    reg_id = h.create_registry(
        {"name": "peer", "url": "https://peer.example", "type": "harbor", "insecure": True,
         "credential": {"type": "basic", "access_key": "admin", "access_secret": "Harbor12345"}}
    )
    pid = h.create_replication_policy(
        {"name": "push", "dest_registry": {"id": reg_id}, "dest_namespace": "", "trigger": {"type": "manual"},
         "enabled": True, "override": True}
    )
    h.job_queue_action("REPLICATION", "pause")
    exec_id = h.start_replication(pid)
    run = h.get_replication_execution(exec_id)
    assert run.status == "InProgress" and run.end_time is None and run.start_time is not None
    tasks = h.list_replication_tasks(exec_id, status="Pending")
    assert tasks and all(t.start_time is None and t.end_time is None for t in tasks)
    h.job_queue_action("REPLICATION", "resume")
    fleet.advance(600)
    assert h.get_replication_execution(exec_id).end_time is not None
