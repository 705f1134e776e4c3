"""Ingest against the simulator: both API generations, the upgrade, no loss and no duplicates
under redelivery after a kill, purged id ranges, reinstalled instances, the lease."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.db import connection
from django.db.models import Count
from django.utils.timezone import now

from harborops.audit.models import ActionLogEntry
from harborops.events import ingest
from harborops.events.ingest import acquire_lease, ingest_instance
from harborops.events.models import EventCursor, HarborEvent, IngestAnomaly, IngestState
from harborops.harbor_sim.audit import AuditTable
from tests.events.conftest import MakeFleet, inst

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def stored(source: str | None = None, **kw: Any) -> int:
    qs = HarborEvent.objects.filter(**kw)
    if source:
        qs = qs.filter(source=source)
    return qs.count()


def assert_no_duplicates() -> None:
    dupes = (HarborEvent.objects.values("instance", "source", "epoch", "harbor_id").annotate(n=Count("id"))
             .filter(n__gt=1))
    assert not dupes.exists()


def test_it_ingests_audit_logs_before_2_13_incrementally(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].seed_audit(2500)
    result = ingest_instance(inst(1), batch=1000)
    assert result.fetched == 2500 and not result.more
    assert stored("audit-logs") == 2500
    cursor = EventCursor.objects.get(source="audit-logs")
    assert cursor.last_id == 2500 and cursor.anchor
    ev = HarborEvent.objects.get(harbor_id=1)
    assert ev.instance_name == "harbor-1" and ev.raw["id"] == 1 and ev.username and ev.operation
    assert ev.project == ev.resource.split("/")[0]
    assert ingest_instance(inst(1)).fetched == 0
    fleet[1].record("admin", "delete", "repository", "proj-9/app", project="proj-9")
    assert ingest_instance(inst(1)).fetched == 1
    newest = HarborEvent.objects.get(harbor_id=2501)
    assert (newest.operation, newest.resource, newest.project) == ("delete", "proj-9/app", "proj-9")
    assert stored() == 2501 == len(fleet[1].audit_legacy)
    assert IngestState.objects.get(instance=inst(1)).last_success_at is not None


def test_it_reads_auditlog_exts_and_the_history_once_on_2_13(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(1, "2.13.0")
    fleet[1].seed_audit(300, history=True)
    fleet[1].seed_audit(200)
    result = ingest_instance(inst(1))
    assert {s.source: s.fetched for s in result.sources} == {"auditlog-exts": 200, "audit-logs": 300}
    assert stored("auditlog-exts") == 200 and stored("audit-logs") == 300
    assert EventCursor.objects.get(source="audit-logs").complete
    ext = HarborEvent.objects.filter(source="auditlog-exts").first()
    assert ext is not None and ext.description and ext.result is True
    again = ingest_instance(inst(1))
    assert [s.source for s in again.sources] == ["auditlog-exts"]  # the frozen history is not polled


def test_it_follows_an_upgrade_from_2_12_to_2_13(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].seed_audit(100)
    ingest_instance(inst(1))
    fleet[1].seed_audit(50)  # written before the upgrade, not yet pulled
    fleet[1].upgrade("2.13.0")
    fleet[1].record("admin", "login", "user", "admin")
    fleet[1].record("admin", "create", "project", "fresh", project="fresh")
    ingest_instance(inst(1))
    assert stored("audit-logs") == 150 == len(fleet[1].audit_legacy)
    assert stored("auditlog-exts") == 2 == len(fleet[1].audit_ext)
    assert EventCursor.objects.get(source="audit-logs").complete
    assert_no_duplicates()


class Killed(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs to completion."""


