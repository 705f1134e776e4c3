"""Per-instance stored-event figures kept in the ingest and purge transactions: always equal to what
an aggregate over the table says, duplicates never counted, and the page never reads the events table."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDate
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import localdate, now

from harborops.events import figures, ingest, tasks
from harborops.events.ingest import ingest_instance
from harborops.events.models import EventCursor, EventDay, HarborEvent, IngestState
from harborops.events.query import EventFilter, activity, harbor_queryset, rollup_answers, start_of_day
from harborops.events.services import instance_figures
from tests.events.conftest import MakeFleet, inst
from tests.events.factories import harbor_events, make_instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def rollup() -> dict[tuple[Any, int | None, str], int]:
    return {(d.day, d.instance_id, d.operation): d.count for d in EventDay.objects.filter(count__gt=0)}


def table_days() -> dict[tuple[Any, int | None, str], int]:
    rows = (HarborEvent.objects.order_by().annotate(d=TruncDate("op_time")).values("d", "instance_id", "operation")
            .annotate(n=Count("id")))
    return {(r["d"], r["instance_id"], r["operation"]): r["n"] for r in rows}


def kept(instance_id: int) -> tuple[int, Any, Any]:
    s = IngestState.objects.get(instance_id=instance_id)
    return s.stored_events, s.oldest_event_at, s.newest_event_at


def aggregated(instance_id: int) -> tuple[int, Any, Any]:
    a = HarborEvent.objects.filter(instance_id=instance_id).aggregate(n=Count("id"), lo=Min("op_time"),
                                                                      hi=Max("op_time"))
    return a["n"], a["lo"], a["hi"]


def test_ingest_keeps_count_oldest_and_newest_for_both_sources(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(2, "2.13.0")
    fleet[1].seed_audit(120, history=True)
    fleet[1].seed_audit(300)
    fleet[2].seed_audit(7)
    ingest_instance(inst(1), batch=100)
    ingest_instance(inst(2))
    assert kept(inst(1).pk) == aggregated(inst(1).pk) and kept(inst(1).pk)[0] == 420
    assert kept(inst(2).pk) == aggregated(inst(2).pk) and kept(inst(2).pk)[0] == 7
    fleet[1].record("admin", "delete", "repository", "proj-9/app", project="proj-9")
    ingest_instance(inst(1))
    assert kept(inst(1).pk) == aggregated(inst(1).pk) and kept(inst(1).pk)[0] == 421
    assert rollup() == table_days() and sum(rollup().values()) == 428


def test_a_redelivered_batch_counts_only_the_rows_it_really_inserted(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].seed_audit(20)
    ingest_instance(inst(1))
    fifth = ingest.event_fingerprint(HarborEvent.objects.get(harbor_id=5))
    EventCursor.objects.update(last_id=5, anchor=fifth)  # rewound: ids 6..20 come again, beside 5 new ones
    fleet[1].seed_audit(5)
    assert ingest_instance(inst(1)).fetched == 20
    assert HarborEvent.objects.count() == 25
    assert kept(inst(1).pk) == aggregated(inst(1).pk) and kept(inst(1).pk)[0] == 25
    assert rollup() == table_days() and sum(rollup().values()) == 25


def test_a_rolled_back_batch_leaves_the_figures_as_they_were(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].seed_audit(20)
    ingest_instance(inst(1), batch=10, max_events=10)
    before = kept(inst(1).pk)
    cursor = EventCursor.objects.get()
    EventCursor.objects.update(last_id=15)  # another writer moved the cursor: the batch rolls back
    rows = inst(1).client().list_audit_logs("audit-logs", after_id=10, max_items=10)
    with pytest.raises(ingest.CursorMoved):
        ingest.store_batch(inst(1), cursor, rows)
    assert kept(inst(1).pk) == before == aggregated(inst(1).pk)
    assert rollup() == table_days()


def test_the_purge_takes_what_it_deleted_off_and_moves_the_oldest(sim_fleet: MakeFleet, settings: Any) -> None:
    fleet = sim_fleet(2, "2.12.0")
    fleet[1].seed_audit(30)
    fleet[2].seed_audit(4)
    tasks.ingest_one(inst(1).pk)
    tasks.ingest_one(inst(2).pk)
    HarborEvent.objects.filter(instance=inst(1), harbor_id__lte=12).update(op_time=now() - timedelta(days=40))
    HarborEvent.objects.filter(instance=inst(2)).update(op_time=now() - timedelta(days=41))
    figures.recount()
    settings.EVENTS_RETENTION_DAYS = 30
    assert tasks.purge_events() == "16 events deleted"
    assert kept(inst(1).pk) == aggregated(inst(1).pk) and kept(inst(1).pk)[0] == 18
    assert kept(inst(2).pk) == (0, None, None)
    assert rollup() == table_days() and sum(rollup().values()) == 18


def test_recount_repairs_figures_and_the_command_says_how_many(capsys: pytest.CaptureFixture[str]) -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 9, start=now() - timedelta(hours=1))
    IngestState.objects.filter(instance=a).update(stored_events=12345, oldest_event_at=None)
    EventDay.objects.all().delete()
    call_command("recount_events")
    assert kept(a.pk) == aggregated(a.pk) and kept(a.pk)[0] == 9
    assert rollup() == table_days()
    assert "1 instance(s)" in capsys.readouterr().out


def test_the_page_and_api_never_read_the_events_table(client: Client, vera: User) -> None:
    a, b = make_instance("harbor-a"), make_instance("harbor-b")
    harbor_events(a, 40, start=now() - timedelta(days=2))
    client.force_login(vera)

    def queries(path: str) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    small = queries("/events/instances/")
    harbor_events(b, 400, start=now() - timedelta(days=3), first_id=1)
    large = queries("/events/instances/")
    assert len(small) == len(large)
    assert not [q for q in large if "events_harborevent" in q]
    assert not [q for q in queries("/api/events/instances/") if "events_harborevent" in q]
    rows = {f.instance.name: f.stored for f in instance_figures()}
    assert rows == {"harbor-a": 40, "harbor-b": 400}


def test_the_activity_chart_reads_the_rollup_unless_the_filter_needs_the_rows(sim_fleet: MakeFleet,
                                                                            client: Client, vera: User) -> None:
    fleet = sim_fleet(2, "2.12.0")
    fleet[1].seed_audit(60)
    fleet[2].seed_audit(25)
    ingest_instance(inst(1))
    ingest_instance(inst(2))
    old = HarborEvent.objects.filter(instance=inst(1), harbor_id__lte=5)
    old.update(op_time=now() - timedelta(days=45))  # outside the 30-day window
    figures.recount()
    assert rollup() == table_days()

    def counted(f: EventFilter) -> dict[tuple[Any, str], int]:
        return {(d, op): n for d, op, n in activity(f) if op != "harborops"}

    def by_rows(f: EventFilter) -> dict[tuple[Any, str], int]:
        since = start_of_day(localdate() - timedelta(days=29))
        qs = harbor_queryset(EventFilter(**{**f.__dict__, "since": since}))
        rows = qs.annotate(d=TruncDate("op_time")).values("d", "operation").annotate(n=Count("id"))
        return {(r["d"], r["operation"]): r["n"] for r in rows}

    for f in (EventFilter(), EventFilter(instances=[inst(2).pk]), EventFilter(operation="create")):
        assert rollup_answers(f) and counted(f) == by_rows(f) and counted(f)
    assert sum(counted(EventFilter()).values()) == 80
    user = HarborEvent.objects.filter(instance=inst(1)).values_list("username", flat=True).first()
    assert not rollup_answers(EventFilter(user=user))
    assert counted(EventFilter(user=user)) == by_rows(EventFilter(user=user))

    client.force_login(vera)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/events/activity/").status_code == 200
        assert client.get("/api/events/activity/", {"source": "harbor"}).status_code == 200
    assert not [q["sql"] for q in ctx.captured_queries if "events_harborevent" in q["sql"]]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/events/activity/", {"user": user}).status_code == 200
    assert [q["sql"] for q in ctx.captured_queries if "events_harborevent" in q["sql"]]


def test_the_page_shows_fifty_instances_at_a_time_and_filters_by_name(client: Client, vera: User) -> None:
    from harborops.fleet.models import Instance

    Instance.objects.bulk_create([Instance(name=f"harbor-{n:03d}", url=f"http://sim/{n}", username="admin",
                                           password="x") for n in range(55)])
    a = Instance.objects.get(name="harbor-052")
    harbor_events(a, 3, start=now() - timedelta(hours=2))
    client.force_login(vera)
    with CaptureQueriesContext(connection) as first_ctx:
        first = client.get("/events/instances/").content.decode()
    assert len(re.findall(r'id="ingest-\d+"', first)) == 50
    assert "harbor-000" in first and "harbor-052" not in first and "page 1 of 2" in first
    with CaptureQueriesContext(connection) as second_ctx:
        second = client.get("/events/instances/", {"page": 2}).content.decode()
    assert f'id="ingest-{a.pk}"' in second and "harbor-000" not in second
    assert len(first_ctx.captured_queries) == len(second_ctx.captured_queries)
    found = client.get("/events/instances/", {"q": "052"}).content.decode()
    assert f'id="ingest-{a.pk}"' in found and 'id="ingest-pager"' not in found and "harbor-051" not in found
    assert '<td class="stored">3' in found
    assert "No instance name contains" in client.get("/events/instances/", {"q": "nope"}).content.decode()
