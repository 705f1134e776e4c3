"""Plan / apply / drift against simulated Harbors whose LDAP is the real slapd."""

from __future__ import annotations

from unittest import mock

import ldap
import pytest
from django.core.exceptions import ValidationError

from harborops.access.models import DriftFinding, ManagedMembership, TeamMapping
from harborops.access.services import directory, drift, mappings, reconcile
from harborops.access.tasks import start_apply
from harborops.audit.models import ActionLogEntry
from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet.models import HAGroup, Instance
from harborops.harbor.client import HarborClient
from harborops.harbor_sim import Fleet, SimServer
from tests.access.conftest import UseLdap
from tests.support.slapd import BASE, Slapd, group_dn, user_dn

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
ACTOR = Actor.system("tester")
PAYMENTS = group_dn("team-payments")
SEARCH = group_dn("team-search")


@pytest.fixture
def fleet(use_ldap: UseLdap, ldap_fleet: tuple[Fleet, SimServer]) -> tuple[Fleet, list[Instance]]:
    use_ldap("groupOfNames")
    sim, server = ldap_fleet
    rows = [Instance.objects.create(name=f"harbor-{n}", url=server.instance_url(n), username="admin",
                                    password="Harbor12345", labels={"env": "prod" if n < 3 else "dev"})
            for n in (1, 2, 3)]
    return sim, rows


def harbor(inst: Instance) -> HarborClient:
    return HarborClient(inst.url, username="admin", password="Harbor12345")


def members_of(inst: Instance, project: str) -> dict[str, str]:
    with harbor(inst) as c:
        return {m.entity_name: m.role_name for m in c.list_members(project)}


def apply(mapping_ids: list[int] | None = None, *, force: bool = False) -> JobRun:
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = start_apply(actor=ACTOR, mapping_ids=mapping_ids, force=force)
    execute(job.pk)
    job.refresh_from_db()
    return job


def log_of(job: JobRun) -> str:
    return "\n".join(JobLogLine.objects.filter(job=job).order_by("seq").values_list("text", flat=True))


def test_plan_apply_and_a_reapply_that_does_nothing(fleet) -> None:
    _, rows = fleet
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=PAYMENTS, project_name="payments", role="developer",
                                project_quota_gib=10, targets="label", target_label="env=prod")
    assert m.ldap_group_name == "team-payments"  # looked up in harborops' LDAP
    plan = reconcile.compute_plan()
    text = plan.text()
    assert "harbor-1:\n  + create project payments (private, quota 10 GiB)" in text
    assert f"  + add LDAP group {PAYMENTS} to payments as developer" in text
    assert "harbor-3" not in text and plan.change_count == 4

    job = apply()
    assert job.status == JobRun.Status.SUCCEEDED, job.error
    assert "4 changes applied, 0 failed" in job.summary
    log = log_of(job)
    assert f"harbor-1: + add LDAP group {PAYMENTS} to payments as developer: done" in log
    assert f"harbor-2: + add LDAP group {PAYMENTS} to payments as developer: done" in log
    for inst in rows[:2]:
        assert members_of(inst, "payments")["team-payments"] == "developer"
        with harbor(inst) as c:
            quota = c.list_quotas(reference_id=c.get_project("payments").project_id)[0]
            assert quota.hard["storage"] == 10 * 1024**3
    assert ManagedMembership.objects.count() == 2
    assert ActionLogEntry.objects.filter(action="access.apply.instance").count() == 2

    assert reconcile.compute_plan().is_noop
    again = apply()
    assert again.status == JobRun.Status.SUCCEEDED and again.summary.startswith("0 changes applied")


