"""Exports: CSV and JSON Lines of any filter, streamed in constant memory, in the browser and the API."""

from __future__ import annotations

import csv
import gc
import io
import json
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from harborops.core.models import ApiToken
from harborops.events.models import HarborEvent
from tests.events.factories import actions, harbor_events, make_instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def logged_in(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_csv_and_jsonl_hold_both_sources_newest_first(vera: User) -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 10, start=T0, project="payments", user="bob")
    actions(2, start=T0 + timedelta(hours=1), actor="bob", object_repr="=HYPERLINK(evil)")
    c = logged_in(vera)
    r = c.get("/events/export.csv", {"user": "bob"})
    assert r.streaming and r["Content-Type"].startswith("text/csv")
    assert r["Content-Disposition"].startswith("attachment; filename=\"harbor-events-")
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert len(rows) == 12
    assert [x["source"] for x in rows[:2]] == ["harborops", "harborops"]
    assert rows[0]["resource"] == "'=HYPERLINK(evil)"  # no formula injection into spreadsheets
    assert rows[2]["instance"] == "harbor-a" and rows[2]["project"] == "payments"
    j = c.get("/events/export.jsonl", {"user": "bob", "source": "harbor", "operation": "delete"})
    lines = [json.loads(x) for x in b"".join(j.streaming_content).decode().splitlines()]
    assert len(lines) == 3 and {x["operation"] for x in lines} == {"delete"}
    assert lines[0]["time"] > lines[1]["time"]


def test_the_api_exports_with_a_token(vera: User) -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 3, start=T0)
    _, key = ApiToken.issue(vera, "script")
    c = Client(HTTP_AUTHORIZATION=f"Token {key}")
    r = c.get("/api/events/export/jsonl/", {"instance": a.pk})
    assert r.status_code == 200 and r.streaming
    assert len(b"".join(r.streaming_content).splitlines()) == 3
    csv_r = c.get("/api/events/export/csv/")
    assert b"".join(csv_r.streaming_content).decode().splitlines()[0].startswith("time,source,instance")
    assert c.get("/api/events/export/csv/", {"since": "bad"}).status_code == 400
    assert Client().get("/api/events/export/csv/").status_code == 401


def test_a_large_export_streams_without_holding_it_in_memory(vera: User) -> None:
    fmt = "jsonl"
    a = make_instance("harbor-a")
    n = 40_000
    harbor_events(a, n, start=T0)
    actions(500, start=T0)
    c = logged_in(vera)
    gc.collect()
    tracemalloc.start()
    try:
        response = c.get(f"/events/export.{fmt}")
        assert response.streaming
        total, lines = 0, 0
        for chunk in response.streaming_content:
            total += len(chunk)
            lines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == n + 500 + (1 if fmt == "csv" else 0)
    assert HarborEvent.objects.count() == n
    # The whole export is several MB; holding it (or the rows) would cost many times that.
    assert total > 8_000_000
    assert peak < total / 2, f"peak {peak / 1e6:.1f} MB for a {total / 1e6:.1f} MB export"
