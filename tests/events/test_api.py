"""The events API: keyset search across both sources, detail, activity, figures, jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.contrib.auth.models import User
from django.test import Client

from harborops.audit.models import ActionLogEntry
from harborops.core.models import ApiToken, JobRun
from harborops.events.models import HarborEvent, IngestAnomaly
from tests.events.factories import actions, harbor_events, make_instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)


def api(user: User) -> Client:
    _, key = ApiToken.issue(user, "test")
    return Client(HTTP_AUTHORIZATION=f"Token {key}")


def test_it_pages_through_both_sources_with_next(vera: User) -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 23, start=T0, project="payments")
    actions(4, start=T0, object_repr="payments")
    c = api(vera)
    got: list[tuple[str, int]] = []
    url: str | None = "/api/events/?project=payments&limit=10"
    while url:
        body = c.get(url).json()
        got.extend((r["source"], r["id"]) for r in body["results"])
        url = body["next"]
    assert len(got) == len(set(got)) == 27
    assert {s for s, _ in got} == {"harbor", "harborops"}
    first = c.get("/api/events/", {"limit": 1}).json()["results"][0]
    assert set(first) == {"time", "source", "id", "instance", "user", "operation", "resource_type", "resource",
                          "project", "detail"}
    assert c.get("/api/events/", {"cursor": "bogus"}).status_code == 400


def test_detail_activity_instances_and_anomalies(vera: User) -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 6, start=T0)
    IngestAnomaly.objects.create(instance=a, source="audit-logs", kind="gap", from_id=3, to_id=4, missing=2)
    c = api(vera)
    ev = HarborEvent.objects.first()
    assert ev is not None
    detail = c.get(f"/api/events/harbor/{ev.pk}/").json()
    assert detail["raw"]["id"] == ev.harbor_id and detail["instance_name"] == "harbor-a"
    activity = c.get("/api/events/activity/", {"source": "harbor"}).json()
    assert sum(p["count"] for p in activity) == 6
    listed = c.get("/api/events/instances/").json()
    figures = listed["results"]
    assert listed["count"] == 1 and figures[0]["name"] == "harbor-a"
    assert figures[0]["stored"] == 6 and figures[0]["anomalies"] == 1
    assert c.get("/api/events/anomalies/").json()[0]["kind"] == "gap"


def test_jobs_through_the_api(bob: User, alice: User, vera: User, django_capture_on_commit_callbacks: Any) -> None:
    a = make_instance("harbor-a")
    with patch("harborops.core.tasks.run_job.apply_async"), django_capture_on_commit_callbacks(execute=True):
        r = api(bob).post(f"/api/events/instances/{a.pk}/backfill/")
        assert r.status_code == 202 and r.json()["kind"] == "events.backfill"
        assert api(bob).post(f"/api/events/instances/{a.pk}/ingest/").status_code == 202
        assert api(bob).post("/api/events/ingest/").status_code == 202
        assert api(bob).post("/api/events/purge/").status_code == 403
        assert api(alice).post("/api/events/purge/").status_code == 202
        assert api(vera).post("/api/events/ingest/").status_code == 403
    assert JobRun.objects.count() == 4
    assert ActionLogEntry.objects.filter(action__startswith="events.").count() == 4