def test_role_change_removal_and_hand_made_members_are_left_alone(fleet) -> None:
    _, rows = fleet
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search", role="guest",
                                targets="listed", instances=[rows[0]])
    apply()
    with harbor(rows[0]) as c:  # someone adds a group by hand in Harbor's UI
        c.add_member("search", "developer", ldap_group_dn=PAYMENTS)
    mappings.update_mapping(m, actor=ACTOR, role="maintainer")
    assert f"~ change {SEARCH} in search: guest → maintainer" in reconcile.compute_plan().text()
    apply()
    assert members_of(rows[0], "search") == {"admin": "projectAdmin", "team-search": "maintainer",
                                             "team-payments": "developer"}
    mappings.delete_mapping(m, actor=ACTOR)
    plan_text = reconcile.compute_plan().text()
    assert f"- remove {SEARCH.lower()} from search (its mapping was removed)" in plan_text
    assert "team-payments" not in plan_text and "cn=team-payments" not in plan_text
    apply()
    assert members_of(rows[0], "search") == {"admin": "projectAdmin", "team-payments": "developer"}
    assert not ManagedMembership.objects.exists() and reconcile.compute_plan().is_noop


def test_an_authoritative_mapping_removes_members_nobody_mapped(fleet) -> None:
    _, rows = fleet
    mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="core", role="developer",
                            targets="listed", instances=[rows[1]], authoritative=True)
    apply()
    with harbor(rows[1]) as c:
        c.add_member("core", "guest", ldap_group_dn=PAYMENTS)
    drift.check_drift()
    extra = DriftFinding.objects.get(kind="extra")
    assert extra.project_name == "core" and extra.entity == PAYMENTS.lower()
    apply()
    assert members_of(rows[1], "core") == {"admin": "projectAdmin", "team-search": "developer"}


def test_robot_instances_are_skipped_and_non_ldap_instances_flagged(fleet) -> None:
    sim, rows = fleet
    Instance.objects.filter(pk=rows[0].pk).update(credential_kind="robot", username="robot$ops")
    sim[2].config["auth_mode"] = "db_auth"
    mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search", role="guest")
    plan = reconcile.compute_plan()
    by_name = {ip.instance: ip for ip in plan.instances}
    assert by_name["harbor-1"].skipped.startswith("needs sysadmin credentials")
    assert "auth mode is db_auth" in by_name["harbor-2"].skipped and "ldap_auth" in by_name["harbor-2"].skipped
    assert by_name["harbor-3"].changes
    job = apply()
    assert job.status == JobRun.Status.SUCCEEDED
    assert "harbor-1: skipped: needs sysadmin credentials" in log_of(job)
    drift.check_drift()
    assert set(DriftFinding.objects.values_list("kind", flat=True)) == {"needs_sysadmin", "not_ldap"}


def test_an_instance_that_rejects_the_dn_is_reported_and_the_rest_continues(fleet) -> None:
    sim, _ = fleet
    sim[1].config["ldap_group_base_dn"] = f"ou=posix,{BASE}"  # this Harbor cannot see the group
    sim[1].config["ldap_group_search_filter"] = "(objectClass=posixGroup)"
    mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search", role="guest",
                            targets="label", target_label="env=prod")
    assert [c.instance for c in reconcile.compute_plan().ineffective] == ["harbor-1"]  # the preflight sees it
    job = apply(force=True)  # past the preflight, Harbor's own refusal is reported
    assert job.status == JobRun.Status.FAILED
    log = log_of(job)
    # Harbor: a DN outside ldap_group_base_dn is Auth.SearchGroup's NotFoundError (ldap.go@v2.13.0 SearchGroup)
    assert (f"harbor-1: + add LDAP group {SEARCH} to search as guest: failed: "
            f"NOT_FOUND: failed to searh ldap group with groupDN:{SEARCH}") in log
    assert f"harbor-2: + add LDAP group {SEARCH} to search as guest: done" in log
    assert "harbor-1: 1 failed" in job.error


def test_unknown_dns_and_filter_metacharacters(fleet) -> None:
    with pytest.raises(ValidationError, match="no LDAP group"):
        mappings.create_mapping(actor=ACTOR, ldap_group_dn=f"cn=ghosts,ou=groups,{BASE}", project_name="x")
    with pytest.raises(ValidationError, match="not a valid DN"):
        mappings.create_mapping(actor=ACTOR, ldap_group_dn="not a dn", project_name="x")
    assert directory.search_groups("*)(uid=*") == []
    assert directory.search_groups("*") == []
    assert [g.name for g in directory.search_groups("payments")] == ["team-payments", "team-payments-contractors"]


