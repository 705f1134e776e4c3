"""Sweep runs: chunk claiming and summing, how fresh the fleet's picture is (page and API), and the
state write of record_probes as one UPDATE … FROM (VALUES …) instead of bulk_update's CASE WHEN."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now
from rest_framework.test import APIClient

from harborops.fleet.models import Instance, SweepChunk, SweepRun
from harborops.fleet.services import bulk_sql, sweep_runs
from harborops.fleet.services.sweep import Probe, SweepResult, record_probes
from tests.fleet.conftest import MakeInstance

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _result(up: int = 0, down: int = 0, transitions: int = 0) -> SweepResult:
    r = SweepResult(swept=up + down, transitions=transitions, poll_seconds=1.5, record_seconds=0.25)
    r.counts.update({"up": up, "down": down})
    return r


def test_a_run_is_summed_once_per_chunk_and_finished_by_the_last(make_instance: MakeInstance) -> None:
    for n in range(1, 6):
        make_instance(n)
    make_instance(6, enabled=False)
    run = sweep_runs.start_run(chunk_size=2)
    assert (run.instances, run.chunks_total, run.trigger) == (5, 3, "scheduled")
    assert [len(c.instance_ids) for c in run.chunks.all()] == [2, 2, 1]
    first = sweep_runs.claim_chunk(run.pk, 0, worker="w1")
    assert first is not None and sweep_runs.claim_chunk(run.pk, 0, worker="w2") is None
    sweep_runs.finish_chunk(first, _result(up=2, transitions=2))
    sweep_runs.finish_chunk(first, _result(up=2, transitions=2))  # a second delivery adds nothing
    run.refresh_from_db()
    assert (run.chunks_done, run.up, run.transitions, run.finished_at) == (1, 2, 2, None)
    for index, result in ((1, _result(up=1, down=1)), (2, _result(down=1))):
        chunk = sweep_runs.claim_chunk(run.pk, index)
        assert chunk is not None
        sweep_runs.finish_chunk(chunk, result)
    run.refresh_from_db()
    assert (run.chunks_done, run.up, run.down) == (3, 3, 2) and run.finished_at is not None
    assert run.duration == run.finished_at - run.started_at
    assert run.outcome_summary() == "5 instances swept (3 up, 2 down); 2 status changes"
    done = SweepChunk.objects.get(run=run, index=0)
    assert (done.worker, done.swept, done.poll_seconds, done.record_seconds) == ("w1", 2, 1.5, 0.25)


def test_an_empty_fleet_finishes_its_run_at_once() -> None:
    run = sweep_runs.start_run()
    assert run.chunks_total == 0 and run.finished_at is not None


def test_freshness_flags_a_sweep_older_than_three_intervals(monkeypatch: pytest.MonkeyPatch) -> None:
    at = dt.datetime(2026, 12, 2, 12, 0, 30, tzinfo=dt.UTC)
    monkeypatch.delenv("HARBOROPS_SWEEP_CRON", raising=False)
    assert sweep_runs.schedule_interval(at) == dt.timedelta(minutes=1)
    SweepRun.objects.create(started_at=at - dt.timedelta(minutes=2, seconds=5),
                            finished_at=at - dt.timedelta(minutes=2))
    fresh = sweep_runs.freshness(at)
    assert fresh.age == dt.timedelta(minutes=2) and not fresh.stale
    SweepRun.objects.update(finished_at=at - dt.timedelta(minutes=3, seconds=1))
    fresh = sweep_runs.freshness(at)
    assert fresh.stale and fresh.stale_after_text == "3 min"
    monkeypatch.setenv("HARBOROPS_SWEEP_CRON", "*/15 * * * *")
    fresh = sweep_runs.freshness(at)
    assert fresh.interval == dt.timedelta(minutes=15) and not fresh.stale
    monkeypatch.setenv("HARBOROPS_SWEEP_CRON", "disable")
    assert not sweep_runs.freshness(at).stale  # no schedule: nothing to be late against


def test_a_first_sweep_that_never_finishes_becomes_stale() -> None:
    SweepRun.objects.create(started_at=now() - dt.timedelta(minutes=10), chunks_total=3)
    fresh = sweep_runs.freshness()
    assert fresh.last is None and fresh.current is not None and fresh.stale


def _finished_run(minutes_ago: float) -> SweepRun:
    end = now() - dt.timedelta(minutes=minutes_ago)
    run = SweepRun.objects.create(started_at=end - dt.timedelta(seconds=4), finished_at=end,
                                  duration=dt.timedelta(seconds=4), instances=3, chunks_total=2, chunks_done=2,
                                  up=2, down=1, transitions=1)
    SweepChunk.objects.create(run=run, index=0, instance_ids=[1, 2], state="done", worker="w1@host:11", swept=2,
                              started_at=end - dt.timedelta(seconds=4), finished_at=end, poll_seconds=3.5,
                              record_seconds=0.2)
    SweepChunk.objects.create(run=run, index=1, instance_ids=[3], state="done", worker="w2@host:12", swept=1,
                              started_at=end - dt.timedelta(seconds=3), finished_at=end, poll_seconds=2.5,
                              record_seconds=0.1)
    return run


def test_the_fleet_page_shows_the_last_sweep_and_flags_a_stale_one(vera: User) -> None:
    client = Client()
    client.force_login(vera)
    page = client.get("/fleet/").content.decode()
    assert 'id="sweep-status"' in page and "none yet" in page and 'id="sweep-stale"' not in page
    run = _finished_run(minutes_ago=2)
    page = client.get("/fleet/").content.decode()
    assert "2\xa0minutes ago" in page and "3 instances swept (2 up, 1 down); 1 status changes" in page
    assert 'id="sweep-stale"' not in page and "w2@host:12" in page and "took 4.0 s" in page
    SweepRun.objects.filter(pk=run.pk).update(finished_at=now() - dt.timedelta(minutes=10))
    fragment = client.get("/fleet/sweeps/status/").content.decode()
    assert 'id="sweep-stale"' in fragment and "older than 3 intervals (3 min)" in fragment
    SweepRun.objects.create(started_at=now() - dt.timedelta(seconds=20), chunks_total=4, chunks_done=1)
    assert "1 of 4 chunks done" in client.get("/fleet/sweeps/status/").content.decode()


def test_the_api_lists_runs_with_chunk_timings_and_says_how_fresh(vera: User) -> None:
    run = _finished_run(minutes_ago=1)
    api = APIClient()
    api.force_authenticate(vera)
    listed = api.get("/api/fleet/sweep-runs/").json()
    assert listed["count"] == 1
    got = listed["results"][0]
    assert (got["id"], got["up"], got["down"], got["duration_seconds"], got["trigger"]) == (run.pk, 2, 1, 4.0,
                                                                                            "scheduled")
    assert [(c["index"], c["instances"], c["worker"], c["poll_seconds"], c["seconds"]) for c in got["chunks"]] == [
        (0, 2, "w1@host:11", 3.5, 4.0), (1, 1, "w2@host:12", 2.5, 3.0)]
    latest = api.get("/api/fleet/sweep-runs/latest/").json()
    assert latest["last"]["id"] == run.pk and latest["current"] is None and latest["stale"] is False
    assert 55 < latest["age_seconds"] < 120 and latest["interval_seconds"] == 60.0
    assert api.get(f"/api/fleet/sweep-runs/{run.pk}/").json()["chunks_done"] == 2
    assert api.post("/api/fleet/sweep-runs/", {}).status_code == 403  # read-only, and a viewer's


def test_record_probes_writes_state_in_one_update_from_values(make_instance: MakeInstance) -> None:
    """No CASE WHEN per row: one UPDATE … FROM (VALUES …) carries every steady instance's state,
    JSON, nulls and timestamps included, on PostgreSQL and SQLite alike."""
    assert bulk_sql.supports_update_from(connection)
    instances = [make_instance(n, status="up", storage_total=100, storage_free=50,
                               statistics={"total_project_count": 1}) for n in range(1, 4)]
    taken = now()
    probes = [Probe(instance_id=i.pk, taken_at=taken, status="up", latency_ms=10 + k, version=f"v2.13.{k}",
                    components=[{"name": "trivy", "status": "unhealthy"}] if k == 1 else [],
                    storage_total=None if k == 2 else 200, storage_free=None if k == 2 else 20,
                    statistics={"total_project_count": k}) for k, i in enumerate(instances)]
    with CaptureQueriesContext(connection) as queries:
        result = record_probes(probes)
    state_writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "fleet_instance"')]
    assert result.swept == 3 and result.transitions == 0
    assert len(state_writes) == 1 and "FROM (VALUES" in state_writes[0], state_writes
    assert "CASE WHEN" not in state_writes[0]
    got = {i.name: i for i in Instance.objects.all()}
    assert got["harbor-2"].unhealthy_components == ["trivy"] and got["harbor-1"].unhealthy_components == []
    assert got["harbor-1"].storage_total == 200 and got["harbor-3"].storage_total == 100  # kept when unknown
    assert [got[f"harbor-{n}"].latency_ms for n in (1, 2, 3)] == [10, 11, 12]
    assert got["harbor-3"].statistics == {"total_project_count": 2} and got["harbor-3"].version == "v2.13.2"
    assert all(i.last_swept_at == taken and i.last_seen_at == taken and i.error_message == "" for i in got.values())


def test_record_probes_stores_a_big_chunk_in_batches(make_instance: MakeInstance,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of RECORD_BATCH (memory of one batch, one short transaction each) add up to the whole."""
    from harborops.fleet.models import HealthSnapshot, StatusChange
    from harborops.fleet.services import sweep

    monkeypatch.setattr(sweep, "RECORD_BATCH", 2)
    instances = [make_instance(n, status="up") for n in range(1, 6)]
    taken = now()
    probes = [Probe(instance_id=i.pk, taken_at=taken, status="down" if k in (1, 4) else "up", latency_ms=k)
              for k, i in enumerate(instances)]
    with CaptureQueriesContext(connection) as queries:
        result = record_probes(probes)
    assert (result.swept, result.transitions, result.counts["up"], result.counts["down"]) == (5, 2, 3, 2)
    assert sum(q["sql"].startswith('INSERT INTO "fleet_healthsnapshot"') for q in queries.captured_queries) == 3
    assert HealthSnapshot.objects.count() == 5 and StatusChange.objects.count() == 2
    assert list(Instance.objects.order_by("pk").values_list("status", "latency_ms")) == [
        ("up", 0), ("down", 1), ("up", 2), ("up", 3), ("down", 4)]


