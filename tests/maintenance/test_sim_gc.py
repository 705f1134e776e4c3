"""The simulator's GC as Harbor's source has it (the behaviour the GC feature relies on):
a dry run only marks, a hung run is failed by jobservice's reaper after a day, and a schedule can
vanish (the fault operators see after upgrades)."""

from __future__ import annotations

import pytest

from harborops.harbor.client import HarborClient
from harborops.harbor_sim import Fleet, push_artifact
from harborops.harbor_sim.routes.artifacts import delete_artifact_by_ref
from harborops.harbor_sim.transport import SimTransport

pytestmark = [pytest.mark.embedded]
MB = 1024 * 1024


def client(fleet: Fleet, n: int = 1) -> HarborClient:
    return HarborClient(f"http://sim/h/{n}", username="admin", password="Harbor12345", transport=SimTransport(fleet))


def test_a_dry_run_marks_and_estimates_but_frees_nothing() -> None:
    """garbage_collection.go@v2.13.0 Run/mark/sweep: the estimate line comes from mark; only a real run
    sweeps, logs 'actual frees up' and checks in freed_space (saveGCRes, 2.9+)."""
    fleet = Fleet.create(1, "2.13.0")
    inst = fleet[1]
    push_artifact(inst, "library", "app", "old", 4 * MB)
    push_artifact(inst, "library", "app", None, 2 * MB)  # untagged
    delete_artifact_by_ref(inst, "library/app", "old", who="admin")
    with client(fleet) as c:
        dry = c.run_gc(dry_run=True, delete_untagged=True)
        fleet.advance(60)
        log = c.gc_log(dry)
        assert "The GC could free up 6 MB space, the size is a rough estimation." in log
        assert "actual frees up" not in log and "freed_space" not in c.get_gc(dry).job_parameters
        assert c.statistics().total_storage_consumption == 6 * MB  # nothing swept, untagged kept
        real = c.run_gc(delete_untagged=True)
        fleet.advance(60)
        assert "The GC job actual frees up 6 MB space." in c.gc_log(real)
        assert c.get_gc(real).job_parameters["freed_space"] == 6 * MB
        assert c.statistics().total_storage_consumption == 0


def test_a_hung_gc_is_failed_by_the_jobservice_reaper_after_a_day() -> None:
    """reaper.go@v2.3.0 maxUpdateDuration 24 h, checked every hour (reapLoopInterval)."""
    fleet = Fleet.create(1, "2.8.0")
    fleet[1].jobs.set_outcome("gc", "hang", once=True)
    with client(fleet) as c:
        gc = c.run_gc()
        fleet.advance(24 * 3600)
        assert c.get_gc(gc).job_status == "Running"
        fleet.advance(3600 + 1)
        assert c.get_gc(gc).job_status == "Error"
        assert "still not finished in 1 day" in c.gc_log(gc)


def test_a_lost_schedule_answers_empty() -> None:
    fleet = Fleet.create(1, "2.13.0")
    with client(fleet) as c:
        c.set_gc_schedule("Custom", "0 0 3 * * 6", delete_untagged=True)
        sched = c.get_gc_schedule()
        assert sched is not None and sched.schedule is not None and sched.schedule.cron == "0 0 3 * * 6"
        fleet[1].upgrade("2.14.0")
        fleet[1].jobs.lose_schedule("gc")
        assert c.get_gc_schedule() is None
