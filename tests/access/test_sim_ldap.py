"""A simulated Harbor whose LDAP is the real slapd: /ldap/ping, user and group search, user import,
LDAP-group members and LDAP logins all query the server (issue 3's open part)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harborops.harbor.client import HarborClient
from harborops.harbor.errors import AuthFailed
from harborops.harbor_sim import Fleet, HarborInstance, SimServer
from harborops.harbor_sim.ldap_backend import LdapServerDirectory, use_ldap_server
from tests.access.conftest import ldap_harbor_config
from tests.support.slapd import BASE, USER_PASSWORD, Slapd, group_dn, user_dn

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
        groups = c.ldap_search_groups(groupname="team-pay")
        assert sorted(g.ldap_group_dn for g in groups) == [group_dn("team-payments"),
                                                            group_dn("team-payments-contractors")]
        assert [g.group_name for g in c.ldap_search_groups(groupdn=group_dn("team-search"))] == ["team-search"]
        assert c.ldap_search_groups(groupname="*)(cn=*") == []
        assert c.ldap_search_users("*)(uid=*") == []
        assert c.ldap_search_groups(groupdn=f"cn=nope,ou=groups,{BASE}") == []


def test_it_imports_users_from_slapd_and_adds_an_ldap_group_member(harbor) -> None:
    inst, server = harbor
    with client(server) as c:
        failed = c.ldap_import_users(["nora", "ghost"])
        assert [(f.uid, f.error) for f in failed] == [("ghost", "not found")]
        assert c.ldap_import_users(["dev1"]) == []
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
    assert sorted(inst.ldap.groups_of(user_dn("dev2"))) == [group_dn("team-payments"), group_dn("team-search")]


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