def test_a_crash_between_fetch_and_commit_loses_and_duplicates_nothing(sim_fleet: MakeFleet,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """An exception raised mid-batch, in this process (the unit-level check). Real SIGKILLed workers:
    tests/events/test_ingest_kills.py."""
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].seed_audit(3500)
    real = ingest._advance_cursor
    calls = {"n": 0}

    def dies_on_the_second_batch(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed  # rows of batch 2 are inserted but not committed
        real(*args)

    with patch.object(ingest, "_advance_cursor", dies_on_the_second_batch), \
            patch.object(ingest, "release_lease"), pytest.raises(Killed):
        ingest_instance(inst(1), batch=1000)
    assert stored() == 1000  # batch 1 committed with its cursor; batch 2 rolled back with its rows
    assert EventCursor.objects.get().last_id == 1000
    # The dead worker's lease blocks a second ingest until it expires ...
    assert ingest_instance(inst(1)).skipped
    IngestState.objects.update(lease_until=now() - timedelta(seconds=1))
    # ... then the redelivered run continues where the cursor says.
    ingest_instance(inst(1), batch=1000)
    assert stored() == 3500 == len(fleet[1].audit_legacy)
    assert_no_duplicates()
    # Redelivery of batches already stored (a cursor behind its rows) stores nothing twice.
    EventCursor.objects.update(last_id=0, anchor="")
    with caplog.at_level(logging.INFO, logger="harborops.events.ingest"):
        assert ingest_instance(inst(1), batch=1000).fetched == 3500
    assert stored() == 3500
    assert_no_duplicates()
    if connection.vendor == "postgresql":  # COPY hit the unique key; the ON CONFLICT path took over
        assert "overlaps stored events" in caplog.text


def test_two_ingests_of_one_instance_never_overlap(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].seed_audit(10)
    assert acquire_lease(inst(1).pk, "someone-else")
    result = ingest_instance(inst(1))
    assert result.skipped and stored() == 0
    assert "skipped" in result.summary()
    IngestState.objects.update(lease_until=now() - timedelta(seconds=1))
    assert ingest_instance(inst(1)).fetched == 10


def test_a_cursor_moved_by_someone_else_rolls_the_batch_back(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].seed_audit(20)
    ingest_instance(inst(1), batch=10, max_events=10)
    cursor = EventCursor.objects.get()
    EventCursor.objects.update(last_id=15)  # another writer got there first
    with pytest.raises(ingest.CursorMoved):
        ingest.store_batch(inst(1), cursor, fleet_rows(fleet, 11, 20))
    assert stored() == 10


def fleet_rows(fleet: Any, lo: int, hi: int) -> list[Any]:
    from harborops.harbor import types as t

    client = inst(1).client()
    rows: list[t.AuditLog] = client.list_audit_logs("audit-logs", after_id=lo - 1, max_items=hi - lo + 1)
    return rows


def test_it_detects_and_logs_a_purged_range_and_keeps_every_surviving_row(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].seed_audit(1000, step_seconds=60)
    ingest_instance(inst(1), max_events=300, batch=100)
    assert stored() == 300
    table = fleet[1].audit_legacy
    block = table.blocks[0]
    assert table.purge(block.op_time(601), None) == 600  # Harbor's purge job: ids 1..600 gone
    result = ingest_instance(inst(1), batch=100)
    assert result.sources[0].gaps == 1 and not result.sources[0].reset
    gap = IngestAnomaly.objects.get()
    assert (gap.kind, gap.from_id, gap.to_id, gap.missing) == ("gap", 301, 600, 300)
    assert "purged" in gap.message
    assert stored() == 300 + 400  # everything that still exists on Harbor, plus what we had
    assert set(HarborEvent.objects.filter(harbor_id__gt=300).values_list("harbor_id", flat=True)) == set(
        range(601, 1001))


@pytest.mark.parametrize("new_rows", [200, 800])
def test_it_detects_a_reinstalled_instance_and_keeps_both_lineages(sim_fleet: MakeFleet, new_rows: int) -> None:
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].seed_audit(500)
    ingest_instance(inst(1))
    fleet.advance(3600)
    fleet[1].audit_legacy = AuditTable(ext=False)  # a fresh database: ids start at 1 again
    fleet[1].seed_audit(new_rows)
    result = ingest_instance(inst(1))
    assert result.sources[0].reset
    assert stored(epoch=1) == 500 and stored(epoch=2) == new_rows
    cursor = EventCursor.objects.get()
    assert (cursor.epoch, cursor.last_id) == (2, new_rows)
    reset = IngestAnomaly.objects.get(kind="reset")
    assert reset.to_id == 500 and "reinstalled" in reset.message
    assert ActionLogEntry.objects.filter(action="events.reset_detected").count() == 1
    assert ingest_instance(inst(1)).fetched == 0  # and the new lineage continues normally
    assert_no_duplicates()


