"""The demo's GC part against the demo fleet: a policy, Harbor schedules set, one vanished, a run."""

from __future__ import annotations

from unittest import mock

import pytest

from harborops.core.models import JobRun
from harborops.fleet import demo as fleet_demo
from harborops.harbor_sim.server import SimServer
from harborops.maintenance import demo
from harborops.maintenance.models import GCPolicy, GCStep
from harborops.maintenance.services import watchdog
from tests.maintenance.conftest import ACTOR

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(60)]


def test_the_demo_has_a_policy_schedules_a_lost_one_and_a_run() -> None:
    with SimServer(fleet_demo.build()) as server:
        fleet_demo.register(server, ACTOR)
        with mock.patch("harborops.core.tasks.run_job.apply_async"):
            lines = demo.start(server, ACTOR)
        assert "Harbor schedules set on 6 instance(s), 1 unreachable" in lines[0]  # 7 prod Harbors, one down
        rows = {r.instance.name: {f.code for f in r.findings} for r in watchdog.overview()}
        assert "schedule_lost" in rows[demo.LOSES_SCHEDULE]
        assert "schedule_lost" not in rows["demo-eu-prod-a"]
        job = JobRun.objects.get(kind="maintenance.gc_run")
        assert GCStep.objects.filter(job=job).count() == 7
        demo.start(server, ACTOR)  # idempotent policy
        assert GCPolicy.objects.count() == 1
    assert demo.unregister(ACTOR) == 1
