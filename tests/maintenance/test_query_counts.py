"""Issue 15: the GC pages and API ask the database the same number of queries for 2 instances as
for 6, each with GC history (the overview once did three per instance, a policy's page one per
target, the policy list one per policy). Also: the watchdog's batched step history and its
previous-fire search answer what the per-instance queries and the minute-by-minute search did."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

import pytest
from celery.schedules import crontab
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import localtime, now

from harborops.core.models import JobRun
from harborops.fleet.models import HAGroup, Instance
from harborops.maintenance.models import CleanupScan, GCPolicy, GCStep, InstanceGC, OfflineTarget
from harborops.maintenance.services import runs, watchdog
from harborops.schedule import parse_cron
from harborops.ssh.models import SSHHost

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

PAGES = ("/maintenance/", "/api/maintenance/instances/", "/maintenance/policies/{policy}/",
         "/api/maintenance/policies/", "/maintenance/cleanup/", "/", "/api/attention/", "/metrics")


def add_instances(start: int, count: int) -> None:
    """``count`` instances from harbor-<start>, each with a GC state, an HA group every other one, a
    succeeded step, a newer overran one on every third, a clean-up scan, and a policy of their own
    (listed) with an offline registry: every per-row relation the pages show."""
    at = now()
    job = JobRun.objects.create(kind=runs.KIND, status="succeeded", actor_name="system", finished_at=at)
    host = SSHHost.objects.create(name=f"host-{start}", address="10.9.0.1", port=22, username="deploy")
    for n in range(start, start + count):
        group = HAGroup.objects.create(name=f"group-{n}", mode=HAGroup.Mode.SHARED_STORAGE) if n % 2 else None
        inst = Instance.objects.create(name=f"harbor-{n:02d}", url=f"http://127.0.0.1:9/h/{n}", username="admin",
                                       password="x", ha_group=group)
        InstanceGC.objects.create(instance=inst, checked_at=at, schedule_type="Custom", schedule_cron="0 0 3 * * 6",
                                  last_run_id=n, last_run_status="Success", last_success_at=at - dt.timedelta(days=9))
        GCStep.objects.create(job=job, instance=inst, instance_name=inst.name, status=GCStep.Status.SUCCEEDED,
                              started_at=at - dt.timedelta(hours=n + 1), finished_at=at - dt.timedelta(hours=n),
                              freed_bytes=n * 1000)
        GCStep.objects.create(job=job, instance=inst, instance_name=inst.name, status=GCStep.Status.SUCCEEDED,
                              finished_at=at - dt.timedelta(days=2), freed_bytes=1)  # older: not the last
        if n % 3 == 0:
            GCStep.objects.create(job=job, instance=inst, instance_name=inst.name, status=GCStep.Status.OVERRUN,
                                  message=f"overran {n}", finished_at=at)
        CleanupScan.objects.create(instance=inst, scanned_at=at, projects=1, repositories=2, artifacts=3)
        target = OfflineTarget.objects.create(name=f"registry-{n}", host=host, config_path="/etc/registry.yml",
                                              storage_dir="/var/lib/registry", registry_url="http://10.9.0.1:5000")
        policy = GCPolicy.objects.create(name=f"gc-{n:02d}", targets=GCPolicy.Targets.LISTED,
                                         harbor_cron="0 0 3 * * 6")
        policy.instances.add(inst)
        policy.offline_targets.add(target)


def queries(client: Client, url: str) -> int:
    client.get(url)  # warm: sessions, caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def test_the_query_count_does_not_grow_with_the_fleet(client: Client, vera: Any) -> None:
    add_instances(1, 2)
    everyone = GCPolicy.objects.create(name="aa-all", targets=GCPolicy.Targets.ALL, harbor_cron="0 0 3 * * 6")
    client.force_login(vera)
    urls = [u.format(policy=everyone.pk) for u in PAGES]
    few = {url: queries(client, url) for url in urls}
    add_instances(3, 4)
    more = {url: queries(client, url) for url in urls}
    assert more == few
    # and the pages did show the new rows' relations, so the counts compare like with like
    page = client.get(f"/maintenance/policies/{everyone.pk}/").content.decode()
    assert "(group-5)" in page and "harbor-06" in page
    api = client.get("/api/maintenance/policies/").json()
    policies = api["results"] if isinstance(api, dict) else api
    assert {"gc-06": ["registry-6"]}.items() <= {p["name"]: p["offline_targets"] for p in policies}.items()
    rows = {r["instance"]: r for r in client.get("/api/maintenance/instances/").json()}
    assert len(rows) == 6 and rows["harbor-03"]["ha_group"] == "group-3"
    assert {f["code"] for f in rows["harbor-06"]["findings"]} >= {"window_overrun"}
    assert "window_overrun" not in {f["code"] for f in rows["harbor-05"]["findings"]}
    metrics = client.get("/metrics").content.decode()
    assert re.search(r'^harborops_gc_last_freed_bytes\{instance="harbor-04"[^}]*\} 4000\.0$', metrics, re.M)
    assert 'harborops_gc_condition{condition="window_overrun",instance="harbor-06"} 1.0' in metrics.splitlines()


def test_the_batched_step_history_matches_each_instance_s_own(client: Client, vera: Any) -> None:
    add_instances(1, 6)
    inst = Instance.objects.get(name="harbor-06")
    # a later pending step does not hide the overrun; a later succeeded one ends it
    job = JobRun.objects.create(kind=runs.KIND, status="running", actor_name="system")
    GCStep.objects.create(job=job, instance=inst, instance_name=inst.name, status=GCStep.Status.PENDING)
    GCStep.objects.create(job=job, instance=inst, instance_name=inst.name, status=GCStep.Status.SUCCEEDED)  # no end
    batched = watchdog.step_history(Instance.objects.all())
    assert batched[inst.pk].overrun is None and batched[inst.pk].last_succeeded is not None
    for one in Instance.objects.all():
        steps = GCStep.objects.filter(instance=one)
        newest = steps.exclude(status=GCStep.Status.PENDING).order_by("-pk").first()
        succeeded = (steps.filter(status=GCStep.Status.SUCCEEDED).exclude(finished_at=None)
                     .order_by("-finished_at").values_list("finished_at", flat=True).first())
        expected = watchdog.StepHistory(succeeded, newest.message if newest and newest.status == "overrun" else None)
        assert batched[one.pk] == expected
        assert watchdog.step_history(Instance.objects.filter(pk=one.pk)) == {one.pk: expected}
    assert batched[Instance.objects.get(name="harbor-03").pk].overrun == "overran 3"
    # findings() without a history reads the instance's own: the same as the overview's
    for row in watchdog.overview():
        assert watchdog.findings(row.instance, row.state, row.expected) == row.findings


def minute_by_minute(cron: str, before: dt.datetime, horizon_days: int) -> dt.datetime | None:
    """The search previous_fire replaced: every minute back over the horizon."""
    fields = cron.split()
    spec: Any = crontab(**parse_cron(" ".join(fields[1:] if len(fields) == 6 else fields)))
    t = localtime(before).replace(second=0, microsecond=0)
    for _ in range(horizon_days * 24 * 60):
        if (t.minute in spec.minute and t.hour in spec.hour and t.month in spec.month_of_year
                and t.day in spec.day_of_month and (t.isoweekday() % 7) in spec.day_of_week):
            return t
        t -= dt.timedelta(minutes=1)
    return None


@pytest.mark.parametrize("cron", ["0 0 3 * * 6", "0 */15 * * * *", "0 5,45 1-3 * * 1-5", "0 0 4 29 2 *",
                                  "0 59 23 * * 0", "30 2 * * *"])
def test_previous_fire_finds_what_the_minute_by_minute_search_found(cron: str) -> None:
    start = dt.datetime(2026, 3, 1, 2, 59, 30, tzinfo=dt.UTC)
    for hours, horizon in itertools.product((0, 1, 27, 71, 150, 200, 1000), (1, 2, 8, 35)):
        before = start + dt.timedelta(hours=hours, minutes=hours % 60)
        assert watchdog.previous_fire(cron, before, horizon_days=horizon) == \
            minute_by_minute(cron, before, horizon), (before, horizon)
    assert watchdog.previous_fire("not a cron", start) is None