def test_it_shows_syslog_forwarding(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(2, "2.13.0")
    fleet[2].config.update(audit_log_forward_endpoint="syslog.example.org:514", skip_audit_log_database=True)
    ingest_instance(inst(1))
    ingest_instance(inst(2))
    one, two = (IngestState.objects.get(instance=inst(n)) for n in (1, 2))
    assert (one.forward_endpoint, one.skip_database, one.nothing_to_pull) == ("", False, False)
    assert (two.forward_endpoint, two.skip_database, two.nothing_to_pull) == ("syslog.example.org:514", True, True)
    assert two.forwarding_checked_at is not None


def test_a_row_committed_late_inside_a_gap_is_picked_up_by_the_next_ingest(sim_fleet: MakeFleet) -> None:
    """Harbor's ids come from a sequence; a transaction that took id 2 may commit after id 3 is read."""
    fleet = sim_fleet(1, "2.12.0")
    for n in range(1, 4):
        fleet[1].record("admin", "delete", "repository", f"proj/app-{n}", project="proj")  # an event 2.12 records
    rows = fleet[1].audit_legacy.blocks[-1].rows
    late = rows.pop(1)  # id 2 not committed yet
    assert ingest_instance(inst(1)).sources[0].gaps == 1
    assert set(HarborEvent.objects.values_list("harbor_id", flat=True)) == {1, 3}
    rows.insert(1, late)  # ... and now it is
    result = ingest_instance(inst(1))
    assert result.sources[0].late == 1 and result.fetched == 0
    assert set(HarborEvent.objects.values_list("harbor_id", flat=True)) == {1, 2, 3}
    assert ingest_instance(inst(1)).sources[0].late == 0  # stored once, not again
    assert_no_duplicates()


def test_secrets_in_2_13_0_configuration_descriptions_are_masked_on_ingest(sim_fleet: MakeFleet) -> None:
    """Source: src/pkg/auditext/event/config/config.go@v2.13.0 resolver.Resolve (op_desc = "update
    configuration: " + the raw request payload, secrets included; fixed @v2.13.5 / @v2.14.3)."""
    from tests.harbor_sim.conftest import client_for

    fleet = sim_fleet(1, "2.13.0")
    with client_for(fleet) as c:
        body = {"ldap_search_password": "Sup3r-Secret", "ldap_url": "ldap://dir.example"}
        assert c.put("/configurations", json=body).status_code == 200
        assert "Sup3r-Secret" in c.get("/auditlog-exts").json()[0]["operation_description"]  # Harbor leaks it
    ingest_instance(inst(1))
    ev = HarborEvent.objects.get(resource_type="configuration")
    assert "Sup3r-Secret" not in ev.description and "Sup3r-Secret" not in str(ev.raw)
    assert '"ldap_search_password":"***"' in ev.description and "ldap://dir.example" in ev.description


def test_2_12_robot_events_carry_their_project(sim_fleet: MakeFleet) -> None:
    """Source: src/controller/event/handler/auditlog/auditlog.go@v2.12.0 Handler.Handle (robot events in
    audit_log); src/controller/robot/controller.go@v2.12.0 Create (stored name "<project>+<name>")."""
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].record("admin", "create", "robot", "payments+ci", project="library")
    fleet[1].record("admin", "create", "robot", "fleet-wide")  # a system robot: no project
    ingest_instance(inst(1))
    assert dict(HarborEvent.objects.values_list("resource", "project")) == {"payments+ci": "payments",
                                                                            "fleet-wide": ""}
