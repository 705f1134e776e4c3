"""Projects, members and roles as Harbor enforces them."""

from __future__ import annotations

import pytest

from harborops.harbor_sim import Fleet, HarborInstance, push_artifact
from tests.harbor_sim.conftest import Api, location_id

PW = "Harbor12345"


@pytest.fixture
def people(inst: HarborInstance) -> None:
    for name in ("dave", "gina", "mona", "nora"):
        inst.add_user(name, PW)


def test_it_returns_location_ids_with_an_empty_201_body(api: Api) -> None:
    c = api()
    r = c.post("/projects", json={"project_name": "alpha", "metadata": {"public": "false"}})
    assert r.status_code == 201 and r.content == b""
    pid = location_id(r)
    assert r.headers["Location"].endswith(f"/api/v2.0/projects/{pid}")
    assert c.get(f"/projects/{pid}").json()["name"] == "alpha"
    r = c.post("/projects", json={"project_name": "beta"}, headers={"X-Resource-Name-In-Location": "true"})
    assert r.headers["Location"].endswith("/projects/beta")


def test_it_rejects_duplicates_and_bad_metadata(api: Api) -> None:
    c = api()
    location_id(c.post("/projects", json={"project_name": "alpha"}))
    assert c.post("/projects", json={"project_name": "alpha"}).status_code == 409
    r = api(checked=False).post("/projects", json={"project_name": "gamma", "metadata": {"public": True}})
    assert r.status_code == 422
    assert c.head("/projects", params={"project_name": "alpha"}).status_code == 200
    assert c.head("/projects", params={"project_name": "nope"}).status_code == 404


def test_anonymous_sees_only_public_projects(api: Api) -> None:
    admin = api()
    location_id(admin.post("/projects", json={"project_name": "secret", "metadata": {"public": "false"}}))
    location_id(admin.post("/projects", json={"project_name": "open", "metadata": {"public": "true"}}))
    anon = api(auth=None)
    names = {p["name"] for p in anon.get("/projects").json()}
    assert names == {"library", "open"}
    assert anon.get("/projects/secret", headers={"X-Is-Resource-Name": "true"}).status_code == 401
    assert anon.post("/projects", json={"project_name": "x"}).status_code == 401


def test_wrong_credentials_fall_back_to_anonymous_like_harbor(api: Api) -> None:
    bad = api(auth=("admin", "wrong"))
    assert [p["name"] for p in bad.get("/projects").json()] == ["library"]
    assert bad.get("/users/current").status_code == 401
    assert "harbor_version" not in bad.get("/systeminfo").json()
    assert api().get("/systeminfo").json()["harbor_version"].startswith("v2.13.0-")


def test_developer_cannot_delete_project_but_project_admin_can(api: Api, inst: HarborInstance, people: None) -> None:
    admin = api()
    pid = location_id(admin.post("/projects", json={"project_name": "team"}))
    users = {u["username"]: u["user_id"] for u in admin.get("/users").json()}
    for name, role in (("dave", 2), ("gina", 3), ("mona", 1), ("nora", 5)):
        body = {"role_id": role, "member_user": {"user_id": users[name]}}
        location_id(admin.post(f"/projects/{pid}/members", json=body))
    assert api(auth=("dave", PW)).delete(f"/projects/{pid}").status_code == 403
    assert (
        api(auth=("gina", PW))
        .post(f"/projects/{pid}/members", json={"role_id": 3, "member_user": {"username": "admin"}})
        .status_code
        == 403
    )
    assert api(auth=("nora", PW)).get(f"/projects/{pid}/members").status_code == 403
    me = api(auth=("dave", PW)).get(f"/projects/{pid}").json()
    assert me["current_user_role_id"] == 2
    assert api(auth=("mona", PW)).delete(f"/projects/{pid}").status_code == 200


def test_non_members_do_not_see_private_projects(api: Api, people: None) -> None:
    location_id(api().post("/projects", json={"project_name": "hidden"}))
    dave = api(auth=("dave", PW))
    assert [p["name"] for p in dave.get("/projects").json()] == ["library"]
    assert dave.get("/projects/hidden", headers={"X-Is-Resource-Name": "true"}).status_code == 403


def test_delete_returns_412_while_repositories_exist(api: Api, inst: HarborInstance) -> None:
    c = api()
    pid = location_id(c.post("/projects", json={"project_name": "full"}))
    push_artifact(inst, "full", "app", "v1", 1234)
    assert c.get(f"/projects/{pid}/_deletable").json() == {
        "deletable": False,
        "message": "the project contains repositories, can not be deleted",
    }
    r = c.delete(f"/projects/{pid}")
    assert r.status_code == 412 and r.json()["errors"][0]["code"] == "PRECONDITION"
    assert c.delete("/projects/full/repositories/app").status_code == 200
    assert c.delete(f"/projects/{pid}").status_code == 200


