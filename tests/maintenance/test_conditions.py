"""The GC alert conditions (gc.*) in the shared registry, from stored data; and the freed-bytes
trend chart drawn from finished steps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.timezone import localdate, now

from harborops.core.conditions import evaluate_all, titles
from harborops.harbor.client import HarborClient
from harborops.maintenance.charts import freed_steps, freed_trend
from harborops.maintenance.conditions import gc_conditions
from harborops.maintenance.models import GCStep
from harborops.maintenance.services import native
from harborops.maintenance.services.watchdog import CONDITIONS
from tests.maintenance.conftest import GCFleet, make_policy, run

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(60)]


def test_every_watchdog_finding_is_a_registered_condition() -> None:
    registered = titles()
    assert {f"gc.{code}" for code in CONDITIONS} <= set(registered)
    assert registered["gc.schedule_lost"] == "GC schedule lost"
    assert registered["gc.window_overrun"] == "GC overran its window"


def test_conditions_follow_the_fleet_state(gc_fleet: GCFleet) -> None:
    make_policy(harbor_cron="0 0 3 * * 6")
    for row in gc_fleet.rows:
        with HarborClient(row.url, username="admin", password="Harbor12345") as c:
            c.set_gc_schedule("Custom", "0 0 3 * * 6")
    gc_fleet.sim[2].jobs.set_outcome("gc", "fail", once=True)
    with HarborClient(gc_fleet.rows[1].url, username="admin", password="Harbor12345") as c:
        c.run_gc()
    gc_fleet.sim.advance(120)
    native.check_fleet()
    gc_fleet.sim[3].jobs.lose_schedule("gc")
    native.check_fleet()
    found = {(o.condition, o.subject): o for o in gc_conditions(now())}
    h2, h3 = gc_fleet.rows[1], gc_fleet.rows[2]
    failed = found[("gc.run_failed", f"instance:{h2.pk}")]
    assert failed.severity == "critical" and failed.instance_id == h2.pk and "harbor-2" in failed.summary
    assert failed.link == "/maintenance/"
    lost = found[("gc.schedule_lost", f"instance:{h3.pk}")]
    assert lost.severity == "critical" and lost.labels == {"policy": "nightly"}
    assert ("gc.schedule_lost", f"instance:{gc_fleet.rows[0].pk}") not in found
    # never collected anywhere: success too old everywhere (a warning)
    assert {s for (c, s) in found if c == "gc.success_too_old"} == {f"instance:{r.pk}" for r in gc_fleet.rows}
    result = evaluate_all(now(), only=["gc"])
    assert result.errors == {} and {o.key for o in result.occurrences} == set(found)


def test_a_window_overrun_is_a_condition_and_a_success_clears_success_too_old(gc_fleet: GCFleet) -> None:
    for inst in gc_fleet.sim:
        inst.jobs.set_outcome("gc", "hang", once=True)
    run(make_policy(window_minutes=10, concurrency=4, dry_run_first=False))
    native.check_fleet()
    keys = {o.key for o in gc_conditions(now())}
    assert ("gc.window_overrun", f"instance:{gc_fleet.rows[1].pk}") in keys
    gc_fleet.sim.advance(3600)
    run(make_policy(name="again", dry_run_first=False, concurrency=4))
    keys = {o.key for o in gc_conditions(now())}
    assert not {k for k in keys if k[0] in ("gc.window_overrun", "gc.success_too_old")
                and k[1] == f"instance:{gc_fleet.rows[1].pk}"}


def test_the_freed_trend_stacks_instances_per_day(gc_fleet: GCFleet) -> None:
    for n in (1, 2):
        gc_fleet.garbage(n, 3 * 1024 * 1024)
    run(make_policy(dry_run_first=False, concurrency=4))
    today = localdate()
    steps = freed_steps(days=30, today=today)
    assert sorted(s.instance_name for s in steps) == ["harbor-1", "harbor-2"]
    old = GCStep.objects.get(instance_name="harbor-1", freed_bytes__gt=0)
    old.pk, old.finished_at, old.freed_bytes = None, old.finished_at - dt.timedelta(days=5), 6 * 1024 * 1024  # type: ignore[operator]
    old.save()
    chart = freed_trend(freed_steps(days=30, today=today), days=30, today=today)
    assert chart is not None and len(chart.bars) == 3 and chart.total == "12.0\xa0MB"
    assert [name for name, _, _ in chart.legend] == ["harbor-1", "harbor-2"]
    tallest = max(chart.bars, key=lambda b: b.height)
    assert "harbor-1: 6.0\xa0MB freed" in tallest.title and tallest.x < chart.bars[-1].x
    today_bars = [b for b in chart.bars if b.title.startswith(f"{today:%Y-%m-%d}")]
    assert len(today_bars) == 2 and today_bars[0].y > today_bars[1].y  # stacked: the second sits on the first
    only = freed_trend(freed_steps(days=30, today=today, instance_id=gc_fleet.rows[1].pk), days=30, today=today)
    assert only is not None and [b.title.split()[1] for b in only.bars] == ["harbor-2:"]
    assert freed_trend([], days=30, today=today) is None
