"""In a real browser: an LDAP user from slapd logs in and gets the mapped role; an operator onboards
a team (live LDAP group search → project and role → instance → plan → apply) and the member is on the
simulated Harbor."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from harborops.access.models import ManagedMembership, TeamMapping
from harborops.core.jobs.runner import execute
from harborops.fleet.models import Instance
from harborops.harbor.client import HarborClient
from tests.access.conftest import UseLdap, ldap_fleet, use_ldap  # noqa: F401  (fixtures)
from tests.browser.screenshots import shoot
from tests.browser.test_job_live import login
from tests.support.slapd import USER_PASSWORD, group_dn, slapd  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_an_ldap_user_logs_in_with_the_directory_password(page: Page, live_server, use_ldap: UseLdap) -> None:  # noqa: F811
    use_ldap("posixGroup")
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "oscar")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator(".msg-error")).to_have_text("Wrong user name or password.")
    page.fill("#id_username", "oscar")
    page.fill("#id_password", USER_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.locator(".account .badge")).to_have_text("operator")
    expect(page.locator("nav >> text=Access")).to_be_visible()


def test_an_operator_onboards_a_team_plans_and_applies(page: Page, live_server, bob: User,
                                                       use_ldap: UseLdap, ldap_fleet) -> None:  # noqa: F811
    use_ldap("groupOfNames")
    _, server = ldap_fleet
    for n in (1, 2):
        Instance.objects.create(name=f"harbor-{n}", url=server.instance_url(n), username="admin",
                                password="Harbor12345")
    login(page, live_server.url, "bob")
    page.click("nav >> text=Access")
    page.click("text=Onboard a team")
    page.fill("#group-q", "team-sea")
    page.locator("#group-results input[type=radio]").first.wait_for()
    expect(page.locator("#group-results label")).to_have_count(1)
    page.check(f"#group-results input[value='{group_dn('team-search')}']")
    page.fill("#id_p-0-project_name", "search")
    page.select_option("#id_p-0-role", "maintainer")
    page.fill("#id_p-0-project_quota_gib", "5")
    page.check("input[name=targets][value=listed]")
    page.check("label:has-text('harbor-1') input")
    page.click("button:has-text('Create mappings and see the plan')")

    expect(page.locator("h1")).to_contain_text("Plan")
    plan = page.locator("[data-instance='harbor-1'] .plan-lines")
    expect(plan).to_contain_text("+ create project search (private, quota 5 GiB)")
    expect(plan).to_contain_text(f"+ add LDAP group {group_dn('team-search')} to search as maintainer")
    expect(page.locator("[data-instance='harbor-2']")).to_have_count(0)
    shoot(page, "access-plan")

    with mock.patch("harborops.core.tasks.run_job.apply_async", side_effect=lambda args, **kw: execute(args[0])):
        page.click("#apply-button")
        expect(page.locator("#job-status-label")).to_have_text("Succeeded")
    expect(page.locator("#job-log")).to_contain_text("harbor-1: + add LDAP group")
    expect(page.locator("#job-log")).to_contain_text(": done")

    with HarborClient(server.instance_url(1), username="admin", password="Harbor12345") as harbor:
        members = {m.entity_name: m.role_name for m in harbor.list_members("search")}
    assert members["team-search"] == "maintainer"
    mapping = TeamMapping.objects.get()
    assert ManagedMembership.objects.get().mapping == mapping

    page.goto(f"{live_server.url}/access/mappings/{mapping.pk}/")
    expect(page.locator("#managed-table")).to_contain_text("harbor-1")
    shoot(page, "access-mapping")
    page.goto(f"{live_server.url}/access/")
    expect(page.locator("h1")).to_contain_text("Access")
    shoot(page, "access")
    page.goto(f"{live_server.url}/access/plan/?mapping={mapping.pk}")
    expect(page.locator("[data-instance='harbor-1'] .plan-lines")).to_have_text(re.compile("nothing to change"))


def test_a_mapping_is_flagged_ineffective_where_the_ldap_group_filter_is_empty(
        page: Page, live_server, bob: User, use_ldap: UseLdap, ldap_fleet) -> None:  # noqa: F811
    """Harbor attaches no LDAP group at login when ldap_group_search_filter is empty
    (src/core/auth/ldap/ldap.go@v2.13.0 attachLDAPGroup): the preflight says so on the mapping page,
    the plan and the drift page, and apply refuses that instance unless forced."""
    from harborops.access.services import mappings
    from harborops.core.actor import Actor

    use_ldap("groupOfNames")
    _, server = ldap_fleet
    rows = [Instance.objects.create(name=f"harbor-{n}", url=server.instance_url(n), username="admin",
                                    password="Harbor12345") for n in (1, 2)]
    with HarborClient(rows[1].url, username="admin", password="Harbor12345") as harbor:
        harbor.update_configurations({"ldap_group_search_filter": ""})
    mapping = mappings.create_mapping(actor=Actor.system("tester"), ldap_group_dn=group_dn("team-search"),
                                      project_name="search", targets="listed", instances=rows)
    login(page, live_server.url, "bob")

    page.goto(f"{live_server.url}/access/mappings/{mapping.pk}/")
    flagged = page.locator("#preflight .preflight-ineffective")
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("ineffective on harbor-2: ldap_group_search_filter is empty")
    expect(page.locator("#preflight-table tr[data-instance='harbor-1'] .status").first).to_have_text("effective")
    expect(page.locator("#preflight-table tr[data-instance='harbor-2'] li[data-check='group_filter']")).to_contain_text(
        f"Harbor harbor-2 will not resolve {group_dn('team-search')} for its members")

    page.goto(f"{live_server.url}/access/plan/?mapping={mapping.pk}")
    expect(page.locator("[data-instance='harbor-2'] .preflight-ineffective")).to_contain_text(
        "ineffective on harbor-2: ldap_group_search_filter is empty")
    expect(page.locator("[data-instance='harbor-1'] .preflight-ineffective")).to_have_count(0)
    expect(page.locator("#force-checkbox")).not_to_be_checked()
    with mock.patch("harborops.core.tasks.run_job.apply_async", side_effect=lambda args, **kw: execute(args[0])):
        page.click("#apply-button")
        expect(page.locator("#job-status-label")).to_have_text("Succeeded")
    expect(page.locator("#job-log")).to_contain_text("harbor-2: refused 2 changes")
    with HarborClient(rows[1].url, username="admin", password="Harbor12345") as harbor:
        assert not harbor.project_exists("search")

    page.goto(f"{live_server.url}/access/drift/")
    expect(page.locator("#preflight .preflight-ineffective")).to_contain_text("ineffective on harbor-2")
    with HarborClient(rows[1].url, username="admin", password="Harbor12345") as harbor:
        harbor.update_configurations({"ldap_group_search_filter": "(objectClass=groupOfNames)"})
    page.click("#preflight-button")  # Check now
    expect(page.locator("#preflight .preflight-ineffective")).to_have_count(0)
    expect(page.locator("#preflight-table tr[data-instance='harbor-2'] .status").first).to_have_text("effective")
