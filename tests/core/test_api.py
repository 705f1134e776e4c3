from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.core.models import ApiToken, JobLogLine, JobRun

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def token_client(user: User) -> tuple[APIClient, str]:
    _, key = ApiToken.issue(user, "test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, key


def test_it_creates_a_token_shows_it_once_and_stores_only_a_digest(bob: User):
    client = APIClient()
    client.force_login(bob)
    r = client.post("/api/tokens/", {"name": "ci"}, format="json")
    assert r.status_code == 201
    key = r.json()["key"]
    token = ApiToken.objects.get(pk=r.json()["id"])
    assert key.startswith(f"hop_{token.token_id}_")
    assert key.split("_", 2)[2] not in token.digest and len(token.digest) == 64
    listed = client.get("/api/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["ci"] and "key" not in listed[0]
    assert ActionLogEntry.objects.filter(action="token.create", actor_name="bob").exists()


def test_a_token_authenticates_with_the_users_role(bob: User):
    client, _ = token_client(bob)
    me = client.get("/api/me/")
    assert me.status_code == 200 and me.json() == {"username": "bob", "role": "operator"}


def test_a_wrong_or_revoked_token_is_refused(bob: User):
    client, key = token_client(bob)
    ApiToken.objects.all().delete()
    assert client.get("/api/me/").status_code == 401
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=key[:-3] + "xyz")
    assert other.get("/api/me/").status_code == 401


def test_jobs_api_lists_filters_and_reads_the_log(vera: User):
    job = JobRun.objects.create(kind="test.steps", status=JobRun.Status.FAILED)
    JobRun.objects.create(kind="test.steps", status=JobRun.Status.SUCCEEDED)
    JobLogLine.objects.bulk_create([JobLogLine(job=job, seq=i, text=f"line {i}") for i in range(1, 4)])
    client, _ = token_client(vera)
    listed = client.get("/api/jobs/?status=failed").json()
    assert [j["id"] for j in listed["results"]] == [job.pk]
    assert [line["text"] for line in client.get(f"/api/jobs/{job.pk}/log/?after=1").json()] == ["line 2", "line 3"]


def test_an_operator_cancels_a_job_through_the_api_and_a_viewer_cannot(bob: User, vera: User):
    job = JobRun.objects.create(kind="test.steps")
    viewer, _ = token_client(vera)
    assert viewer.post(f"/api/jobs/{job.pk}/cancel/").status_code == 403
    operator, _ = token_client(bob)
    r = operator.post(f"/api/jobs/{job.pk}/cancel/")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    entry = ActionLogEntry.objects.get(action="job.cancel")
    assert entry.actor_name == "bob" and entry.after["status"] == "cancelled"


def test_the_schema_and_docs_are_served_without_any_cdn(vera: User):
    client = APIClient()
    client.force_login(vera)
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/jobs/", "/api/action-log/", "/api/tokens/"} <= set(paths)
    for url in ("/api/docs/", "/api/redoc/"):
        html = client.get(url).content.decode()
        assert "cdn" not in html.lower() and "http://" not in html.replace("http://testserver", "")
        assert "/static/drf_spectacular_sidecar/" in html


def test_the_schema_is_generated_once_per_process(vera: User, monkeypatch: pytest.MonkeyPatch) -> None:
    from drf_spectacular.generators import SchemaGenerator

    from harborops.core.api.schema import CachedSchemaView

    monkeypatch.setattr(CachedSchemaView, "_cache", {})
    calls: list[int] = []
    real = SchemaGenerator.get_schema

    def counting(self: SchemaGenerator, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    client = APIClient()
    client.force_login(vera)
    first = client.get("/api/schema/?format=json")
    second = client.get("/api/schema/?format=json")
    yaml = client.get("/api/schema/")
    assert first.status_code == second.status_code == yaml.status_code == 200
    assert first.json() == second.json() and b"openapi:" in yaml.content
    assert len(calls) == 1
