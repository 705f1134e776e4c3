"""GC runs against simulated Harbors of four versions: steps per instance, dry run then the real
run, freed bytes, HA staggering, the concurrency limits, a failing instance, the window."""

from __future__ import annotations

import itertools

import pytest

from harborops.fleet.models import HAGroup
from harborops.maintenance.models import GCStep
from tests.maintenance.conftest import GCFleet, log_of, make_policy, run

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(60)]


def test_it_runs_a_dry_run_then_the_real_gc_on_every_instance(gc_fleet: GCFleet) -> None:
    for n in (1, 2, 3, 4):
        gc_fleet.garbage(n, 5 * 1024 * 1024)
    job = run(make_policy(delete_untagged=True, workers=8))
    assert job.status == "succeeded", (job.error, log_of(job))
    steps = {s.instance_name: s for s in GCStep.objects.filter(job=job)}
    assert {s.status for s in steps.values()} == {"succeeded"}
    for s in steps.values():
        assert s.dry_run_gc_id and s.harbor_gc_id and s.dry_run_gc_id != s.harbor_gc_id
        assert s.estimated_bytes == 5 * 1024 * 1024
        assert s.freed_bytes == 5 * 1024 * 1024 and "frees up 5 MB" in s.harbor_log
    # 2.13 / 2.15 check in freed_space (saveGCRes, 2.9+); older ones only log whole MB
    assert steps["harbor-3"].freed_source == "harbor result" and steps["harbor-1"].freed_source == "gc log (MB)"
    assert "workers 8 lowered to 5" not in steps["harbor-3"].log  # 2.13 accepts up to 10
    assert "workers not sent" in steps["harbor-1"].log
    assert "5 MB" in job.summary or "freed" in job.summary
    # the garbage is really gone: a second run frees nothing
    again = run(make_policy(name="again"))
    assert [s.freed_bytes for s in GCStep.objects.filter(job=again)] == [0, 0, 0, 0]


def test_ha_group_members_never_collect_at_the_same_time(gc_fleet: GCFleet) -> None:
    group = HAGroup.objects.create(name="pair", mode=HAGroup.Mode.TWO_WAY_REPLICATION)
    for inst in gc_fleet.rows[:2]:
        inst.ha_group = group
        inst.save()
    job = run(make_policy(concurrency=4, dry_run_first=False))
    assert job.status == "succeeded", log_of(job)
    a, b = (GCStep.objects.get(job=job, instance_name=f"harbor-{n}") for n in (1, 2))
    assert a.finished_at is not None and b.started_at is not None
    assert a.finished_at <= b.started_at or b.finished_at <= a.started_at  # type: ignore[operator]
    assert "waiting: harbor-1 of HA group pair is collecting" in b.log
    others = GCStep.objects.filter(job=job, instance_name__in=["harbor-3", "harbor-4"])
    assert all(s.started_at < b.started_at for s in others)  # type: ignore[operator]


def test_a_failing_instance_never_stops_the_others(gc_fleet: GCFleet) -> None:
    gc_fleet.sim[2].jobs.set_outcome("gc", "fail")
    gc_fleet.rows[3].password = "wrong"
    gc_fleet.rows[3].save()
    job = run(make_policy(concurrency=1))
    assert job.status == "failed"
    status = dict(GCStep.objects.filter(job=job).values_list("instance_name", "status"))
    assert status == {"harbor-1": "succeeded", "harbor-2": "failed", "harbor-3": "succeeded", "harbor-4": "failed"}
    assert "dry-run GC" in GCStep.objects.get(job=job, instance_name="harbor-2").message
    assert "2 succeeded, 2 failed" in job.error


