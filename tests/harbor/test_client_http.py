"""Client behaviour against httpx.MockTransport (no simulator needed)."""

from __future__ import annotations

import asyncio
import json
import ssl
from urllib.parse import unquote

import httpx
import pytest

from harborops.harbor import contract
from harborops.harbor.client import AsyncHarborClient, HarborClient
from harborops.harbor.errors import NotSupported
from harborops.harbor.http import ssl_context
from harborops.harbor.query import AnyOf, Fuzzy, Range, build_q
from tests.harbor.fakes import FakeHarbor, json_response


def _client(fake: FakeHarbor, **kw: object) -> HarborClient:
    # Every exchange of these tests is also checked against the spec.
    transport = contract.wrap(fake.transport(), asynchronous=False, mode="record")
    return HarborClient("http://harbor.test", username="admin", password="Harbor12345", transport=transport, **kw)


def test_session_cookie_is_never_sent_back(fake: FakeHarbor) -> None:
    sid = {"Set-Cookie": "sid=abc123; Path=/; HttpOnly"}
    fake.on("GET", "/systeminfo", lambda r: json_response({"harbor_version": "v2.13.0-x"}, headers=sid))
    fake.on("POST", "/projects", lambda r: httpx.Response(201, headers={"Location": "/api/v2.0/projects/7", **sid}))
    client = _client(fake)
    client.detect_version()
    assert client.create_project("p1") == 7
    assert client.create_project("p2") == 7
    assert all("cookie" not in r.headers for r in fake.requests)


def test_async_session_cookie_is_never_sent_back(fake: FakeHarbor) -> None:
    sid = {"Set-Cookie": "sid=abc123; Path=/"}
    fake.on("GET", "/health", lambda r: json_response({"status": "healthy", "components": []}, headers=sid))

    async def run() -> None:
        async with AsyncHarborClient("http://harbor.test", username="a", password="b", transport=fake.transport()) as c:
            await c.health()
            await c.health()

    asyncio.run(run())
    assert all("cookie" not in r.headers for r in fake.requests)


def test_basic_auth_request_id_and_no_credentials_in_repr(fake: FakeHarbor) -> None:
    fake.on("GET", "/health", lambda r: json_response({"status": "healthy", "components": []}))
    client = _client(fake, request_id="req-42")
    client.health()
    req = fake.requests[-1]
    assert req.headers["authorization"].startswith("Basic ")
    assert req.headers["x-request-id"] == "req-42"
    assert "Harbor12345" not in repr(client)


def test_pagination_follows_x_total_count_with_page_size_100(fake: FakeHarbor) -> None:
    rows = [{"project_id": i, "name": f"p{i}"} for i in range(1, 251)]

    def projects(r: httpx.Request) -> httpx.Response:
        page, size = int(r.url.params["page"]), int(r.url.params["page_size"])
        chunk = rows[(page - 1) * size : page * size]
        return json_response(chunk, headers={"X-Total-Count": str(len(rows))})

    fake.on("GET", "/projects", projects)
    got = _client(fake).list_projects()
    assert [p.project_id for p in got] == list(range(1, 251))
    calls = fake.api_requests("/projects")
    assert [(r.url.params["page"], r.url.params["page_size"]) for r in calls] == [
        ("1", "100"),
        ("2", "100"),
        ("3", "100"),
    ]


def test_q_is_double_encoded_and_keys_are_checked(fake: FakeHarbor) -> None:
    fake.on("GET", "/projects", lambda r: json_response([], headers={"X-Total-Count": "0"}))
    q = build_q("project", {"name": Fuzzy("a+b"), "project_id": Range(3, None), "public": True})
    assert q == "name=~a+b,project_id=[3~],public=true"
    _client(fake).list_projects(q=q)
    raw = fake.requests[-1].url.raw_path.decode()
    assert "q=name%253D~a%252Bb" in raw  # '+' survives both decodes as '+', not a space
    once = fake.requests[-1].url.params["q"]
    assert unquote(once) == q  # Harbor's second QueryUnescape gives the original
    with pytest.raises(ValueError, match="unknown q key 'nmae'"):
        build_q("project", {"nmae": "x"})
    with pytest.raises(ValueError, match="unknown sort key"):
        _client(fake).list_projects(sort="-creation")
    assert build_q("audit_log", {"operation": AnyOf("create", "delete")}) == "operation={create delete}"
    assert build_q("project", {"name": "~tilde"}) == "name=\\~tilde"
    with pytest.raises(ValueError, match="contains ','"):
        build_q("project", {"name": "a,b"})


