"""The living demo: simulated people push, pull, delete and log in on the demo Harbors (audit rows the
ingest picks up), storage grows, and one instance goes down and comes back on a schedule."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from harborops.events.ingest import ingest_instance
from harborops.events.models import HarborEvent
from harborops.fleet import demo
from harborops.fleet.demo_activity import FLAPPING, PROJECT, Activity
from harborops.fleet.models import Instance
from harborops.fleet.services import sweep
from harborops.harbor_sim import Fleet, HarborInstance, SimServer
from harborops.harbor_sim.activity import log_in, pull
from harborops.harbor_sim.clock import ManualClock
from harborops.harbor_sim.routes.artifacts import push_artifact

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def used(inst: HarborInstance) -> int:
    return inst.store.live_bytes() + inst.store.garbage_bytes


def test_pull_and_login_write_harbors_audit_rows_where_the_version_records_them():
    clock = ManualClock()
    new, old = HarborInstance("2.13.0", clock=clock), HarborInstance("2.10.0", clock=clock)
    for inst in (new, old):
        push_artifact(inst, "library", "web", "1.0", 100, who="ana")
        art = pull(inst, "library/web", "1.0", who="ben")
        assert art.pull_time == clock.now()
        log_in(inst, "chen")
    assert len(new.audit_ext) == 3 and len(old.audit_legacy) == 2  # 2.10 records no logins
    repo = next(iter(new.store.repositories.values()))
    assert repo.pull_count == 1


def test_rounds_of_activity_grow_storage_and_the_flapping_instance_goes_down_and_up():
    fleet = demo.build()
    activity = Activity(fleet, busy=1.0, outage_every=600, outage_for=300, seed=7)
    activity.prepare()
    before = {inst.name: used(inst) for inst in fleet}
    flapping = next(i for i in fleet if i.name == FLAPPING)
    for elapsed in range(0, 290, 20):
        activity.step(float(elapsed))
    assert not flapping.down and flapping.faults.error_rate == 0
    s = activity.stats
    assert s["pushes"] and s["pulls"] and s["logins"] and s["deletes"], s
    assert sum(used(i) for i in fleet) > sum(before.values())  # storage grows
    edge = next(i for i in fleet if i.name == "demo-edge-2")
    assert used(edge) == before["demo-edge-2"]  # nobody reaches the Harbor that is down for good
    activity.step(310.0)
    assert flapping.down and flapping.faults.error_rate == 1.0 and s["outages"] == 1
    pushed = used(flapping)
    activity.step(330.0)
    assert used(flapping) == pushed  # down: no one works on it
    activity.step(600.0)
    assert not flapping.down and flapping.faults.error_rate == 0 and s["recoveries"] == 1
    assert "pushes" in activity.summary() and FLAPPING in activity.describe()


def test_the_ingest_picks_up_what_the_people_did_and_the_sweep_sees_the_outage():
    fleet = Fleet([HarborInstance("2.13.0", name="demo-eu-dev"), HarborInstance("2.12.0", name="other")])
    with SimServer(fleet) as server:
        for n, sim in enumerate(fleet, start=1):
            Instance.objects.create(name=sim.name, url=server.instance_url(n), username="admin",
                                    password=demo.ADMIN_PASSWORD)
        activity = Activity(fleet, busy=1.0, outage_every=100, outage_for=50, seed=3)
        for elapsed in (0.0, 10.0, 20.0, 30.0):
            activity.step(elapsed)
        for inst in Instance.objects.all():
            ingest_instance(inst)
        stored = HarborEvent.objects.filter(instance_name="demo-eu-dev")
        assert stored.filter(project=PROJECT).count() >= 4  # setup pushes and this round's actions
        assert set(stored.values_list("username", flat=True)) & {"ana", "ben", "chen", "dana"}
        activity.step(60.0)  # the outage starts
        result = sweep.sweep_ids(list(Instance.objects.values_list("pk", flat=True)), timeout=5.0)
        assert result.summary()
        status = dict(Instance.objects.values_list("name", "status"))
        assert status == {"demo-eu-dev": "down", "other": "up"}
        activity.step(100.0)
        sweep.sweep_ids(list(Instance.objects.values_list("pk", flat=True)), timeout=5.0)
        assert Instance.objects.get(name="demo-eu-dev").status == "up"


@pytest.mark.django_db(transaction=True)
def test_the_demo_command_keeps_living_for_a_short_run():
    out = io.StringIO()
    call_command("demo", "--port", "0", "--no-sweep", "--activity-seconds", "0.2", "--run-for", "2", stdout=out)
    text = out.getvalue()
    assert "demo activity: people push, pull, delete and log in every 0.2 s" in text
    last = [line for line in text.splitlines() if line.startswith("demo activity:")][-1]
    pushes = int(last.split(": ", 1)[1].split(" pushes")[0])
    assert pushes > 0, last
