"""The jobs.* alert conditions: a job failed (until a later run of it succeeds), a sweep or reaper run missed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from harborops.core import conditions as registry
from harborops.core.job_conditions import job_conditions, overdue, system_cron
from harborops.core.models import JobRun, PeriodicRun
from harborops.core.tasks import reap_stale_jobs
from harborops.fleet.models import Instance, SweepRun

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

AT = dt.datetime(2026, 12, 2, 12, 0, 30, tzinfo=dt.UTC)


def found(at: dt.datetime = AT) -> dict[tuple[str, str], registry.Occurrence]:
    return {o.key: o for o in job_conditions(at)}


def job(kind: str, status: str, minutes_ago: float, target: Instance | None = None, **fields) -> JobRun:
    extra = {}
    if target is not None:
        extra = {"target_type": ContentType.objects.get_for_model(Instance), "target_id": str(target.pk),
                 "target_repr": target.name}
    return JobRun.objects.create(kind=kind, status=status, finished_at=AT - dt.timedelta(minutes=minutes_ago),
                                 **extra, **fields)


def test_registered_with_the_app():
    assert {"jobs.failed", "jobs.sweep_missed", "jobs.reaper_missed"} <= set(registry.titles())


def test_latest_failed_run_per_kind_and_target(settings):
    settings.JOBS_FAILED_ALERT_HOURS = 24
    a = Instance.objects.create(name="a", url="http://sim/a", username="admin", password="x")
    b = Instance.objects.create(name="b", url="http://sim/b", username="admin", password="x")
    job("events.backfill", JobRun.Status.FAILED, 30, a, error="HarborUnavailable: connection refused")
    job("events.backfill", JobRun.Status.FAILED, 90, b)
    job("events.backfill", JobRun.Status.SUCCEEDED, 10, b)  # b's later run succeeded: cleared
    job("access.apply", JobRun.Status.FAILED, 60 * 25)      # outside the window
    job("events.purge", JobRun.Status.CANCELLED, 5)
    hits = found()
    key = ("jobs.failed", f"job:events.backfill:fleet.instance:{a.pk}")
    assert set(hits) == {key}
    occ = hits[key]
    assert occ.summary.endswith("(a) failed") and occ.details == "HarborUnavailable: connection refused"
    assert occ.instance_id == a.pk and occ.labels == {"kind": "events.backfill"}
    assert occ.link.startswith("/jobs/")
    job("events.backfill", JobRun.Status.SUCCEEDED, 1, a)
    assert found() == {}


def test_a_job_without_target_has_a_kind_subject():
    job("events.purge", JobRun.Status.FAILED, 3, error="disk full")
    assert ("jobs.failed", "job:events.purge") in found()


def test_overdue_follows_the_cron():
    assert overdue("* * * * *", AT - dt.timedelta(seconds=20), AT) < dt.timedelta(0)
    assert overdue("* * * * *", AT - dt.timedelta(minutes=7), AT) == dt.timedelta(minutes=6, seconds=30)
    assert overdue("17 3 * * *", AT - dt.timedelta(hours=2), AT) < dt.timedelta(0)
    assert system_cron("harborops.fleet.tasks.sweep_fleet", {"HARBOROPS_SWEEP_CRON": "disable"}) is None
    assert system_cron("harborops.fleet.tasks.sweep_fleet", {}) == "* * * * *"


def test_sweep_missed_from_the_last_finished_sweep(settings, monkeypatch):
    settings.SCHEDULE_MISSED_GRACE_MINUTES = 5
    assert found() == {}  # never ran: a fresh install is not "late"
    SweepRun.objects.create(started_at=AT - dt.timedelta(minutes=7, seconds=5),
                            finished_at=AT - dt.timedelta(minutes=7))
    occ = found()[("jobs.sweep_missed", "schedule:fleet sweep")]
    assert occ.severity == "critical" and occ.summary == "The fleet sweep last finished 7 min ago"
    assert "'* * * * *'" in occ.details and occ.link == "/fleet/"
    SweepRun.objects.create(started_at=AT - dt.timedelta(seconds=50), finished_at=AT - dt.timedelta(seconds=45),
                            trigger=SweepRun.Trigger.MANUAL)
    assert ("jobs.sweep_missed", "schedule:fleet sweep") in found()  # a manual sweep does not hide a dead beat
    SweepRun.objects.create(started_at=AT - dt.timedelta(seconds=50), finished_at=AT - dt.timedelta(seconds=45))
    assert found() == {}
    SweepRun.objects.all().update(finished_at=AT - dt.timedelta(hours=1))
    monkeypatch.setenv("HARBOROPS_SWEEP_CRON", "0 * * * *")  # hourly: the 12:00 run is only 30 s late
    assert found() == {}


def test_reaper_task_records_its_runs_and_missed_runs_alert(settings):
    settings.SCHEDULE_MISSED_GRACE_MINUTES = 5
    assert not PeriodicRun.objects.exists()
    assert reap_stale_jobs() == "0 re-queued, 0 failed, 0 pending re-sent"
    run = PeriodicRun.objects.get(name="reaper")
    assert run.last_summary == "0 re-queued, 0 failed, 0 pending re-sent"
    assert ("jobs.reaper_missed", "schedule:job reaper") not in found(run.last_finished_at + dt.timedelta(minutes=2))
    late = found(run.last_finished_at + dt.timedelta(minutes=10))
    assert late[("jobs.reaper_missed", "schedule:job reaper")].link == "/jobs/"
    text = Client().get("/metrics").content.decode()
    value = re.search(r"^harborops_reaper_last_run_timestamp_seconds (\S+)$", text, re.M)
    assert value and float(value.group(1)) == pytest.approx(run.last_finished_at.timestamp())


def test_the_jobs_page_shows_what_needs_attention(vera):
    client = Client()
    client.force_login(vera)
    assert 'id="attention-none"' in client.get("/jobs/").content.decode()
    JobRun.objects.create(kind="events.purge", status=JobRun.Status.FAILED, finished_at=dt.datetime.now(dt.UTC),
                          error="disk full")
    page = client.get("/jobs/").content.decode()
    assert 'data-condition="jobs.failed"' in page and "disk full" in page
    assert 'data-condition' not in client.get("/jobs/", headers={"HX-Request": "true"}).content.decode()