def test_a_window_that_expires_mid_run_stops_what_can_be_stopped(gc_fleet: GCFleet) -> None:
    for inst in gc_fleet.sim:
        inst.jobs.set_outcome("gc", "hang")
    job = run(make_policy(window_minutes=10, concurrency=2, dry_run_first=False))
    assert job.status == "failed"
    steps = {s.instance_name: s for s in GCStep.objects.filter(job=job)}
    # harbor-1 (2.5) cannot stop a GC: reported as overrun, still running on Harbor
    assert steps["harbor-1"].status == "overrun" and "cannot stop a GC" in steps["harbor-1"].message
    assert steps["harbor-2"].status == "overrun" and "stopped" in steps["harbor-2"].message
    assert gc_fleet.sim[2].jobs.admin_jobs[steps["harbor-2"].harbor_gc_id].stopped_at is not None
    assert gc_fleet.sim[1].jobs.admin_jobs[steps["harbor-1"].harbor_gc_id].stopped_at is None
    assert {steps["harbor-3"].status, steps["harbor-4"].status} == {"skipped"}
    assert 600 <= gc_fleet.ticker.slept <= 600 + 15


def test_the_fleet_wide_limit_holds_across_runs(gc_fleet: GCFleet, settings: object) -> None:
    settings.GC_MAX_CONCURRENT = 1  # type: ignore[attr-defined]
    job = run(make_policy(concurrency=4, dry_run_first=False))
    assert job.status == "succeeded"
    steps = list(GCStep.objects.filter(job=job).order_by("started_at"))
    for earlier, later in itertools.pairwise(steps):
        assert earlier.finished_at <= later.started_at  # type: ignore[operator]


def test_ha_staggering_shows_in_the_order_of_the_child_steps(gc_fleet: GCFleet) -> None:
    """Two HA pairs, room for four at once: the steps are laid out one member of each pair first, and
    each second member starts only after its partner's GC ended."""
    for name, members in (("pair-a", gc_fleet.rows[:2]), ("pair-b", gc_fleet.rows[2:])):
        group = HAGroup.objects.create(name=name, mode=HAGroup.Mode.TWO_WAY_REPLICATION)
        for inst in members:
            inst.ha_group = group
            inst.save()
    job = run(make_policy(concurrency=4, dry_run_first=False))
    assert job.status == "succeeded", log_of(job)
    steps = list(GCStep.objects.filter(job=job).order_by("position"))
    assert [s.instance_name for s in steps] == ["harbor-1", "harbor-3", "harbor-2", "harbor-4"]
    by_start = sorted(steps, key=lambda s: (s.started_at, s.position))
    assert [s.instance_name for s in by_start[:2]] == ["harbor-1", "harbor-3"]  # first wave: one per pair
    named = {s.instance_name: s for s in steps}
    for first, second in (("harbor-1", "harbor-2"), ("harbor-3", "harbor-4")):
        assert named[first].finished_at <= named[second].started_at  # type: ignore[operator]
    # the third and fourth steps waited for their partners, never for the fleet limit
    assert "waiting: harbor-1 of HA group pair-a is collecting" in named["harbor-2"].log
    assert "waiting: harbor-3 of HA group pair-b is collecting" in named["harbor-4"].log


def test_one_member_of_a_shared_storage_group_collects_for_the_group(gc_fleet: GCFleet) -> None:
    """Shared storage: one GC reclaims the storage of every member; a second one is wasted (and the
    replication pair check flags two collectors). The first member by name collects, the job says why
    the other does not, and Harbor's own schedule is set on the collector only."""
    group = HAGroup.objects.create(name="shared", mode=HAGroup.Mode.SHARED_STORAGE)
    for inst in gc_fleet.rows[:2]:
        inst.ha_group = group
        inst.save()
    job = run(make_policy(concurrency=4, dry_run_first=False))
    assert job.status == "succeeded", log_of(job)
    assert sorted(GCStep.objects.filter(job=job).values_list("instance_name", flat=True)) == [
        "harbor-1", "harbor-3", "harbor-4"]
    assert "not collected: harbor-2: shares storage with harbor-1 (HA group shared)" in log_of(job)
    from harborops.maintenance.services.native import expected_schedules

    make_policy(name="scheduled", harbor_cron="0 0 3 * * 6")
    assert set(expected_schedules()) == {gc_fleet.rows[0].pk, gc_fleet.rows[2].pk, gc_fleet.rows[3].pk}
