"""LDAP groups at login, user groups, LDAP user import and project members, as Harbor's source does them
(issue #10 behaviours 1, 2 and the member part of 8). The in-memory directory; tests/access/test_sim_ldap.py
does the same against the real slapd."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harborops.harbor_sim import Fleet, HarborInstance
from harborops.harbor_sim.ldap import InMemoryLdap, match_filter, under_base_dn
from tests.harbor_sim.conftest import ADMIN, client_for, location_id

PW = "Harbor12345"
GROUPS = "ou=groups,dc=example,dc=com"
DEV_DN = f"cn=harbor_dev,{GROUPS}"
LDAP_GROUPS = {"auth_mode": "ldap_auth", "ldap_url": "ldap://ldap.sim:389", "ldap_uid": "cn",
               "ldap_base_dn": "dc=example,dc=com", "ldap_group_base_dn": GROUPS,
               "ldap_group_search_filter": "(objectClass=groupOfNames)", "ldap_group_attribute_name": "cn"}


class Harbor:
    """One simulated Harbor with its own in-memory directory and clients on it."""

    def __init__(self, version: str = "2.13.0", *, memberof: bool = True, **config: Any) -> None:
        self.fleet = Fleet.create(1, version, ldap=InMemoryLdap.harbor_test_directory(memberof=memberof))
        self.inst: HarborInstance = self.fleet[1]
        self.inst.config.update({**LDAP_GROUPS, **config})
        self.clients: list[httpx.Client] = []

    def api(self, auth: tuple[str, str] | None = ADMIN, *, checked: bool = True) -> httpx.Client:
        c = client_for(self.fleet, 1, auth=auth, checked=checked)
        self.clients.append(c)
        return c

    def close(self) -> None:
        for c in self.clients:
            c.close()


@pytest.fixture
def harbor() -> Iterator[Any]:
    made: list[Harbor] = []

    def make(version: str = "2.13.0", **kwargs: Any) -> Harbor:
        h = Harbor(version, **kwargs)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


def private_project_with_dev_group(h: Harbor) -> int:
    c = h.api()
    pid = location_id(c.post("/projects", json={"project_name": "team", "metadata": {"public": "false"}}))
    location_id(c.post(f"/projects/{pid}/members", json={"role_id": 2, "member_group": {"ldap_group_dn": DEV_DN}}))
    return pid


def roles_of(h: Harbor, user: str, project: str = "team") -> list[int]:
    rows = h.api((user, PW)).get("/projects", params={"name": project}).json()
    return [r for p in rows if p["name"] == project for r in (p.get("current_user_role_ids") or [])]


# --- behaviour 1: LDAP groups at login -------------------------------------------------------------------
@pytest.mark.parametrize("memberof", [True, False])
def test_login_attaches_groups_only_from_the_users_memberof(harbor: Any, memberof: bool) -> None:
    """Source: src/core/auth/ldap/ldap.go@v2.13.0 attachLDAPGroup (ldapUsers[0].GroupDNList);
    src/pkg/ldap/ldap.go@v2.13.0 Session.SearchUser (GroupDNList = the membership attribute's values only).
    The group lists dev_user as ``member`` either way: without memberOf on the user entry, no group."""
    h = harbor(memberof=memberof)
    private_project_with_dev_group(h)
    assert roles_of(h, "dev_user") == ([2] if memberof else [])


@pytest.mark.parametrize(("attribute", "expected"), [("memberof", [2]), ("MemberOf", [2]), ("isMemberOf", [])])
def test_the_membership_attribute_is_configurable(harbor: Any, attribute: str, expected: list[int]) -> None:
    """Source: src/pkg/ldap/ldap.go@v2.13.0 Session.SearchUser (case-insensitive attribute name,
    ldap_group_membership_attribute; default memberof in src/lib/config/metadata/metadatalist.go@v2.13.0)."""
    h = harbor(ldap_group_membership_attribute=attribute)
    private_project_with_dev_group(h)
    assert roles_of(h, "dev_user") == expected


def test_an_empty_group_filter_attaches_no_group_but_the_admin_dn_still_counts(harbor: Any) -> None:
    """Source: src/core/auth/ldap/ldap.go@v2.3.0, @v2.8.0, @v2.12.0, @v2.13.0, @v2.15.0 attachLDAPGroup: the admin DN is
    compared (utils.TrimLower) with each membership value first; then 'skip to attach group when
    ldap_group_search_filter is empty'."""
    h = harbor(ldap_group_search_filter="", ldap_group_admin_dn=f"  CN=Harbor_Admin,{GROUPS.upper()} ")
    private_project_with_dev_group(h)
    assert roles_of(h, "dev_user") == []
    admin_user = h.api(("admin_user", PW))
    me = admin_user.get("/users/current").json()
    assert me["admin_role_in_auth"] is True and me["sysadmin_flag"] is False
    assert admin_user.get("/configurations").status_code == 200  # sysadmin for this session
    assert h.api().get("/usergroups").json() == [  # login on-boarded nothing; the member add did
        {"id": 1, "group_name": "harbor_dev", "group_type": 1, "ldap_group_dn": DEV_DN}]
    # admin_role_in_auth belongs to the caller's session: never on someone else's record or a listing
    other = h.api(checked=False).get(f"/users/{me['user_id']}").json()  # (not in the spec extract)
    assert other["admin_role_in_auth"] is False
    assert all(u["admin_role_in_auth"] is False for u in admin_user.get("/users").json())


@pytest.mark.parametrize("config", [{"ldap_group_base_dn": "ou=elsewhere,dc=example,dc=com"},
                                    {"ldap_group_search_filter": "(objectClass=posixGroup)"}])
def test_groups_outside_the_group_base_dn_or_filter_are_not_attached(harbor: Any, config: dict[str, str]) -> None:
    """Source: src/core/auth/ldap/ldap.go@v2.13.0 verifyGroupInLDAP → src/pkg/ldap/ldap.go@v2.13.0
    SearchGroupByDN / searchGroup (UnderBaseDN, createGroupSearchFilter)."""
    h = harbor()
    private_project_with_dev_group(h)
    h.inst.config.update(config)
    assert roles_of(h, "dev_user") == []


def test_login_onboards_the_users_groups_lower_cased(harbor: Any) -> None:
    """Source: src/pkg/usergroup/manager.go@v2.13.0 Populate / onBoardLdapUserGroup (TrimLower; a name taken by
    another DN makes the DN the name); src/core/auth/ldap/ldap.go@v2.13.0 attachLDAPGroup."""
    h = harbor()
    h.inst.ldap.add_user("Zed", PW)
    other_dev = h.inst.ldap.add_group("harbor_dev", ["Zed"], dn="CN=harbor_dev,OU=Groups,DC=Example,DC=com")
    h.inst.ldap.users["zed"].attributes["memberOf"] = [f"  {other_dev.dn} ", DEV_DN]
    assert h.api(("Zed", PW)).get("/users/current").status_code == 200
    groups = {g["ldap_group_dn"]: g["group_name"] for g in h.api().get("/usergroups").json()}
    assert groups == {"cn=harbor_dev,ou=groups,dc=example,dc=com": "harbor_dev"}  # same DN, lower-cased
    h.inst.ldap.add_group("harbor_dev", [], dn="cn=harbor_dev,ou=sub,ou=groups,dc=example,dc=com")
    h.inst.ldap.users["zed"].attributes["memberOf"].append("cn=harbor_dev,ou=sub,ou=groups,dc=example,dc=com")
    h.api(("Zed", PW)).get("/users/current")
    names = sorted(g["group_name"] for g in h.api().get("/usergroups").json())
    assert names == ["cn=harbor_dev,ou=sub,ou=groups,dc=example,dc=com", "harbor_dev"]


# --- behaviour 2: user groups ------------------------------------------------------------------------------
def test_ldap_group_dn_query_matches_the_stored_lower_case_dn_exactly(harbor: Any) -> None:
    """Source: src/pkg/usergroup/dao/dao.go@v2.13.0 Add (TrimLower); src/server/v2.0/handler/usergroup.go@v2.4.0
    and @v2.15.0 ListUserGroups (LdapGroupDN keyword = the parameter, exact; GroupType by auth mode)."""
    h = harbor()
    c = h.api()
    gid = location_id(c.post("/usergroups", json={"group_name": "devs", "group_type": 1,
                                                  "ldap_group_dn": f" CN=Harbor_Dev,{GROUPS} "}))
    assert c.get(f"/usergroups/{gid}").json()["ldap_group_dn"] == DEV_DN
    assert [g["id"] for g in c.get("/usergroups", params={"ldap_group_dn": DEV_DN}).json()] == [gid]
    assert c.get("/usergroups", params={"ldap_group_dn": f"CN=Harbor_Dev,{GROUPS}"}).json() == []
    # the same DN under another name is a second group: the duplicate check is by (name, type) only
    second = location_id(c.post("/usergroups", json={"group_name": "devs2", "group_type": 1, "ldap_group_dn": DEV_DN}))
    assert len(c.get("/usergroups", params={"ldap_group_dn": DEV_DN}).json()) == 2 and second != gid
    missing = c.post("/usergroups", json={"group_name": "x", "group_type": 1, "ldap_group_dn": f"cn=nope,{GROUPS}"})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["message"] == f"LDAP Group DN is not found: DN:cn=nope,{GROUPS}"


def test_groups_listed_are_those_of_the_auth_mode(harbor: Any) -> None:
    """Source: src/server/v2.0/handler/usergroup.go@v2.13.0 ListUserGroups (ldap_auth: LDAP groups and the DN
    filter; http_auth: HTTP groups; other modes: no type filter, the DN parameter ignored)."""
    h = harbor()
    c = h.api()
    location_id(c.post("/usergroups", json={"group_name": "devs", "group_type": 1, "ldap_group_dn": DEV_DN}))
    h.inst.config["auth_mode"] = "http_auth"
    location_id(c.post("/usergroups", json={"group_name": "web", "group_type": 2}))
    assert [g["group_name"] for g in c.get("/usergroups").json()] == ["web"]
    h.inst.config["auth_mode"] = "ldap_auth"
    assert [g["group_name"] for g in c.get("/usergroups").json()] == ["devs"]
    h.inst.config["auth_mode"] = "oidc_auth"
    assert [g["group_name"] for g in c.get("/usergroups", params={"ldap_group_dn": "cn=x"}).json()] == ["devs", "web"]


# --- behaviour 2: members by group DN ---------------------------------------------------------------------
def _add_group(c: httpx.Client, pid: int, dn: str, role: int = 2) -> httpx.Response:
    return c.post(f"/projects/{pid}/members", json={"role_id": role, "member_group": {"ldap_group_dn": dn}})


def test_a_member_dn_differing_only_in_case_hits_the_duplicate_group_error(harbor: Any) -> None:
    """Source: src/controller/member/controller.go@v2.13.0 controller.Create (exact DN lookup, then
    auth.SearchAndOnBoardGroup); src/core/auth/ldap/ldap.go@v2.13.0 OnBoardGroup (ErrDuplicateLDAPGroup, a plain
    error: 500 'internal server error' by src/lib/http/error.go@v2.13.0 SendError)."""
    h = harbor()
    c = h.api()
    a = location_id(c.post("/projects", json={"project_name": "a"}))
    b = location_id(c.post("/projects", json={"project_name": "b"}))
    location_id(_add_group(c, a, f"CN=harbor_dev,{GROUPS.upper()}"))  # first time: on-boarded, lower-cased
    assert [g["ldap_group_dn"] for g in c.get("/usergroups").json()] == [DEV_DN]
    location_id(_add_group(c, b, DEV_DN))  # the stored form: found by the exact lookup
    c_upper = location_id(c.post("/projects", json={"project_name": "c"}))
    r = _add_group(c, c_upper, f"CN=harbor_dev,{GROUPS.upper()}")
    assert r.status_code == 500 and r.json()["errors"][0] == {"code": "UNKNOWN", "message": "internal server error"}
    assert _add_group(c, a, DEV_DN).status_code == 409


def test_on_2_3_adding_an_onboarded_group_by_dn_is_always_the_duplicate_error(harbor: Any) -> None:
    """Source: src/controller/member/controller.go@v2.3.0 controller.Create (no DN lookup before
    SearchAndOnBoardGroup); src/core/auth/ldap/ldap.go@v2.3.0 OnBoardGroup; first lookup @v2.4.0."""
    h = harbor("2.3.0")
    c = h.api()
    a = location_id(c.post("/projects", json={"project_name": "a"}))
    b = location_id(c.post("/projects", json={"project_name": "b"}))
    location_id(_add_group(c, a, DEV_DN))
    assert _add_group(c, b, DEV_DN).status_code == 500
    gid = c.get("/usergroups").json()[0]["id"]
    location_id(c.post(f"/projects/{b}/members", json={"role_id": 2, "member_group": {"id": gid}}))


def test_member_dns_harbor_cannot_find(harbor: Any) -> None:
    """Source: src/core/auth/ldap/ldap.go@v2.13.0 SearchGroup (NotFoundError outside the group base DN → 404;
    SearchGroupByDN's ldap.ErrNotFound for a missing entry and ErrInvalidLDAPGroupDN are plain errors → 500)."""
    h = harbor()
    c = h.api()
    pid = location_id(c.post("/projects", json={"project_name": "a"}))
    outside = _add_group(c, pid, "cn=harbor_dev,ou=people,dc=example,dc=com")
    assert outside.status_code == 404
    assert outside.json()["errors"][0]["message"].startswith("failed to searh ldap group with groupDN:")
    assert _add_group(c, pid, f"cn=nope,{GROUPS}").status_code == 500
    assert _add_group(c, pid, "not a dn").status_code == 500


# --- behaviour 8: members by id ----------------------------------------------------------------------------
@pytest.mark.parametrize(("version", "status"), [("2.6.1", 201), ("2.6.2", 400), ("2.13.0", 400), ("2.15.0", 400)])
def test_unknown_member_user_or_group_id(harbor: Any, version: str, status: int) -> None:
    """Source: src/controller/member/controller.go@v2.6.2 and @v2.15.0 controller.Create ('User %d not found',
    'Group %d not found', BadRequestError); absent @v2.6.1 (the id was stored as given)."""
    h = harbor(version)
    c = h.api()
    pid = location_id(c.post("/projects", json={"project_name": "a"}))
    user = c.post(f"/projects/{pid}/members", json={"role_id": 2, "member_user": {"user_id": 99}})
    group = c.post(f"/projects/{pid}/members", json={"role_id": 2, "member_group": {"id": 98}})
    assert (user.status_code, group.status_code) == (status, status)
    if status == 400:
        assert user.json()["errors"][0]["message"] == "User 99 not found"
        assert group.json()["errors"][0]["message"] == "Group 98 not found"


def test_member_checks_run_entity_then_duplicate_then_role(harbor: Any) -> None:
    """Source: src/controller/member/controller.go@v2.13.0 controller.Create (ErrDuplicateProjectMember before
    ErrInvalidRole)."""
    h = harbor()
    c = h.api(checked=False)
    pid = location_id(c.post("/projects", json={"project_name": "a"}))
    again = c.post(f"/projects/{pid}/members", json={"role_id": 9, "member_user": {"user_id": 1}})  # the creator
    assert again.status_code == 409
    assert again.json()["errors"][0]["message"] == "The project member specified already exist"
    h.inst.add_user("erin", "Secret123")
    bad_role = c.post(f"/projects/{pid}/members", json={"role_id": 9, "member_user": {"username": "erin"}})
    assert bad_role.status_code == 400
    assert bad_role.json()["errors"][0]["message"] == "Failed to update project member, role is not in 1,2,3"


# --- behaviour 2: LDAP user import -------------------------------------------------------------------------
def test_import_is_idempotent_and_uses_harbors_failure_codes(harbor: Any) -> None:
    """Source: src/pkg/ldap/manager.go@v2.3.0 and @v2.15.0 manager.ImportUser (empty_uid, unknown_user; Session.Open
    failure returned → 500); src/pkg/user/manager.go@v2.13.0 Onboard (an existing user is returned)."""
    h = harbor()
    c = h.api()
    assert c.post("/ldap/users/import", json={"ldap_uid_list": ["mike"]}).status_code == 200
    assert c.post("/ldap/users/import", json={"ldap_uid_list": ["mike"]}).status_code == 200
    r = c.post("/ldap/users/import", json={"ldap_uid_list": ["mike", "ghost", ""]})
    assert r.status_code == 404
    assert r.json() == [{"uid": "ghost", "error": "unknown_user"}, {"uid": "", "error": "empty_uid"}]
    h.inst.ldap.reachable = False
    down = c.post("/ldap/users/import", json={"ldap_uid_list": ["mike02"]})
    assert down.status_code == 500


# --- the in-memory directory's helpers -----------------------------------------------------------------------
def test_filters_and_base_dns_of_the_in_memory_directory() -> None:
    attrs = {"objectClass": ["groupOfNames"], "cn": ["harbor_dev"]}
    assert match_filter("(&(objectclass=groupOfNames)(cn=*))", attrs)
    assert match_filter("(|(objectClass=posixGroup)(cn=harbor_*))", attrs)
    assert not match_filter("(!(cn=harbor_dev))", attrs)
    assert not match_filter("(cn=harbor_dev", attrs)  # invalid: matches nothing
    assert under_base_dn("OU=Groups, dc=example,dc=com", DEV_DN)
    assert under_base_dn("", DEV_DN)
    assert not under_base_dn("ou=people,dc=example,dc=com", DEV_DN)
