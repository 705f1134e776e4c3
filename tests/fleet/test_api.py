"""The fleet API: instances with write-only credentials, filters, sweep through a job, history."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.core.jobs.runner import execute
from harborops.core.models import JobRun
from harborops.fleet.models import Instance, StatusChange
from harborops.harbor_sim import Fleet, SimServer

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def served() -> Iterator[SimServer]:
    with SimServer(Fleet.create(2, ["2.8.0", "2.15.0"])) as server:
        yield server


def test_an_admin_adds_an_instance_and_the_password_never_comes_back(alice: User, served: SimServer):
    r = api(alice).post("/api/fleet/instances/", {
        "name": "eu-1", "url": served.instance_url(1) + "/", "username": "admin", "password": "Harbor12345",
        "labels": {"env": "prod", "region": "eu"}}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert "password" not in body and body["has_password"] is True and body["status"] == "unknown"
    instance = Instance.objects.get(name="eu-1")
    assert instance.password == "Harbor12345" and instance.url == served.instance_url(1)
    entry = ActionLogEntry.objects.get(action="fleet.instance.create")
    assert "Harbor12345" not in str(entry.after)


def test_a_new_instance_needs_a_password_and_a_valid_url(alice: User):
    client = api(alice)
    r = client.post("/api/fleet/instances/", {"name": "x", "url": "ftp://h", "username": "a", "password": "p"},
                    format="json")
    assert r.status_code == 400 and set(r.json()) == {"url"}
    r = client.post("/api/fleet/instances/", {"name": "x", "url": "http://127.0.0.1:9", "username": "a"},
                    format="json")
    assert r.status_code == 400 and set(r.json()) == {"password"}


def test_an_update_without_password_keeps_it(alice: User):
    instance = Instance.objects.create(name="eu-1", url="http://127.0.0.1:9", username="admin", password="old-pass")
    r = api(alice).patch(f"/api/fleet/instances/{instance.pk}/", {"notes": "moved", "password": ""}, format="json")
    assert r.status_code == 200
    instance.refresh_from_db()
    assert instance.notes == "moved" and instance.password == "old-pass"


def test_filters_by_label_status_and_search(vera: User):
    Instance.objects.create(name="eu-1", url="http://127.0.0.1:9", username="a", password="p",
                            labels={"env": "prod"}, status="up")
    Instance.objects.create(name="us-1", url="http://127.0.0.2:9", username="a", password="p",
                            labels={"env": "dev"}, status="down")
    client = api(vera)

    def names(query: str) -> list[str]:
        return [i["name"] for i in client.get(f"/api/fleet/instances/?{query}").json()["results"]]

    assert names("label=env=prod") == ["eu-1"]
    assert names("status=down") == ["us-1"]
    assert names("q=us") == ["us-1"]


def test_an_operator_sweeps_one_instance_and_reads_its_history(bob: User, served: SimServer):
    instance = Instance.objects.create(name="eu-1", url=served.instance_url(2), username="admin",
                                       password="Harbor12345")
    client = api(bob)
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        r = client.post(f"/api/fleet/instances/{instance.pk}/sweep/")
    assert r.status_code == 202 and r.json()["kind"] == "fleet.sweep"
    execute(r.json()["id"])
    assert JobRun.objects.get(pk=r.json()["id"]).status == JobRun.Status.SUCCEEDED
    detail = client.get(f"/api/fleet/instances/{instance.pk}/").json()
    assert detail["status"] == "up" and detail["version"].startswith("v2.15.0")
    snapshots = client.get(f"/api/fleet/instances/{instance.pk}/snapshots/").json()["results"]
    assert len(snapshots) == 1 and snapshots[0]["status"] == "up"
    changes = client.get(f"/api/fleet/instances/{instance.pk}/status-changes/").json()["results"]
    assert [(c["from_status"], c["to_status"]) for c in changes] == [("unknown", "up")]
    assert StatusChange.objects.count() == 1


def test_test_connection_says_what_is_wrong(alice: User, served: SimServer):
    client = api(alice)
    ok = client.post("/api/fleet/instances/test-connection/", {
        "url": served.instance_url(1), "username": "admin", "password": "Harbor12345"}, format="json").json()
    assert ok["ok"] is True and ok["version"].startswith("v2.8.0")
    bad = client.post("/api/fleet/instances/test-connection/", {
        "url": served.instance_url(1), "username": "admin", "password": "wrong-pass"}, format="json").json()
    assert bad["ok"] is False and bad["problem"] == "auth"
    assert "wrong-pass" not in str(bad)