def test_update_from_values_splits_at_the_parameter_limit(make_instance: MakeInstance,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    instances = [make_instance(n) for n in range(1, 8)]
    for k, inst in enumerate(instances):
        inst.latency_ms, inst.error_message = k, f"e{k}"
    monkeypatch.setattr(bulk_sql, "_max_params", lambda _c: 9)  # 3 rows of (pk + 2 columns) per statement
    with CaptureQueriesContext(connection) as queries:
        assert bulk_sql.update_from_values(instances, ("latency_ms", "error_message")) == 7
    assert sum("FROM (VALUES" in q["sql"] for q in queries.captured_queries) == 3
    assert list(Instance.objects.order_by("pk").values_list("latency_ms", "error_message")) == [
        (k, f"e{k}") for k in range(7)]


def test_older_sqlite_falls_back_to_bulk_update(make_instance: MakeInstance, monkeypatch: pytest.MonkeyPatch) -> None:
    inst = make_instance(1)
    inst.latency_ms = 42
    monkeypatch.setattr(bulk_sql, "supports_update_from", lambda _c: False)
    with CaptureQueriesContext(connection) as queries:
        bulk_sql.update_from_values([inst], ("latency_ms",))
    assert any("CASE WHEN" in q["sql"] for q in queries.captured_queries)
    assert Instance.objects.get(pk=inst.pk).latency_ms == 42


def test_chunks_no_worker_took_end_their_run_incomplete(make_instance: MakeInstance, vera: User) -> None:
    """A chunk's task expires after 50 s unclaimed; the next scheduled sweep ends that run as incomplete
    (it never counts as the last complete sweep), and the page and API say so."""
    from harborops.core.models import JobRun
    from harborops.fleet import tasks

    for n in range(1, 6):
        make_instance(n)
    done = _finished_run(minutes_ago=5)
    run = sweep_runs.start_run(chunk_size=2)  # three chunks: one polled, one lost with its worker, one never taken
    SweepRun.objects.filter(pk=run.pk).update(started_at=now() - dt.timedelta(minutes=20))
    first = sweep_runs.claim_chunk(run.pk, 0, worker="w1")
    assert first is not None
    sweep_runs.finish_chunk(first, _result(up=2))
    assert sweep_runs.claim_chunk(run.pk, 1, worker="w-killed") is not None
    SweepChunk.objects.filter(run=run, index=1).update(started_at=now() - dt.timedelta(minutes=19))
    fresh_run = sweep_runs.start_run(chunk_size=2)  # just started: its chunks may still be taken
    job = JobRun.objects.create(kind="fleet.sweep", status=JobRun.Status.RUNNING)
    manual = sweep_runs.start_run(trigger=SweepRun.Trigger.MANUAL, job_id=job.pk, chunk_size=2)
    SweepRun.objects.filter(pk=manual.pk).update(started_at=now() - dt.timedelta(minutes=20))

    assert sweep_runs.close_abandoned() == 1
    run.refresh_from_db()
    assert run.finished_at is not None and run.chunks_expired == 2 and run.chunks_done == 1 and not run.is_complete
    assert sorted(run.chunks.values_list("state", flat=True)) == ["done", "expired", "expired"]
    assert SweepRun.objects.get(pk=fresh_run.pk).finished_at is None  # too young to give up on
    assert SweepRun.objects.get(pk=manual.pk).finished_at is None  # its job still polls what nobody took
    late = SweepChunk.objects.get(run=run, index=1)
    sweep_runs.finish_chunk(late, _result(up=2))  # the killed worker's chunk reporting late adds nothing
    assert SweepRun.objects.get(pk=run.pk).chunks_done == 1

    fresh = sweep_runs.freshness()
    assert fresh.last is not None and fresh.last.pk == done.pk and fresh.incomplete is not None
    assert fresh.incomplete.pk == run.pk
    client = Client()
    client.force_login(vera)
    fragment = client.get("/fleet/sweeps/status/").content.decode()
    assert 'id="sweep-incomplete"' in fragment and "2 of 3 chunks expired" in fragment
    api = APIClient()
    api.force_authenticate(vera)
    latest = api.get("/api/fleet/sweep-runs/latest/").json()
    assert latest["last"]["id"] == done.pk and latest["incomplete"]["chunks_expired"] == 2

    JobRun.objects.filter(pk=job.pk).update(status=JobRun.Status.FAILED)  # the job's worker died
    SweepRun.objects.filter(pk=fresh_run.pk).update(started_at=now() - dt.timedelta(minutes=3))
    tasks.sweep_fleet()  # the scheduled sweep ends what can no longer finish before it starts
    assert not SweepRun.objects.filter(pk__in=(fresh_run.pk, manual.pk), finished_at=None).exists()
