"""The product follows Harbor's LDAP group rules (issue #10 behaviour 2): group DNs are stored trimmed and
lower-cased and matched exactly, a group Harbor already has is added by id (adding it by DN again can be
Harbor's duplicate-group 500, always on 2.3), and LDAP user import is idempotent."""

from __future__ import annotations

from unittest import mock

import pytest

from harborops.access.services import mappings
from harborops.access.tasks import start_apply
from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet.models import Instance
from harborops.harbor.client import HarborClient
from harborops.harbor_sim import Fleet, SimServer
from harborops.harbor_sim.ldap_backend import use_ldap_server
from tests.access.conftest import UseLdap
from tests.support.slapd import BASE, USER_PASSWORD, Slapd, group_dn

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]
ACTOR = Actor.system("tester")
SEARCH = group_dn("team-search")


def apply() -> JobRun:
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = start_apply(actor=ACTOR, mapping_ids=None)
    execute(job.pk)
    job.refresh_from_db()
    return job


def log_of(job: JobRun) -> str:
    return "\n".join(JobLogLine.objects.filter(job=job).order_by("seq").values_list("text", flat=True))


@pytest.mark.parametrize("version", ["2.3.0", "2.13.0"])
def test_a_group_harbor_already_has_is_added_by_id(use_ldap: UseLdap, slapd: Slapd, version: str) -> None:
    """Source: src/controller/member/controller.go@v2.3.0 controller.Create (every DN add on-boards, and
    src/core/auth/ldap/ldap.go@v2.3.0 OnBoardGroup refuses a stored DN: 500); @v2.13.0 the exact-DN lookup.
    The group exists because an LDAP user logged in (usergroup Populate) before the mapping was applied."""
    use_ldap("groupOfNames")
    sim = Fleet.create(1, version)
    use_ldap_server(sim, url=slapd.url, bind_dn=slapd.bind_dn, bind_password=slapd.bind_password,
                    base_dn=f"ou=people,{BASE}", group_base_dn=f"ou=groups,{BASE}")
    with SimServer(sim) as server:
        url = server.instance_url(1)
        with HarborClient(url, username="dev2", password=USER_PASSWORD) as dev2:
            dev2.current_user()  # login on-boards team-search and team-payments
        with HarborClient(url, username="admin", password="Harbor12345") as admin:
            existing = admin.find_ldap_usergroup(SEARCH.upper())
            assert existing is not None and existing.ldap_group_dn == SEARCH
        Instance.objects.create(name="h", url=url, username="admin", password="Harbor12345")
        mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="search", role="developer")
        mappings.create_mapping(actor=ACTOR, ldap_group_dn=SEARCH, project_name="other", role="guest")
        job = apply()
        assert job.status == JobRun.Status.SUCCEEDED, log_of(job)
        with HarborClient(url, username="admin", password="Harbor12345") as admin:
            for project, role in (("search", "developer"), ("other", "guest")):
                got = {m.entity_name: m.role_name for m in admin.list_members(project)}
                assert got["team-search"] == role
            assert [g.id for g in admin.list_usergroups() if g.ldap_group_dn == SEARCH] == [existing.id]
        with HarborClient(url, username="dev2", password=USER_PASSWORD) as dev2:
            assert {"other", "search"} <= {p.name for p in dev2.list_projects(public=False)}


def test_list_usergroups_sends_the_dn_as_harbor_stores_it(use_ldap: UseLdap, slapd: Slapd) -> None:
    """Source: src/pkg/usergroup/dao/dao.go@v2.13.0 Add (TrimLower) and
    src/server/v2.0/handler/usergroup.go@v2.13.0 ListUserGroups (exact LdapGroupDN keyword)."""
    sim = Fleet.create(1, "2.13.0")
    use_ldap_server(sim, url=slapd.url, bind_dn=slapd.bind_dn, bind_password=slapd.bind_password,
                    base_dn=f"ou=people,{BASE}", group_base_dn=f"ou=groups,{BASE}")
    with SimServer(sim) as server, HarborClient(server.instance_url(1), username="admin",
                                                password="Harbor12345") as admin:
        gid = admin.create_usergroup("search", ldap_group_dn=f"  {SEARCH.upper()}")
        assert [g.id for g in admin.list_usergroups(ldap_group_dn=f" {SEARCH.upper()} ")] == [gid]
        assert admin.find_ldap_usergroup(group_dn("team-payments")) is None
