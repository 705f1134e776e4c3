"""The access preflight: will each target Harbor resolve a mapping's LDAP group for its members?

Harbor attaches a user's LDAP groups at login only from the user entry's membership attribute
(``ldap_group_membership_attribute``, default ``memberof``), each DN checked under
``ldap_group_base_dn`` with ``ldap_group_search_filter``, and attaches none when that filter is
empty. Source: src/core/auth/ldap/ldap.go@v2.13.0 attachLDAPGroup; src/pkg/ldap/ldap.go@v2.13.0
SearchUser, searchGroup, UnderBaseDN. The simulated Harbors are configured through PUT
/configurations; their LDAP and harborops' own are the tests' real slapd (with the memberof overlay,
and one directory without it)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.access.models import TeamMapping
from harborops.access.services import directory, mappings, preflight, reconcile
from harborops.access.tasks import start_apply
from harborops.audit.models import ActionLogEntry
from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet.models import Instance
from harborops.harbor.client import HarborClient
from harborops.harbor_sim import Fleet, SimServer
from tests.access.conftest import UseLdap
from tests.support.processes import free_port
from tests.support.slapd import (  # noqa: F401
    BASE,
    USER_PASSWORD,
    Slapd,
    group_dn,
    posix_dn,
    slapd_without_memberof,
)

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
ACTOR = Actor.system("tester")
SEARCH = group_dn("team-search")
PAYMENTS = group_dn("team-payments")


@pytest.fixture
def harbors(use_ldap: UseLdap, ldap_fleet: tuple[Fleet, SimServer]) -> list[Instance]:
    use_ldap("groupOfNames")
    _, server = ldap_fleet
    return [Instance.objects.create(name=f"harbor-{n}", url=server.instance_url(n), username="admin",
                                    password="Harbor12345", labels={"env": "prod" if n < 3 else "dev"})
            for n in (1, 2, 3)]


def configure(inst: Instance, **changes: object) -> None:
    """As an admin would on Harbor's Configuration page (PUT /configurations)."""
    with HarborClient(inst.url, username="admin", password="Harbor12345") as harbor:
        harbor.update_configurations(changes)


def by_check(result: preflight.MappingCheck) -> dict[str, preflight.Finding]:
    return {f.check: f for f in result.findings}


def apply(*, force: bool = False) -> JobRun:
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = start_apply(actor=ACTOR, force=force)
    execute(job.pk)
    job.refresh_from_db()
    return job


def test_every_check_passes_on_harbors_set_up_for_ldap_groups(harbors: list[Instance]) -> None:
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=PAYMENTS, project_name="payments")
    results = preflight.preflight([m.pk])
    assert [r.instance for r in results] == ["harbor-1", "harbor-2", "harbor-3"]
    for result in results:
        assert result.status == "ok" and not result.ineffective, result.findings
        assert [f.check for f in result.findings] == list(preflight.CHECKS)
        assert result.summary() == f"effective on {result.instance}"
    found = by_check(results[0])
    assert found["group_filter"].reason == "ldap_group_search_filter is (objectClass=groupOfNames)"
    assert found["group_base_dn"].reason == f"the group is under ldap_group_base_dn ou=groups,{BASE}"
    # team-payments lists dev1, dev2 and a nested group: the nested group is no user and is not sampled.
    assert found["member_attribute"].reason == "2 of 2 sampled members carry memberof naming the group"


def test_configuration_and_member_samples_are_read_once_per_run(harbors: list[Instance]) -> None:
    mappings.create_mapping(actor=ACTOR, ldap_group_dn=PAYMENTS, project_name="payments")
    mappings.create_mapping(actor=ACTOR, ldap_group_dn=PAYMENTS, project_name="payments-ci")
    mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search")
    with mock.patch.object(preflight, "read_config", wraps=preflight.read_config) as reads, \
            mock.patch.object(directory, "member_attribute_sample",
                              wraps=directory.member_attribute_sample) as samples:
        results = preflight.preflight()
    assert len(results) == 9 and all(r.status == "ok" for r in results)
    assert reads.call_count == 3  # one configuration per instance, not per mapping
    assert sorted(c.args[0] for c in samples.call_args_list) == [PAYMENTS, SEARCH]  # one sample per group
    assert all(c.kwargs["limit"] == preflight.SAMPLE_SIZE == 5 for c in samples.call_args_list)


