"""page/page_size defaults and limits, X-Total-Count and Link headers, q and sort."""

from __future__ import annotations

from harborops.harbor_sim import HarborInstance
from tests.harbor_sim.conftest import Api, location_id


def _projects(api: Api, n: int) -> None:
    c = api()
    for i in range(n):
        location_id(c.post("/projects", json={"project_name": f"p{i:03d}"}))


def test_default_page_size_is_10_with_total_and_next_link(api: Api) -> None:
    _projects(api, 24)  # + library = 25
    r = api().get("/projects")
    assert len(r.json()) == 10
    assert r.headers["X-Total-Count"] == "25"
    assert r.headers["Link"] == '</h/1/api/v2.0/projects?page=2&page_size=10>; rel="next"'


def test_middle_page_links_prev_and_next(api: Api) -> None:
    _projects(api, 24)
    r = api().get("/projects", params={"page": 2, "page_size": 10, "q": "name=~p"})
    assert r.headers["X-Total-Count"] == "24"
    assert r.headers["Link"] == (
        '</h/1/api/v2.0/projects?q=name=~p&page=1&page_size=10>; rel="prev" , '
        '</h/1/api/v2.0/projects?q=name=~p&page=3&page_size=10>; rel="next"'
    )
    last = api().get("/projects", params={"page": 3, "page_size": 10})
    assert len(last.json()) == 5 and 'rel="next"' not in last.headers["Link"]


def test_page_size_above_100_is_422(api: Api) -> None:
    r = api(checked=False).get("/projects", params={"page_size": 101})
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"] == (
        "validation failure list:\npage_size in query should be less than or equal to 100"
    )
    assert api().get("/projects", params={"page_size": 100}).status_code == 200


def test_members_are_paginated_with_default_10(api: Api, inst: HarborInstance) -> None:
    c = api()
    pid = location_id(c.post("/projects", json={"project_name": "big"}))
    for i in range(14):
        u = inst.add_user(f"user{i}")
        location_id(c.post(f"/projects/{pid}/members", json={"role_id": 3, "member_user": {"user_id": u.user_id}}))
    r = c.get(f"/projects/{pid}/members")
    assert len(r.json()) == 10 and r.headers["X-Total-Count"] == "15"


def test_unknown_q_and_sort_keys_are_silently_ignored(api: Api) -> None:
    _projects(api, 3)
    c = api()
    assert c.get("/projects", params={"q": "nmae=p000"}).headers["X-Total-Count"] == "4"
    names = [p["name"] for p in c.get("/projects", params={"sort": "-bogus"}).json()]
    assert names == sorted(names)
    desc = [p["name"] for p in c.get("/projects", params={"sort": "-name"}).json()]
    assert desc == sorted(desc, reverse=True)
    assert [p["name"] for p in c.get("/projects", params={"q": "name={p000 p002}"}).json()] == ["p000", "p002"]
