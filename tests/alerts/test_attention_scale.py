"""The home page and /api/attention/ at fleet scale: the 50 most severe open alerts with every one counted,
GC problems as the alert evaluation stored them, and a query count that does not grow with the fleet."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now

from harborops.alerts.models import Alert
from harborops.alerts.services.attention import ALERTS_SHOWN, attention
from harborops.fleet.models import Instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def alert(n: int, severity: str, condition: str = "fleet.down", state: str = "firing", **fields: object) -> Alert:
    at = now() - dt.timedelta(minutes=n)
    return Alert.objects.create(condition=condition, subject=f"instance:{n}", severity=severity, summary=f"s{n}",
                                state=state, first_seen=at, last_seen=at, **fields)


def test_the_most_severe_fifty_are_listed_and_every_open_one_counted() -> None:
    for n in range(ALERTS_SHOWN + 5):
        alert(n, "warning")
    criticals = [alert(100 + n, "critical") for n in range(3)]
    alert(200, "critical", state="resolved")
    att = attention()
    assert len(att.alerts) == ALERTS_SHOWN
    assert [a.pk for a in att.alerts[:3]] == [a.pk for a in sorted(criticals, key=lambda a: a.first_seen)]
    assert att.alert_counts == {"critical": 3, "warning": ALERTS_SHOWN + 5, "info": 0}


def test_gc_problems_come_from_the_stored_alerts() -> None:
    alert(1, "warning", "gc.window_overrun", instance_name="harbor-b", details="GC ran 3 h past its window",
          link="/maintenance/")
    alert(2, "warning", "gc.success_too_old", instance_name="harbor-a", details="no successful GC for 9 days")
    alert(3, "warning", "gc.success_too_old", state="resolved", instance_name="harbor-c")
    alert(4, "warning", "gc.run_failed", instance_name="harbor-d")  # not one the GC card shows
    assert [(g["instance"], g["code"], g["message"]) for g in attention().gc] == [
        ("harbor-a", "success_too_old", "no successful GC for 9 days"),
        ("harbor-b", "window_overrun", "GC ran 3 h past its window")]


def test_the_home_page_costs_the_same_queries_for_a_bigger_fleet(vera: User) -> None:
    client = Client()
    client.force_login(vera)

    def grow(start: int, count: int) -> None:
        Instance.objects.bulk_create([Instance(name=f"harbor-{n}", url=f"http://127.0.0.1:9/{n}", username="admin",
                                               password="x", status="down") for n in range(start, start + count)])
        for n in range(start, start + count):
            alert(n, "critical" if n % 2 else "warning")

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    grow(0, 2)
    small = (queries("/"), queries("/api/attention/"))
    grow(2, 30)
    assert (queries("/"), queries("/api/attention/")) == small
