"""Scheduled fan-out (one failing instance never stops the others), backfill as a job with
progress, retention purge, the beat entries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.utils.timezone import now

from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.events import services, tasks
from harborops.events.models import HarborEvent, IngestState
from harborops.harbor_sim import Faults
from harborops.schedule import SYSTEM_SCHEDULES, build_beat_schedule
from tests.events.conftest import MakeFleet, inst

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_it_fans_out_one_task_per_enabled_instance(sim_fleet: MakeFleet,
                                                     django_capture_on_commit_callbacks: Any) -> None:
    sim_fleet(3, "2.12.0")
    inst(3).__class__.objects.filter(name="harbor-3").update(enabled=False)
    with (patch("harborops.events.tasks.ingest_one.apply_async") as apply_async,
          django_capture_on_commit_callbacks(execute=True)):
        assert tasks.ingest_fleet() == "2 instances queued"
    assert [c.kwargs["args"] for c in apply_async.call_args_list] == [(inst(1).pk,), (inst(2).pk,)]
    assert {c.kwargs["queue"] for c in apply_async.call_args_list} == {"periodic"}
    assert all(c.kwargs["expires"] for c in apply_async.call_args_list)


def test_one_failing_instance_never_stops_the_others(sim_fleet: MakeFleet) -> None:
    fleet = sim_fleet(3, ["2.12.0", "2.13.0", "2.15.0"])
    for n in (1, 2, 3):
        fleet[n].seed_audit(120)
    fleet[2].faults = Faults(force_status=500, path_pattern="audit")
    summaries = [tasks.ingest_one(inst(n).pk) for n in (1, 2, 3)]
    assert "failed" in summaries[1] and "failed" not in summaries[0] + summaries[2]
    assert HarborEvent.objects.filter(instance=inst(1)).count() == 120
    assert HarborEvent.objects.filter(instance=inst(3)).count() == 120
    assert HarborEvent.objects.filter(instance=inst(2)).count() == 0
    state = IngestState.objects.get(instance=inst(2))
    assert "ServerError" in state.last_error and state.lease_owner == ""
    assert tasks.ingest_one(987654).startswith("skipped")


def test_the_manual_ingest_job_reports_each_instance(sim_fleet: MakeFleet, alice: Any) -> None:
    from harborops.core.actor import Actor

    fleet = sim_fleet(2, "2.12.0")
    fleet[1].seed_audit(5)
    fleet[2].faults = Faults(force_status=401)
    job = services.start_ingest(actor=Actor.for_user(alice))
    assert execute(job.pk).endswith("succeeded")
    job.refresh_from_db()
    assert job.summary == "2 instance(s) ingested, 1 failed"
    assert (job.progress_current, job.progress_total) == (2, 2)
    assert HarborEvent.objects.count() == 5


def test_a_big_history_goes_to_a_backfill_job_with_progress(sim_fleet: MakeFleet, settings: Any,
                                                             django_capture_on_commit_callbacks: Any) -> None:
    settings.EVENTS_INGEST_MAX = 500
    settings.EVENTS_BATCH = 200
    fleet = sim_fleet(2, "2.13.0")
    fleet[1].seed_audit(1500, history=True)
    fleet[1].seed_audit(1200)
    fleet[2].seed_audit(10)
    with patch("harborops.core.tasks.run_job.apply_async"), django_capture_on_commit_callbacks(execute=True):
        summary = tasks.ingest_one(inst(1).pk)
        assert summary.endswith("backfill started")
        assert tasks.ingest_one(inst(1).pk).endswith("backfill started") is False  # one backfill at a time
    job = JobRun.objects.get(kind="events.backfill")
    assert job.trigger == "scheduled" and job.target_id == str(inst(1).pk)
    assert HarborEvent.objects.filter(instance=inst(1)).count() == 2000  # 2 runs x 500 per source
    # Other instances keep their regular pace meanwhile.
    assert tasks.ingest_one(inst(2).pk).startswith("harbor-2: auditlog-exts +10")
    assert execute(job.pk).endswith("succeeded")
    job.refresh_from_db()
    assert HarborEvent.objects.filter(instance=inst(1)).count() == 2700
    assert job.progress_current == job.progress_total == 700
    assert "about 700 event(s)" in " ".join(JobLogLine.objects.filter(job=job).values_list("text", flat=True))


def test_it_purges_events_older_than_the_retention(sim_fleet: MakeFleet, settings: Any) -> None:
    fleet = sim_fleet(1, "2.12.0")
    fleet[1].seed_audit(10)
    tasks.ingest_one(inst(1).pk)
    HarborEvent.objects.filter(harbor_id__lte=4).update(op_time=now() - timedelta(days=40))
    settings.EVENTS_RETENTION_DAYS = 30
    assert tasks.purge_events() == "4 events deleted"
    assert HarborEvent.objects.count() == 6


@pytest.mark.parametrize(("environ", "expected"), [
    ({}, {"*/5"}),
    ({"HARBOROPS_EVENTS_INGEST_CRON": "*/15 * * * *"}, {"*/15"}),
    ({"HARBOROPS_EVENTS_INGEST_CRON": "disable"}, set()),
])
def test_the_beat_schedule_has_the_ingest_entry(environ: dict[str, str], expected: set[str]) -> None:
    schedule = build_beat_schedule(SYSTEM_SCHEDULES, environ)
    found = {str(e["schedule"]._orig_minute) for e in schedule.values()
             if e["task"] == "harborops.events.tasks.ingest_fleet"}
    assert found == expected
    purge = [e for e in schedule.values() if e["task"] == "harborops.events.tasks.purge_events"]
    assert len(purge) == 1
