"""The demo's GC part against the demo fleet: a policy, Harbor schedules set, one vanished, 30 nights
of history with freed bytes on each instance, one overdue instance, a clean-up report, a live run."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from harborops.core.models import JobRun
from harborops.fleet import demo as fleet_demo
from harborops.fleet.models import Instance
from harborops.harbor_sim.server import SimServer
from harborops.maintenance import demo
from harborops.maintenance.models import GCPolicy, GCStep, UntaggedArtifact
from harborops.maintenance.services import cleanup, watchdog
from tests.maintenance.conftest import ACTOR

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(90)]


def test_the_demo_has_history_a_lost_schedule_an_overdue_instance_and_a_report(client: Client, vera: Any) -> None:
    with SimServer(fleet_demo.build()) as server:
        fleet_demo.register(server, ACTOR)
        with mock.patch("harborops.core.tasks.run_job.apply_async"):
            lines = demo.start(server, ACTOR)
        assert "Harbor schedules set on 6 instance(s), 1 unreachable" in lines[0]  # 7 prod Harbors, one down
        rows = {r.instance.name: {f.code for f in r.findings} for r in watchdog.overview()}
        assert "schedule_lost" in rows[demo.LOSES_SCHEDULE]
        assert {"success_too_old", "window_overrun"} <= rows[demo.OVERDUE]
        assert not rows["demo-eu-prod-a"] & {"schedule_lost", "success_too_old", "window_overrun"}
        history = JobRun.objects.filter(kind="maintenance.gc_run", params__demo_history=True)
        assert history.count() == demo.HISTORY_DAYS
        for name in ("demo-eu-prod-a", "demo-eu-prod-b", "demo-us-prod", "demo-ap-prod", "demo-edge-1"):
            freed = GCStep.objects.filter(instance__name=name, job__in=history, freed_bytes__gt=0)
            assert freed.count() == demo.HISTORY_DAYS
        live = JobRun.objects.get(kind="maintenance.gc_run", status="pending")
        assert GCStep.objects.filter(job=live).count() == 6
        assert not GCStep.objects.filter(job=live, instance_name=demo.OVERDUE).exists()
        # the clean-up report has untagged artifacts, an unpulled repository and a project near its quota
        assert UntaggedArtifact.objects.filter(instance__name="demo-us-prod").count() == 4  # 3 by digest + 1 moved
        assert {r.name for r in cleanup.unpulled(90)} >= {"library/api-2023", "library/ingest-2023"}
        assert [(p.instance.name, p.name) for p in cleanup.over_quota(0.8)] == [("demo-ap-prod", "library")]
        client.force_login(vera)
        page = client.get("/maintenance/").content.decode()
        assert page.count('class="freed-bar"') >= demo.HISTORY_DAYS * 5
        inst = Instance.objects.get(name="demo-eu-prod-a")
        detail = client.get(reverse("fleet:instance_detail", args=[inst.pk])).content.decode()
        assert 'id="instance-freed-trend"' in detail and 'id="gc-storage"' in detail
        assert "\xa0GB</td>" in detail  # storage used before / after, e.g. "212.4 GB"
        report = client.get("/maintenance/cleanup/").content.decode()
        assert 'data-repository="library/api"' in report
        with mock.patch("harborops.core.tasks.run_job.apply_async"):
            demo.start(server, ACTOR)  # idempotent: one policy, no second history
        assert GCPolicy.objects.count() == 1 and history.count() == demo.HISTORY_DAYS
    assert demo.unregister(ACTOR) == 1
