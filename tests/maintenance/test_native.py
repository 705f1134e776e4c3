"""Harbor's own GC schedules fleet-wide: read side by side, set from a policy, drift, and the
watchdog (lost schedule after an upgrade, a missed scheduled run, a hung run, an old success) in
the page, the API and /metrics."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils.timezone import now

from harborops.audit.models import ActionLogEntry
from harborops.core.jobs.runner import execute
from harborops.harbor.client import HarborClient
from harborops.maintenance.models import InstanceGC
from harborops.maintenance.services import native, watchdog
from harborops.maintenance.services.watchdog import previous_fire
from harborops.maintenance.tasks import start_set_schedules
from tests.maintenance.conftest import ACTOR, GCFleet, make_policy

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(60)]


def codes(name: str) -> set[str]:
    row = next(r for r in watchdog.overview() if r.instance.name == name)
    return {f.code for f in row.findings}


def test_it_sets_schedules_from_a_policy_and_flags_drift(gc_fleet: GCFleet) -> None:
    policy = make_policy(harbor_cron="0 0 3 * * 6", delete_untagged=True, workers=7, targets="label",
                         target_label="env=prod")
    with mock.patch("harborops.core.tasks.run_job.apply_async"):
        job = start_set_schedules(policy, actor=ACTOR)
    execute(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    for n in (1, 2, 3):  # env=prod
        sched = gc_fleet.sim[n].jobs.schedules["gc"]
        assert (sched["type"], sched["cron"], sched["params"]["delete_untagged"]) == ("Custom", "0 0 3 * * 6", True)
    assert gc_fleet.sim[3].jobs.schedules["gc"]["params"]["workers"] == 7  # 2.13 accepts up to 10
    assert "workers" not in gc_fleet.sim[2].jobs.schedules["gc"]["params"]  # 2.8 has none
    assert "gc" not in gc_fleet.sim[4].jobs.schedules  # env=dev: not targeted
    assert ActionLogEntry.objects.filter(action="maintenance.schedule.set").count() == 3
    assert all(InstanceGC.objects.get(instance=i).schedule_cron == "0 0 3 * * 6" for i in gc_fleet.rows[:3])
    assert codes("harbor-1") & {"schedule_lost", "schedule_drift"} == set()
    # someone changes harbor-2's schedule by hand: drift
    with HarborClient(gc_fleet.rows[1].url, username="admin", password="Harbor12345") as c:
        c.set_gc_schedule("Daily", "0 0 0 * * *")
    native.check_fleet()
    row = next(r for r in watchdog.overview() if r.instance.name == "harbor-2")
    assert row.drift == "cron 0 0 0 * * * ≠ 0 0 3 * * 6; delete_untagged False ≠ True"
    assert "schedule_drift" in {f.code for f in row.findings}


def test_a_schedule_lost_in_an_upgrade_is_flagged_everywhere(gc_fleet: GCFleet, client: Client, vera: Any,
                                                               alice: Any) -> None:
    make_policy(harbor_cron="0 0 3 * * 6")
    for row in gc_fleet.rows:
        with HarborClient(row.url, username="admin", password="Harbor12345") as c:
            c.set_gc_schedule("Custom", "0 0 3 * * 6")
    native.check_fleet()
    assert "schedule_lost" not in codes("harbor-3")
    gc_fleet.sim[3].upgrade("2.14.0")
    gc_fleet.sim[3].jobs.lose_schedule("gc")
    native.check_fleet()
    state = InstanceGC.objects.get(instance__name="harbor-3")
    assert state.schedule_type == "" and state.schedule_lost_at is not None and state.schedule_seen_at is not None
    assert "schedule_lost" in codes("harbor-3")
    client.force_login(vera)
    page = client.get("/maintenance/").content.decode()
    assert 'data-instance="harbor-3"' in page and "GC schedule lost" in page
    api = client.get("/api/maintenance/instances/").json()
    h3 = next(r for r in api if r["instance"] == "harbor-3")
    assert "schedule_lost" in {f["code"] for f in h3["findings"]} and h3["expected_cron"] == "0 0 3 * * 6"
    metrics = Client().get("/metrics").content.decode()
    assert 'harborops_gc_condition{condition="schedule_lost",instance="harbor-3"} 1.0' in metrics


def test_a_missed_scheduled_run_and_a_hung_run(gc_fleet: GCFleet, settings: Any) -> None:
    inst = gc_fleet.sim[3]
    with HarborClient(gc_fleet.rows[2].url, username="admin", password="Harbor12345") as c:
        c.set_gc_schedule("Custom", "0 0 3 * * *")
        inst.jobs.set_outcome("gc", "hang", once=True)
        c.run_gc()
    state = native.read_instance(gc_fleet.rows[2])
    assert state.running_since is not None and state.last_run_status == "Running"
    at = state.running_since + dt.timedelta(hours=21)
    found = {f.code: f for f in watchdog.findings(gc_fleet.rows[2], state, None, at=at)}
    assert "run_too_long" in found and "24 h" in found["run_too_long"].message
    # the schedule was created "now"; two days later no scheduled run has started: missed
    state.schedule_created = now() - dt.timedelta(days=2)
    later = now() + dt.timedelta(days=1)
    assert "scheduled_run_missed" in {f.code for f in watchdog.findings(gc_fleet.rows[2], state, None, at=later)}
    # once the scheduler fires, the check sees a scheduled run after the due time
    gc_fleet.sim.advance(3600)
    inst.jobs.fire_schedule("gc")
    state = native.read_instance(gc_fleet.rows[2])
    assert state.last_run_trigger == "Schedule"
    state.last_scheduled_start = later - dt.timedelta(minutes=30)
    assert "scheduled_run_missed" not in {f.code for f in watchdog.findings(gc_fleet.rows[2], state, None,
                                                                           at=later)}
    # the sim's jobservice reaper fails the hung run after a day: the watchdog shows a failed run
    gc_fleet.sim.advance(25 * 3600)
    hung = native.read_instance(gc_fleet.rows[2])
    assert hung.running_since is None


def test_last_success_and_the_metric(gc_fleet: GCFleet, settings: Any) -> None:
    with HarborClient(gc_fleet.rows[0].url, username="admin", password="Harbor12345") as c:
        c.run_gc()
    gc_fleet.sim.advance(120)
    native.check_fleet()
    state = InstanceGC.objects.get(instance__name="harbor-1")
    assert state.last_success_at is not None and state.last_run_status == "Success"
    assert "success_too_old" not in codes("harbor-1")
    assert "success_too_old" in codes("harbor-2")  # never collected
    assert {f.message for f in watchdog.findings(gc_fleet.rows[1], InstanceGC.objects.get(instance__name="harbor-2"),
                                                 None)} >= {"no successful GC on record"}
    text = Client().get("/metrics").content.decode()
    metric = 'harborops_gc_last_success_timestamp{instance="harbor-1"}'
    line = next(ln for ln in text.splitlines() if ln.startswith(metric))
    assert abs(float(line.split()[-1]) - state.last_success_at.timestamp()) < 0.01
    assert 'harborops_gc_last_success_timestamp{instance="harbor-2"}' not in text
    settings.GC_MAX_AGE_DAYS = 3
    old = watchdog.findings(gc_fleet.rows[0], state, None, at=now() + dt.timedelta(days=4))
    assert [f.message.split(",")[1] for f in old if f.code == "success_too_old"] == [" 3 days ago"]


def test_previous_fire_reads_harbor_and_beat_crons() -> None:
    at = dt.datetime(2026, 12, 2, 10, 30, tzinfo=dt.UTC)  # a Wednesday
    assert previous_fire("0 0 3 * * *", at) == dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)
    assert previous_fire("0 0 3 * * 6", at) == dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)  # Saturday
    assert previous_fire("15 2 * * 0", at) == dt.datetime(2026, 11, 29, 2, 15, tzinfo=dt.UTC)  # Sunday
    assert previous_fire("not a cron", at) is None