def test_each_configuration_check_fails_with_a_clear_finding(harbors: list[Instance],
                                                             ldap_fleet: tuple[Fleet, SimServer]) -> None:
    sim, _ = ldap_fleet
    configure(harbors[0], ldap_group_search_filter="")
    configure(harbors[1], ldap_group_base_dn=f"ou=posix,{BASE}")
    sim[3].config["auth_mode"] = "db_auth"  # read-only through the API once users exist
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search")
    r1, r2, r3 = preflight.preflight([m.pk])
    assert [f.check for f in r1.failed] == ["group_filter"]
    assert r1.failed[0].message == (f"Harbor harbor-1 will not resolve {SEARCH} for its members: "
                                    "ldap_group_search_filter is empty (Harbor attaches no LDAP group at login "
                                    "without it)")
    assert r1.summary().startswith("ineffective on harbor-1: ldap_group_search_filter is empty")
    assert [f.check for f in r2.failed] == ["group_base_dn"]
    assert r2.failed[0].reason == f"the group is not under ldap_group_base_dn ou=posix,{BASE}"
    assert [f.check for f in r3.failed] == ["auth_mode"]
    assert r3.failed[0].reason.startswith("auth mode is db_auth, not ldap_auth")
    assert all(r.ineffective and r.status == "failed" for r in (r1, r2, r3))


def test_the_group_base_dn_is_compared_as_a_dn_and_falls_back_to_the_base_dn(harbors: list[Instance]) -> None:
    configure(harbors[0], ldap_group_base_dn="OU=Groups, DC=Example,DC=ORG")  # case and spacing differ
    configure(harbors[1], ldap_group_base_dn="", ldap_base_dn=f"ou=people,{BASE}")
    configure(harbors[2], ldap_group_base_dn=f"ou=roups,{BASE}")  # a string suffix, not a DN suffix
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search")
    r1, r2, r3 = preflight.preflight([m.pk])
    assert by_check(r1)["group_base_dn"].status == "ok"
    assert by_check(r2)["group_base_dn"].reason == (
        f"the group is not under ldap_base_dn (ldap_group_base_dn is empty) ou=people,{BASE}")
    assert by_check(r3)["group_base_dn"].status == "failed"
    assert preflight.under_dn(f"ou=groups,{BASE}", SEARCH.upper())
    assert not preflight.under_dn(f"ou=groups,{BASE}", f"cn=x,ou=xgroups,{BASE}")


def test_members_without_the_membership_attribute_make_the_mapping_ineffective(
        harbors: list[Instance], use_ldap: UseLdap, slapd_without_memberof: Slapd) -> None:  # noqa: F811
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=PAYMENTS, project_name="payments",
                                targets="listed", instances=[harbors[0]])
    # The same data in a directory without the memberof overlay: no user entry carries memberOf.
    use_ldap("groupOfNames", HARBOROPS_LDAP_URI=slapd_without_memberof.url)
    (result,) = preflight.preflight([m.pk])
    assert [f.check for f in result.failed] == ["member_attribute"]
    assert result.failed[0].message == (
        f"Harbor harbor-1 will not resolve {PAYMENTS} for its members: none of 2 sampled members (dev1, dev2) "
        "carries memberof naming the group (does the directory maintain memberof, e.g. OpenLDAP's memberof "
        "overlay?)")


def test_the_instances_membership_attribute_is_the_one_checked(harbors: list[Instance]) -> None:
    configure(harbors[0], ldap_group_membership_attribute="isMemberOf")
    posix = mappings.create_mapping(actor=ACTOR, ldap_group_dn=posix_dn("payments"), project_name="payments",
                                    targets="listed", instances=[harbors[1]], check_directory=False)
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search",
                                targets="listed", instances=[harbors[0]])
    (result,) = preflight.preflight([m.pk])
    assert by_check(result)["member_attribute"].reason.startswith(
        "none of 1 sampled members (dev2) carries isMemberOf naming the group")
    # posixGroup memberUid names are found under the user base; the overlay gives them no memberOf.
    (posix_result,) = preflight.preflight([posix.pk])
    assert by_check(posix_result)["member_attribute"].reason.startswith("none of 2 sampled members (dev1, dev2)")
    assert by_check(posix_result)["group_base_dn"].status == "failed"  # ou=posix is not ou=groups


