"""The events.* alert conditions: ingest stalled, gaps — from stored rows, at a given time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from harborops.core import conditions as registry
from harborops.events.conditions import events_conditions
from harborops.events.models import IngestAnomaly, IngestState
from harborops.fleet.models import Instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

AT = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def inst(name: str, **fields) -> Instance:
    return Instance.objects.create(name=name, url=f"http://sim/{name}", username="admin", password="x", **fields)


def state(instance: Instance, **fields) -> None:
    IngestState.objects.update_or_create(instance=instance, defaults=fields)


def found(at: dt.datetime = AT) -> dict[tuple[str, str], registry.Occurrence]:
    return {o.key: o for o in events_conditions(at)}


def test_registered_with_the_app():
    assert {"events.ingest_stalled", "events.gap"} <= set(registry.titles())
    assert "events" in [s.name for s in registry.sources()]


def test_stalled_after_the_threshold_and_clears_on_success(settings):
    settings.EVENTS_STALL_MINUTES = 30
    a, b, fresh, off = inst("a"), inst("b"), inst("fresh"), inst("off", enabled=False)
    state(a, last_run_at=AT - dt.timedelta(minutes=1),
                                                  last_success_at=AT - dt.timedelta(minutes=45),
                                                  last_error="HarborUnavailable: connection refused")
    state(b, last_run_at=AT, last_success_at=AT - dt.timedelta(minutes=29))
    state(off, last_run_at=AT, last_success_at=AT - dt.timedelta(days=3))
    hits = found()
    assert set(hits) == {("events.ingest_stalled", f"instance:{a.pk}")}
    occ = hits[("events.ingest_stalled", f"instance:{a.pk}")]
    assert occ.summary == "a: no successful audit ingest for 45 min"
    assert "connection refused" in occ.details and occ.instance_id == a.pk and occ.severity == "warning"
    assert occ.link == "/events/instances/"
    assert fresh.pk not in [o.instance_id for o in hits.values()]  # never attempted: no opinion yet
    state(a, last_success_at=AT - dt.timedelta(minutes=2), last_error="")
    assert found() == {}


def test_never_succeeded_is_stalled_once_it_failed_or_the_threshold_passed(settings):
    settings.EVENTS_STALL_MINUTES = 30
    a = inst("a")
    state(a, last_run_at=AT - dt.timedelta(minutes=5))
    assert found() == {}
    state(a, last_error="AuthFailed: 401")
    assert found()[("events.ingest_stalled", f"instance:{a.pk}")].summary == "a: no successful audit ingest ever"


def test_switched_off_schedule_is_never_stalled(settings, monkeypatch):
    settings.EVENTS_STALL_MINUTES = 30
    a = inst("a")
    state(a, last_run_at=AT, last_success_at=AT - dt.timedelta(days=1))
    assert found()
    monkeypatch.setenv("HARBOROPS_EVENTS_INGEST_CRON", "disable")
    assert found() == {}


def test_gap_within_the_window_sums_missing_ids(settings):
    settings.EVENTS_GAP_ALERT_HOURS = 24
    a, b = inst("a"), inst("b")
    for hours, missing in ((2, 5), (20, 7), (30, 100)):
        IngestAnomaly.objects.create(instance=a, source="auditlog-exts", kind=IngestAnomaly.Kind.GAP, from_id=10,
                                     to_id=10 + missing, missing=missing, detected_at=AT - dt.timedelta(hours=hours))
    IngestAnomaly.objects.create(instance=b, source="auditlog-exts", kind=IngestAnomaly.Kind.RESET,
                                 detected_at=AT - dt.timedelta(hours=1))
    hits = found()
    assert set(hits) == {("events.gap", f"instance:{a.pk}")}
    occ = hits[("events.gap", f"instance:{a.pk}")]
    assert occ.summary == "a: 12 audit event id(s) missing on Harbor" and "2 gap(s)" in occ.details
    assert found(AT + dt.timedelta(hours=21, minutes=59)) != {} and found(AT + dt.timedelta(hours=22, minutes=1)) == {}


def test_evaluate_all_runs_the_source_without_errors():
    a = inst("a")
    state(a, last_run_at=AT, last_success_at=AT - dt.timedelta(days=1))
    result = registry.evaluate_all(AT, only=["events"])
    assert result.errors == {} and [o.condition for o in result.occurrences] == ["events.ingest_stalled"]


def test_the_ingest_page_shows_what_needs_attention(vera):
    a = inst("a")
    client = Client()
    client.force_login(vera)
    assert 'id="attention-none"' in client.get("/events/instances/").content.decode()
    state(a, last_run_at=dt.datetime.now(dt.UTC), last_success_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3),
          last_error="HarborUnavailable: timed out")
    page = client.get("/events/instances/").content.decode()
    assert 'data-condition="events.ingest_stalled"' in page and "a: no successful audit ingest for 3 h 0 min" in page
