"""Per-instance stored-event figures kept in the ingest and purge transactions: always equal to what
an aggregate over the table says, duplicates never counted, and the page never reads the events table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max, Min
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now

from harborops.events import figures, ingest, tasks
from harborops.events.ingest import ingest_instance
from harborops.events.models import EventCursor, HarborEvent, IngestState
from harborops.events.services import instance_figures
from tests.events.conftest import MakeFleet, inst
from tests.events.factories import harbor_events, make_instance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


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


def test_recount_repairs_figures_and_the_command_says_how_many(capsys: pytest.CaptureFixture[str]) -> None:
    a = make_instance("harbor-a")
    harbor_events(a, 9, start=now() - timedelta(hours=1))
    IngestState.objects.filter(instance=a).update(stored_events=12345, oldest_event_at=None)
    call_command("recount_events")
    assert kept(a.pk) == aggregated(a.pk) and kept(a.pk)[0] == 9
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