def test_directory_errors_and_unreachable_instances_are_unknown_and_never_stop_the_rest(
        harbors: list[Instance], use_ldap: UseLdap) -> None:
    dead = Instance.objects.create(name="harbor-0-dead", url=f"http://127.0.0.1:{free_port()}", username="admin",
                                   password="x", labels={"env": "prod"})
    robot = Instance.objects.create(name="harbor-0-robot", url=harbors[0].url, username="robot$ops",
                                    password="not-a-secret", credential_kind="robot", labels={"env": "prod"})
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search",
                                targets="label", target_label="env=prod")
    results = {r.instance: r for r in preflight.preflight([m.pk])}
    assert list(results) == ["harbor-0-dead", "harbor-0-robot", "harbor-1", "harbor-2"]
    for name in (dead.name, robot.name):
        (finding,) = results[name].findings
        assert (finding.check, finding.status) == ("config", "unknown")
        assert finding.reason.startswith("cannot read configuration: ")
        assert results[name].summary().startswith(f"not verified on {name}: cannot read configuration: ")
    assert results["harbor-1"].status == results["harbor-2"].status == "ok"

    use_ldap("groupOfNames", HARBOROPS_LDAP_URI=f"ldap://127.0.0.1:{free_port()}", HARBOROPS_LDAP_TIMEOUT="1")
    down = by_check(preflight.preflight([m.pk])[2])["member_attribute"]
    assert down.status == "unknown"
    assert down.reason.startswith("could not read the members' memberof in harborops' LDAP directory: "
                                  "the LDAP directory is unreachable")
    use_ldap("groupOfNames", HARBOROPS_LDAP_URI="")
    off = by_check(preflight.preflight([m.pk])[2])["member_attribute"]
    assert off.status == "unknown" and "HARBOROPS_LDAP_URI" in off.reason


def test_the_plan_flags_ineffective_instances_and_apply_refuses_them_unless_forced(
        harbors: list[Instance]) -> None:
    configure(harbors[0], ldap_group_search_filter="")
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search",
                                targets="label", target_label="env=prod")
    plan = reconcile.compute_plan()
    assert [c.instance for c in plan.ineffective] == ["harbor-1"]
    assert f"  ! {SEARCH}: ineffective on harbor-1: ldap_group_search_filter is empty" in plan.text()
    as_dict = plan.as_dict()
    assert as_dict["ineffective"][0].startswith("ineffective on harbor-1")
    assert as_dict["instances"][0]["preflight"][0]["findings"][2]["check"] == "group_filter"

    job = apply()
    assert job.status == JobRun.Status.SUCCEEDED
    assert "2 changes applied" in job.summary and "2 changes refused" in job.summary
    log = "\n".join(JobLogLine.objects.filter(job=job).values_list("text", flat=True))
    assert (f"harbor-1: refused 2 changes of {m}: ineffective on harbor-1: ldap_group_search_filter is empty"
            in log)
    with HarborClient(harbors[0].url, username="admin", password="Harbor12345") as harbor:
        assert not harbor.project_exists("search")
    refused = ActionLogEntry.objects.get(action="access.apply.instance", object_repr="harbor-1")
    assert refused.after is not None and len(refused.after["refused"]) == 2
    assert not ActionLogEntry.objects.filter(action="access.apply.forced").exists()

    forced = apply(force=True)
    assert forced.status == JobRun.Status.SUCCEEDED and "refused" not in forced.summary
    with HarborClient(harbors[0].url, username="admin", password="Harbor12345") as harbor:
        assert {x.entity_name for x in harbor.list_members("search")} == {"admin", "team-search"}
    entry = ActionLogEntry.objects.get(action="access.apply.forced")
    assert entry.object_repr == "harbor-1" and "ldap_group_search_filter is empty" in entry.message
    assert entry.after is not None
    assert [f["check"] for f in entry.after["preflight"][0]["findings"] if f["status"] == "failed"] == [
        "group_filter"]
    assert ActionLogEntry.objects.get(action="access.apply.start", after__force=True)


