"""A simulated Harbor whose LDAP is the real slapd: /ldap/ping, user and group search, user import,
LDAP-group members and LDAP logins all query the server (issue 3's open part)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from harborops.harbor.client import HarborClient
from harborops.harbor.errors import AuthFailed
from harborops.harbor_sim import Fleet, HarborInstance, SimServer
from harborops.harbor_sim.ldap_backend import LdapServerDirectory, use_ldap_server
from tests.access.conftest import ldap_harbor_config
from tests.support.slapd import (  # noqa: F401  (slapd_without_memberof: fixture)
    BASE,
    USER_PASSWORD,
    Slapd,
    group_dn,
    member_of,
    slapd_without_memberof,
    user_dn,
)

pytestmark = [pytest.mark.embedded]


@pytest.fixture
def harbor(slapd: Slapd) -> Iterator[tuple[HarborInstance, SimServer]]:
    fleet = Fleet.create(1, "2.13.0")
    inst = fleet[1]
    inst.ldap = LdapServerDirectory(inst.config)
    inst.config.update(ldap_harbor_config(slapd))
    with SimServer(fleet) as server:
        yield inst, server


def client(server: SimServer, user: str = "admin", password: str = "Harbor12345") -> HarborClient:  # noqa: S107
    return HarborClient(server.instance_url(1), username=user, password=password)


def test_it_pings_the_real_server_and_tells_bad_credentials_and_down_apart(harbor, slapd: Slapd) -> None:
    _, server = harbor
    with client(server) as c:
        assert c.ldap_ping({}).success is True
        wrong = c.ldap_ping({"ldap_url": slapd.url, "ldap_search_dn": slapd.bind_dn,
                             "ldap_search_password": "not-the-password"})
        assert wrong.success is False and "Invalid Credentials" in wrong.message
        down = c.ldap_ping({"ldap_url": "ldap://127.0.0.1:9", "ldap_search_dn": slapd.bind_dn})
        assert down.success is False and "failed to connect" in down.message


def test_it_searches_users_and_groups_in_slapd_with_escaped_filters(harbor) -> None:
    _, server = harbor
    with client(server) as c:
        assert [u.username for u in c.ldap_search_users("dev")] == ["dev1", "dev2"]
        dev1 = c.ldap_search_users("dev1")[0]
        assert (dev1.realname, dev1.email) == ("Dana Dev", "dev1@example.org")
        # Harbor searches a group name exactly and keeps the first entry (src/pkg/ldap/ldap.go@v2.13.0
        # searchGroup), with ldap_scope from ldap_group_base_dn: no substring search.
        assert c.ldap_search_groups(groupname="team-pay") == []
        assert [g.ldap_group_dn for g in c.ldap_search_groups(groupname="team-payments")] == [
            group_dn("team-payments")]
        assert [g.group_name for g in c.ldap_search_groups(groupdn=group_dn("team-search"))] == ["team-search"]
        assert c.ldap_search_groups(groupname="*)(cn=*") == []
        assert c.ldap_search_users("*)(uid=*") == []
        assert c.ldap_search_groups(groupdn=f"cn=nope,ou=groups,{BASE}") == []


def test_it_imports_users_from_slapd_and_adds_an_ldap_group_member(harbor) -> None:
    inst, server = harbor
    with client(server) as c:
        failed = c.ldap_import_users(["nora", "ghost"])
        assert [(f.uid, f.error) for f in failed] == [("ghost", "unknown_user")]
        assert c.ldap_import_users(["dev1"]) == []
        assert c.ldap_import_users(["dev1", "nora"]) == []  # already in Harbor: on-boarding is idempotent
        assert inst.store.user_by_name("dev1") is not None and inst.store.user_by_name("nora") is not None
        pid = c.create_project("payments")
        c.add_member(pid, "developer", ldap_group_dn=group_dn("team-payments"))
        members = {m.entity_name: m.role_name for m in c.list_members(pid)}
        assert members["team-payments"] == "developer"


def test_an_ldap_user_logs_in_to_the_simulated_harbor_with_the_slapd_password(harbor) -> None:
    inst, server = harbor
    with client(server) as admin:
        pid = admin.create_project("search")
        admin.add_member(pid, "maintainer", ldap_group_dn=group_dn("team-search"))
    with client(server, "dev2", USER_PASSWORD) as dev2:
        assert dev2.current_user().username == "dev2"
        assert [p.name for p in dev2.list_projects(name="search")] == ["search"]
        roles = dev2.get_project("search").current_user_role_ids
        assert roles == [4]  # maintainer through the LDAP group
    with client(server, "dev2", "wrong-password") as wrong, pytest.raises(AuthFailed):
        wrong.current_user()
    assert inst.store.user_by_name("dev2") is not None
    entry = inst.ldap.find_user("dev2")
    assert entry is not None and sorted(entry.group_dns) == [group_dn("team-payments"), group_dn("team-search")]


def test_use_ldap_server_points_a_fleet_at_slapd(slapd: Slapd) -> None:
    fleet = Fleet.create(2, ["2.8.0", "2.15.0"])
    use_ldap_server(fleet, url=slapd.url, bind_dn=slapd.bind_dn, bind_password=slapd.bind_password,
                    base_dn=f"ou=people,{BASE}", group_base_dn=f"ou=groups,{BASE}")
    with SimServer(fleet) as server:
        for n in (1, 2):
            with HarborClient(server.instance_url(n), username="admin", password="Harbor12345") as c:
                assert c.ldap_ping({}).success is True
                assert [u.username for u in c.ldap_search_users("nora")] == ["nora"]
                assert c.get_configurations()["auth_mode"].value == "ldap_auth"


def test_the_in_memory_directory_still_serves_tests_without_slapd() -> None:
    fleet = Fleet.create(1, "2.13.0")
    with SimServer(fleet) as server, client(server) as c:
        assert [u.username for u in c.ldap_search_users("mike")] == ["mike", "mike02"]


def test_the_simulator_command_takes_a_real_ldap_url(slapd: Slapd) -> None:
    import io
    import threading

    from harborops.harbor_sim import cli
    from tests.support.processes import free_port, wait_for

    port, out, stop = free_port(), io.StringIO(), threading.Event()
    args = cli.parser().parse_args([
        "--instances", "1", "--port", str(port), "--ldap-url", slapd.url, "--ldap-bind-dn", slapd.bind_dn,
        "--ldap-bind-password", slapd.bind_password, "--ldap-base-dn", f"ou=people,{BASE}",
        "--ldap-group-base-dn", f"ou=groups,{BASE}"])
    runner = threading.Thread(target=cli.run, args=(args, out, stop), daemon=True)
    runner.start()
    try:
        wait_for(lambda: "Harbor12345" in out.getvalue(), timeout=30, what="the simulator to start")
        with HarborClient(f"http://127.0.0.1:{port}/h/1", username="admin", password="Harbor12345") as c:
            assert [g.group_name for g in c.ldap_search_groups(groupname="team-search")] == ["team-search"]
        with HarborClient(f"http://127.0.0.1:{port}/h/1", username="nora", password=USER_PASSWORD) as nora:
            assert nora.current_user().username == "nora"
    finally:
        stop.set()
        runner.join(timeout=10)


@pytest.mark.parametrize("directory", ["slapd", "slapd_without_memberof"])
def test_harbor_ldap_users_get_group_access_only_where_the_directory_keeps_memberof(
        request: pytest.FixtureRequest, directory: str) -> None:
    """Source: src/core/auth/ldap/ldap.go@v2.13.0 attachLDAPGroup; src/pkg/ldap/ldap.go@v2.13.0 Session.SearchUser /
    SearchLdap (the groups are the user entry's ldap_group_membership_attribute values, default memberof).
    The same groupOfNames data: with the memberof overlay the team mapping works, without it the group is a
    member of the project but its users get nothing."""
    server: Slapd = request.getfixturevalue(directory)
    fleet = Fleet.create(1, "2.13.0")
    inst = fleet[1]
    inst.ldap = LdapServerDirectory(inst.config)
    inst.config.update(ldap_harbor_config(server))
    with SimServer(fleet) as srv:
        with client(srv) as admin:
            pid = admin.create_project("search")
            admin.add_member(pid, "maintainer", ldap_group_dn=group_dn("team-search"))
        with client(srv, "dev2", USER_PASSWORD) as dev2:
            assert dev2.current_user().username == "dev2"  # the login itself works either way
            visible = [p.name for p in dev2.list_projects(name="search")]
    if server.memberof:
        assert member_of(server, "dev2") == [group_dn("team-payments"), group_dn("team-search")]
        assert visible == ["search"]
    else:
        assert member_of(server, "dev2") == []
        assert visible == []  # team mapping ineffective: Harbor attaches no group


def test_overlay_keeps_memberof_for_group_of_names_only(slapd: Slapd) -> None:
    """tests/support/slapd.py: posixGroup / groupOfUniqueNames members carry no memberOf (SERVICES.md)."""
    assert member_of(slapd, "oscar") == [group_dn("harborops-operators")]  # also in hops-operators, uhops-operators
    assert member_of(slapd, group_dn("team-payments-contractors")) == [group_dn("team-payments")]
    assert member_of(slapd, "nobody") == []


def test_empty_group_filter_and_admin_dn_against_slapd(harbor) -> None:
    """Source: src/core/auth/ldap/ldap.go@v2.13.0 attachLDAPGroup (admin DN from the memberof values, TrimLower;
    no group attached when ldap_group_search_filter is empty)."""
    inst, server = harbor
    with client(server) as admin:
        pid = admin.create_project("search")
        admin.add_member(pid, "maintainer", ldap_group_dn=group_dn("team-search"))
    inst.config["ldap_group_search_filter"] = ""
    with client(server, "dev2", USER_PASSWORD) as dev2:
        assert dev2.current_user().admin_role_in_auth is False
        assert [p.name for p in dev2.list_projects(name="search")] == []  # no group attached
    inst.config["ldap_group_admin_dn"] = f" {group_dn('team-payments').upper()}"
    with client(server, "dev2", USER_PASSWORD) as dev2:
        me = dev2.current_user()
        assert me.admin_role_in_auth is True and me.sysadmin_flag is False
    inst.config.update({"ldap_group_search_filter": "(objectClass=groupOfNames)", "ldap_group_admin_dn": ""})
    with client(server, "dev2", USER_PASSWORD) as dev2:
        assert dev2.get_project("search").current_user_role_ids == [4]
    with client(server) as admin:  # the login on-boarded dev2's other group too, DN lower-cased
        assert {g.ldap_group_dn for g in admin.list_usergroups()} == {group_dn("team-search"),
                                                                      group_dn("team-payments")}


def test_import_failures_against_slapd(harbor) -> None:
    """Source: src/pkg/ldap/manager.go@v2.13.0 manager.ImportUser: the search DN cannot bind →
    failed_search_user per uid; an LDAP URL nothing listens on fails Session.Open → 500."""
    inst, server = harbor
    with client(server) as c:
        inst.config["ldap_search_password"] = "wrong-password"
        assert [(f.uid, f.error) for f in c.ldap_import_users(["dev1"])] == [("dev1", "failed_search_user")]
    from tests.support.processes import free_port

    inst.config["ldap_url"] = f"ldap://127.0.0.1:{free_port()}"
    with httpx.Client(base_url=f"{server.instance_url(1)}/api/v2.0", auth=("admin", "Harbor12345")) as raw:
        r = raw.post("/ldap/users/import", json={"ldap_uid_list": ["dev1"]})
    assert r.status_code == 500 and r.json()["errors"][0]["message"] == "internal server error"


def test_groups_are_verified_with_the_user_search_scope_not_the_group_scope(harbor) -> None:
    """Source: src/pkg/ldap/ldap.go@v2.3.0, @v2.13.0, @v2.15.0 searchGroup → SearchLdapAttribute searches at the
    group's DN with ``s.basicCfg.Scope`` (``ldap_scope``); ``ldap_group_search_scope`` is never read outside
    tests. One level (1) leaves the group entry itself out, so verifyGroupInLDAP finds no group at login."""
    inst, server = harbor
    with client(server) as admin:
        pid = admin.create_project("search")
        admin.add_member(pid, "maintainer", ldap_group_dn=group_dn("team-search"))
    inst.config.update({"ldap_scope": 2, "ldap_group_search_scope": 1})  # the group scope changes nothing
    with client(server, "dev2", USER_PASSWORD) as dev2:
        assert [p.name for p in dev2.list_projects(name="search")] == ["search"]
    inst.config.update({"ldap_scope": 1, "ldap_group_search_scope": 2})  # users one level below ou=people: found
    with client(server, "dev2", USER_PASSWORD) as dev2:
        assert dev2.current_user().username == "dev2"
        assert [p.name for p in dev2.list_projects(name="search")] == []  # the group is never attached
    with client(server) as admin:
        assert admin.ldap_search_groups(groupdn=group_dn("team-search")) == []
        # by name the search starts at ldap_group_base_dn, one level above the group: found
        assert [g.group_name for g in admin.ldap_search_groups(groupname="team-search")] == ["team-search"]
    inst.config["ldap_scope"] = 2  # subtree again: the search at the group's DN includes the entry
    with client(server, "dev2", USER_PASSWORD) as dev2:
        assert [p.name for p in dev2.list_projects(name="search")] == ["search"]