def test_audit_cursor_uses_id_range_sorted_by_id(fake: FakeHarbor) -> None:
    rows = [
        {
            "id": i,
            "username": "u",
            "resource": "r",
            "resource_type": "t",
            "operation": "create",
            "op_time": "2025-01-01T00:00:00Z",
        }
        for i in range(1, 231)
    ]

    def logs(r: httpx.Request) -> httpx.Response:
        q = unquote(r.url.params["q"])
        low = int(q.removeprefix("id=[").removesuffix("~]"))
        assert r.url.params["sort"] == "id" and r.url.params["page"] == "1"
        chunk = [x for x in rows if x["id"] >= low][:100]
        return json_response(chunk, headers={"X-Total-Count": str(len([x for x in rows if x["id"] >= low]))})

    fake.on("GET", "/auditlog-exts", logs)
    got = _client(fake).list_audit_logs("auditlog-exts", after_id=10, max_items=1000)
    assert [x.id for x in got] == list(range(11, 231))
    assert [unquote(r.url.params["q"]) for r in fake.api_requests("/auditlog-exts")] == [
        "id=[11~]",
        "id=[111~]",
        "id=[211~]",
    ]


def test_not_supported_raises_without_a_request(fake: FakeHarbor) -> None:
    fake.version = "v2.12.1-abc"
    client = _client(fake)
    with pytest.raises(NotSupported, match=r"since v2\.13"):
        client.list_audit_logs("auditlog-exts")
    with pytest.raises(NotSupported, match="delete_tag"):
        client.run_gc(delete_tag=True)
    client8 = HarborClient("http://h", transport=fake.transport(), version="v2.8.0")
    with pytest.raises(NotSupported):
        client8.run_gc(workers=2)
    with pytest.raises(ValueError, match=r"1\.\.5 on Harbor 2\.12\.1"):  # handler/gc.go@v2.12.4 validateWorkers
        client.run_gc(workers=6)
    assert [r.url.path for r in fake.requests] == ["/api/v2.0/systeminfo"]  # only the version probe


def test_health_is_judged_by_body_not_status(fake: FakeHarbor) -> None:
    body = {"status": "unhealthy", "components": [{"name": "redis", "status": "unhealthy", "error": "timeout"}]}
    fake.on("GET", "/health", lambda r: json_response(body))
    health = _client(fake).health()
    assert not health.healthy and health.components[0].error == "timeout"


def test_purge_parameter_follows_version(fake: FakeHarbor) -> None:
    sent: list[dict[str, object]] = []

    def purge(r: httpx.Request) -> httpx.Response:
        sent.append(json.loads(r.content))
        return httpx.Response(201, headers={"Location": "/api/v2.0/system/purgeaudit/5"})

    fake.on("POST", "/system/purgeaudit/schedule", purge)
    assert _client(fake).run_purge_audit(retention_hours=24, dry_run=True) == 5
    fake.version = "v2.12.0-abc"
    _client(fake).run_purge_audit(retention_hours=24)
    assert sent[0]["parameters"] == {
        "audit_retention_hour": 24,
        "dry_run": True,
        "include_event_types": "create_artifact,delete_artifact,pull_artifact",
    }
    assert sent[1]["parameters"] == {
        "audit_retention_hour": 24,
        "dry_run": False,
        "include_operations": "create,delete,pull",
    }


def test_gc_job_parameters_never_keep_the_redis_url(fake: FakeHarbor) -> None:
    params = json.dumps(
        {
            "delete_untagged": True,
            "workers": 2,
            "freed_space": 100,
            "redis_url_reg": "redis://:S3cretRedis@redis:6379/1",
        }
    )
    row = {
        "id": 3,
        "job_name": "GARBAGE_COLLECTION",
        "job_kind": "MANUAL",
        "job_parameters": params,
        "job_status": "Success",
    }
    fake.on("GET", "/system/gc/3", lambda r: json_response(row))
    gc = _client(fake).get_gc(3)
    assert gc.job_parameters == {"delete_untagged": True, "workers": 2, "freed_space": 100}
    assert "S3cret" not in repr(gc) and "S3cret" not in gc.model_dump_json()


def test_ssl_context_is_cached_per_ca_bundle() -> None:
    assert ssl_context(None) is ssl_context(None)
    assert ssl_context(None).verify_mode == ssl.CERT_REQUIRED and ssl_context(None).check_hostname


def test_member_and_robot_requests(fake: FakeHarbor) -> None:
    bodies: list[object] = []

    def add(r: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(r.content))
        return httpx.Response(201, headers={"Location": "/api/v2.0/projects/12/members/9"})

    fake.on("POST", "/projects/team1/members", add)
    client = _client(fake)
    dn = "cn=devs,ou=groups,dc=example,dc=com"
    assert client.add_member("team1", "developer", ldap_group_dn=dn) == 9
    assert bodies == [{"role_id": 2, "member_group": {"ldap_group_dn": dn}}]
    assert fake.requests[-1].headers["x-is-resource-name"] == "true"
    with pytest.raises(ValueError, match="unknown role"):
        client.add_member("team1", "owner", username="bob")