def test_api_and_pages_show_the_preflight_and_apply_accepts_force(harbors: list[Instance], bob: User,
                                                                  vera: User) -> None:
    configure(harbors[1], ldap_group_search_filter="")
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search")
    api = APIClient()
    api.force_login(vera)
    found = api.get(f"/api/access/mappings/{m.pk}/preflight/").json()
    assert [(r["instance"], r["status"]) for r in found] == [("harbor-1", "ok"), ("harbor-2", "failed"),
                                                             ("harbor-3", "ok")]
    assert found[1]["summary"].startswith("ineffective on harbor-2: ldap_group_search_filter is empty")
    assert len(api.get("/api/access/mappings/preflight/").json()) == 3
    plan = api.get(f"/api/access/mappings/{m.pk}/plan/").json()
    assert plan["ineffective"] == [found[1]["summary"]]

    page = Client()
    page.force_login(vera)
    html = page.get(f"/access/preflight/?mapping={m.pk}").content.decode()
    assert "ineffective on harbor-2: ldap_group_search_filter is empty" in html and "Check now" in html
    plan_html = page.get(f"/access/plan/?mapping={m.pk}").content.decode()
    assert "ineffective on harbor-2" in plan_html and 'name="force"' not in plan_html  # a viewer cannot apply
    for url in (f"/access/mappings/{m.pk}/", "/access/drift/"):
        assert 'hx-get="/access/preflight/' in page.get(url).content.decode()

    api.force_login(bob)
    page.force_login(bob)
    assert 'name="force"' in page.get(f"/access/plan/?mapping={m.pk}").content.decode()
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        started = api.post("/api/access/mappings/apply/", {"mapping_ids": [m.pk], "force": True}, format="json")
        assert started.status_code == 202
        page.post("/access/apply/", {"mapping": [str(m.pk)], "force": "on"})
        page.post("/access/apply/", {"mapping": [str(m.pk)]})
    assert [j.params.get("force", False) for j in JobRun.objects.order_by("pk")] == [True, True, False]
    assert TeamMapping.objects.count() == 1


def test_the_form_and_the_wizard_check_a_mapping_before_it_is_saved(harbors: list[Instance], bob: User,
                                                                   vera: User) -> None:
    configure(harbors[0], ldap_group_search_filter="")
    page = Client()
    page.force_login(bob)
    draft = {"ldap_group_dn": SEARCH, "targets": "listed", "instances": [str(harbors[0].pk), str(harbors[1].pk)]}
    html = page.get("/access/preflight/draft/", draft).content.decode()
    assert "ineffective on harbor-1: ldap_group_search_filter is empty" in html
    assert 'data-instance="harbor-2"' in html and 'data-instance="harbor-3"' not in html
    by_label = page.get("/access/preflight/draft/", {**draft, "targets": "label", "target_label": "env=dev"})
    assert 'data-instance="harbor-3"' in by_label.content.decode()
    assert "key=value" in page.get("/access/preflight/draft/", {**draft, "targets": "label",
                                                                  "target_label": "dev"}).content.decode()
    assert "pick an LDAP group first" in page.get("/access/preflight/draft/", {"targets": "all"}).content.decode()
    for url in ("/access/mappings/add/", "/access/onboard/"):
        assert 'hx-get="/access/preflight/draft/"' in page.get(url).content.decode()
    viewer = Client()
    viewer.force_login(vera)
    assert viewer.get("/access/preflight/draft/", draft).status_code == 403
    assert not TeamMapping.objects.exists()



def test_a_one_level_user_scope_makes_the_mapping_ineffective_as_the_harbor_shows(
        harbors: list[Instance], ldap_fleet: tuple[Fleet, SimServer]) -> None:
    """Harbor searches for the group at its own DN with ``ldap_scope`` (src/pkg/ldap/ldap.go@v2.13.0 searchGroup),
    so one level finds no group at login; the preflight says so, and a real login on the simulator agrees."""
    for inst in harbors:  # the group as a member first: with one level, Harbor cannot even find it to add it
        with HarborClient(inst.url, username="admin", password="Harbor12345") as admin:
            admin.add_member(admin.create_project("search"), "developer", ldap_group_dn=SEARCH)
    configure(harbors[1], ldap_scope=1, ldap_group_search_scope=2)
    configure(harbors[2], ldap_scope=2, ldap_group_search_scope=1)  # the group scope is never read
    m = mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search")
    r1, r2, r3 = preflight.preflight([m.pk])
    assert by_check(r1)["scope"].status == "ok" and by_check(r3)["scope"].status == "ok"
    assert [f.check for f in r2.failed] == ["scope"]
    assert r2.failed[0].reason.startswith("ldap_scope is one level (1)")
    seen = {}
    for inst in harbors:
        with HarborClient(inst.url, username="dev2", password=USER_PASSWORD) as dev2:
            seen[inst.name] = [p.name for p in dev2.list_projects(name="search")]
    assert seen == {"harbor-1": ["search"], "harbor-2": [], "harbor-3": ["search"]}