def test_summary_and_quota(api: Api, inst: HarborInstance) -> None:
    c = api()
    pid = location_id(c.post("/projects", json={"project_name": "q", "storage_limit": 10_000}))
    push_artifact(inst, "q", "app", "v1", 4000)
    s = c.get(f"/projects/{pid}/summary").json()
    assert s["repo_count"] == 1 and s["quota"] == {"hard": {"storage": 10_000}, "used": {"storage": 4000}}
    assert s["project_admin_count"] == 1
    quota = c.get("/quotas", params={"reference": "project", "reference_id": pid}).json()[0]
    assert quota["used"]["storage"] == 4000
    assert c.put(f"/quotas/{quota['id']}", json={"hard": {"storage": 20_000}}).status_code == 200


def test_ldap_group_member_auto_creates_the_usergroup(fleet: Fleet, api: Api) -> None:
    c = api()
    # Harbor attaches LDAP groups at login only with a group search filter (attachLDAPGroup)
    ldap = {"auth_mode": "ldap_auth", "ldap_url": "ldap://ldap.sim:389",
            "ldap_group_base_dn": "ou=groups,dc=example,dc=com", "ldap_group_search_filter": "objectclass=groupOfNames"}
    assert c.put("/configurations", json=ldap).status_code == 200
    pid = location_id(c.post("/projects", json={"project_name": "ldapproj"}))
    dn = "cn=harbor_admin,ou=groups,dc=example,dc=com"
    body = {"role_id": 1, "member_group": {"ldap_group_dn": dn}}
    location_id(c.post(f"/projects/{pid}/members", json=body))
    assert c.post(f"/projects/{pid}/members", json=body).status_code == 409
    groups = c.get("/usergroups").json()
    assert [(g["group_name"], g["group_type"], g["ldap_group_dn"]) for g in groups] == [("harbor_admin", 1, dn)]
    dev_dn = "cn=harbor_dev,ou=groups,dc=example,dc=com"
    location_id(c.post(f"/projects/{pid}/members", json={"role_id": 2, "member_group": {"ldap_group_dn": dev_dn}}))
    # LDAP users get their role through the group; the admin group member can add members, dev can't
    admin_user = api(auth=("admin_user", PW))
    assert admin_user.get("/projects", params={"name": "ldapproj"}).json()[0]["current_user_role_id"] == 1
    assert (
        admin_user.post(
            f"/projects/{pid}/members", json={"role_id": 3, "member_user": {"username": "mike"}}
        ).status_code
        == 201
    )
    dev = api(auth=("dev_user", PW))
    assert (
        dev.post(f"/projects/{pid}/members", json={"role_id": 3, "member_user": {"username": "mike02"}}).status_code
        == 403
    )
    bad = c.post(
        f"/projects/{pid}/members",
        json={"role_id": 2, "member_group": {"ldap_group_dn": "cn=nope,ou=groups,dc=example,dc=com"}},
    )
    # no such entry: SearchGroupByDN's ldap.ErrNotFound is a plain error (src/core/auth/ldap/ldap.go@v2.13.0)
    assert bad.status_code == 500


def test_member_lifecycle(api: Api, people: None) -> None:
    c = api()
    pid = location_id(c.post("/projects", json={"project_name": "life"}))
    mid = location_id(c.post(f"/projects/{pid}/members", json={"role_id": 3, "member_user": {"username": "dave"}}))
    assert c.put(f"/projects/{pid}/members/{mid}", json={"role_id": 1}).status_code == 200
    assert c.get(f"/projects/{pid}/members/{mid}").json()["role_name"] == "projectAdmin"
    dave = api(auth=("dave", PW))
    location_id(dave.post(f"/projects/{pid}/members", json={"role_id": 3, "member_user": {"username": "gina"}}))
    assert c.delete(f"/projects/{pid}/members/{mid}").status_code == 200
    assert {m["entity_name"] for m in c.get(f"/projects/{pid}/members").json()} == {"admin", "gina"}


def test_csrf_rejects_writes_that_carry_the_session_cookie(fleet: Fleet) -> None:
    from tests.harbor_sim.conftest import client_for

    c = client_for(fleet, 1, keep_cookies=True)
    r = c.get("/projects")
    assert "sid" in r.cookies
    r = c.post("/projects", json={"project_name": "csrf"})
    assert r.status_code == 403
    assert r.json() == {"errors": [{"code": "FORBIDDEN", "message": "CSRF token invalid"}]}
    assert c.get("/projects").status_code == 200  # reads still work


def test_every_response_names_the_simulated_version(api: Api) -> None:
    c = api(checked=False)
    for path in ("/ping", "/projects", "/nope"):
        assert c.get(path).headers["X-Harborops-Sim-Version"] == "2.13.0"
