"""The pages: search with filters and keyset links, htmx partial, chart, detail, timelines, the
ingest page with syslog forwarding, and the job buttons (role-checked, action-logged)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.contrib.auth.models import User
from django.test import Client

from harborops.audit.models import ActionLogEntry
from harborops.core.models import JobRun
from harborops.events.models import HarborEvent, IngestState
from tests.events.factories import actions, harbor_events, make_instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def logged_in(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_it_searches_and_pages_with_a_cursor(vera: User) -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 120, start=T0, project="payments", user="bob")
    actions(3, start=T0, actor="bob", object_repr="payments")
    c = logged_in(vera)
    r = c.get("/events/", {"user": "bob"})
    assert r.status_code == 200
    html = r.content.decode()
    assert html.count('class="event-row') == 50
    assert 'id="activity"' in html and "page-older" in html
    chart = c.get("/events/activity/", {"user": "bob"}).content.decode()
    assert 'id="activity-chart"' in chart and "120 events" not in chart and "123 events" in chart
    assert "/events/export.csv?user=bob" in html
    cursor = r.context["page"].next_cursor
    r2 = c.get("/events/", {"user": "bob", "cursor": cursor})
    assert r2.context["page"].rows[0]["rid"] < r.context["page"].rows[-1]["rid"] or \
        r2.context["page"].rows[0]["ts"] < r.context["page"].rows[-1]["ts"]
    assert "page-newest" in r2.content.decode() and 'id="activity"' not in r2.content.decode()
    assert "No events in this window" in c.get("/events/activity/", {"user": "nobody"}).content.decode()
    partial = c.get("/events/", {"project": "payments", "source": "harborops"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()
    assert partial.content.decode().count("event-harborops") == 3


def test_a_bad_filter_says_so(vera: User) -> None:
    r = logged_in(vera).get("/events/", {"since": "yesterday-ish", "cursor": "garbage"})
    assert r.status_code == 200
    assert 'id="filter-errors"' in r.content.decode()
    assert logged_in(vera).get("/events/export.csv", {"since": "nope"}).status_code == 400
    assert logged_in(vera).get("/events/export.xml").status_code == 404


def test_event_detail_and_timelines(vera: User) -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 5, start=T0, project="library", user="erin")
    ev = HarborEvent.objects.order_by("harbor_id").first()
    assert ev is not None
    c = logged_in(vera)
    detail = c.get(f"/events/harbor/{ev.pk}/").content.decode()
    assert ev.resource in detail and "Raw record" in detail and "&quot;operation&quot;" in detail
    user = c.get("/events/users/erin/")
    assert user.status_code == 200 and user.content.decode().count("<li>") == 5
    res = c.get("/events/resources/", {"resource": "library/app-1"})
    assert res.status_code == 200 and "library/app-1" in res.content.decode()
    assert len(res.context["page"].rows) == 2
    assert c.get("/events/resources/").status_code == 302


def test_the_ingest_page_shows_rows_cursors_and_forwarding(vera: User, bob: User) -> None:
    a, b = make_instance("harbor-a"), make_instance("harbor-b")
    harbor_events(a, 7, start=T0)
    IngestState.objects.create(instance=b, forward_endpoint="syslog.example.org:514", skip_database=True,
                               forwarding_checked_at=T0)
    html = logged_in(vera).get("/events/instances/").content.decode()
    assert "syslog.example.org:514" in html and "nothing to pull" in html
    assert "Ingest now" not in html  # a viewer gets no buttons
    assert "Ingest now" in logged_in(bob).get("/events/instances/").content.decode()


def test_operators_start_jobs_and_they_are_action_logged(bob: User, alice: User,
                                                         django_capture_on_commit_callbacks: Any) -> None:
    a = make_instance("harbor-a")
    c = logged_in(bob)
    with patch("harborops.core.tasks.run_job.apply_async") as apply, \
            django_capture_on_commit_callbacks(execute=True):
        r = c.post(f"/events/instances/{a.pk}/backfill/")
        c.post(f"/events/instances/{a.pk}/backfill/")  # one backfill per instance at a time
        c.post(f"/events/instances/{a.pk}/ingest/")
        c.post("/events/ingest/")
    assert r.status_code == 302
    assert JobRun.objects.filter(kind="events.backfill").count() == 1
    assert JobRun.objects.filter(kind="events.ingest").count() == 2
    assert apply.call_count == 3
    assert set(ActionLogEntry.objects.values_list("action", flat=True)) == {"events.backfill", "events.ingest"}
    assert c.post("/events/purge/").status_code == 403
    assert logged_in(alice).post("/events/purge/").status_code == 302
    assert ActionLogEntry.objects.filter(action="events.purge", actor_name="alice").exists()


def test_the_any_instance_choice_means_no_restriction(vera: User) -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 3, start=T0)
    r = logged_in(vera).get("/events/", {"instance": "", "user": "alice"})
    assert 'id="filter-errors"' not in r.content.decode()
    assert len(r.context["page"].rows) == 3
    only = logged_in(vera).get("/events/", {"instance": str(a.pk), "source": "harbor"})
    assert len(only.context["page"].rows) == 3