def test_ha_group_members_get_identical_memberships(fleet) -> None:
    _, rows = fleet
    pair = HAGroup.objects.create(name="eu-pair")
    Instance.objects.filter(pk__in=[rows[0].pk, rows[2].pk]).update(ha_group=pair)
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search", role="guest",
                                targets="listed", instances=[rows[0]])
    assert [i.name for i in mappings.target_instances(m)] == ["harbor-1", "harbor-3"]
    apply()
    assert members_of(rows[0], "search") == members_of(rows[2], "search")


def test_nested_members_are_imported_added_and_removed_when_they_leave(fleet, slapd: Slapd) -> None:
    _, rows = fleet
    mappings.create_mapping(actor=ACTOR, ldap_group_dn=PAYMENTS, project_name="payments", role="developer",
                            targets="listed", instances=[rows[2]], expand_nested=True)
    text = reconcile.compute_plan().text()
    assert "+ import LDAP users dev1 dev2 nora" in text
    assert "+ add user nora to payments as developer (nested member of team-payments)" in text
    job = apply()
    assert job.status == JobRun.Status.SUCCEEDED, log_of(job)
    assert members_of(rows[2], "payments") == {"admin": "projectAdmin", "team-payments": "developer",
                                               "dev1": "developer", "dev2": "developer", "nora": "developer"}
    contractors = group_dn("team-payments-contractors")
    conn = ldap.initialize(slapd.url)
    conn.simple_bind_s(slapd.bind_dn, slapd.bind_password)
    conn.modify_s(contractors, [(ldap.MOD_ADD, "member", [user_dn("dev1").encode()])])  # groupOfNames needs one
    conn.modify_s(contractors, [(ldap.MOD_DELETE, "member", [user_dn("nora").encode()])])
    try:
        text = reconcile.compute_plan().text()
        assert "- remove nora from payments (left the LDAP group)" in text
        apply()
        assert "nora" not in members_of(rows[2], "payments")
    finally:
        conn.modify_s(contractors, [(ldap.MOD_ADD, "member", [user_dn("nora").encode()])])
        conn.modify_s(contractors, [(ldap.MOD_DELETE, "member", [user_dn("dev1").encode()])])
        conn.unbind_s()


def test_drift_finds_missing_and_wrong_roles(fleet) -> None:
    _, rows = fleet
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search", role="developer",
                                targets="listed", instances=rows[:2])
    result = drift.check_drift()
    assert result.findings == 4  # project missing + member missing, on two instances
    apply()
    assert drift.check_drift().findings == 0
    with harbor(rows[1]) as c:
        member = next(x for x in c.list_members("search") if x.entity_name == "team-search")
        c.update_member_role("search", member.id, "guest")
    drift.check_drift()
    finding = DriftFinding.objects.get()
    assert (finding.kind, finding.instance_id, finding.mapping_id) == ("wrong_role", rows[1].pk, m.pk)
    assert "developer" in finding.detail and "guest" in finding.detail
    assert TeamMapping.objects.count() == 1


@pytest.mark.parametrize("version", ["2.3.0", "2.6.0", "2.12.0"])
def test_plan_and_apply_work_on_older_versions(use_ldap: UseLdap, slapd: Slapd, version: str) -> None:
    from harborops.harbor_sim.ldap_backend import use_ldap_server

    use_ldap("groupOfNames")
    sim = Fleet.create(1, version)
    use_ldap_server(sim, url=slapd.url, bind_dn=slapd.bind_dn, bind_password=slapd.bind_password,
                    base_dn=f"ou=people,{BASE}", group_base_dn=f"ou=groups,{BASE}")
    sim[1].config["ldap_group_search_filter"] = "(objectClass=groupOfNames)"  # else the preflight refuses
    with SimServer(sim) as server:
        inst = Instance.objects.create(name="old", url=server.instance_url(1), username="admin",
                                       password="Harbor12345")
        mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search", role="limitedGuest")
        assert apply().status == JobRun.Status.SUCCEEDED
        assert members_of(inst, "search")["team-search"] == "limitedGuest"
        assert reconcile.compute_plan().is_noop
