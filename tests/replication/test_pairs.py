"""HA pairs against two simulated Harbors over real sockets: setup creates exactly the robots, endpoints
and policies, syncs and checks; a re-run changes nothing; replication then works both ways (deletions
too); a planted missing artifact is found; teardown removes exactly what setup created."""

from __future__ import annotations

from typing import Any

import pytest

from harborops.core.actor import Actor
from harborops.core.jobs.runner import execute
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet.models import HAGroup
from harborops.harbor_sim import push_artifact
from harborops.replication import pairs, services
from harborops.replication.models import HAPair, PairSide
from tests.replication.conftest import SimFleet

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]
ADMIN = Actor.system("test")


@pytest.fixture
def group(sims: SimFleet, settings: Any) -> HAGroup:
    settings.REPLICATION_PAIR_POLL_SECONDS = 0
    sims.catch_up()
    for n in (1, 2):
        sims.fleet[n].jobs.durations["replication"] = 0  # the sim's tasks finish at once (clock stands still)
    g = HAGroup.objects.create(name="eu pair", mode=HAGroup.Mode.TWO_WAY_REPLICATION, hostname="harbor.eu")
    sims.instance(1, ha_group=g)
    sims.instance(2, ha_group=g)
    return g


def run_job(job: JobRun) -> JobRun:
    execute(job.pk)
    return JobRun.objects.get(pk=job.pk)


def snapshot(sims: SimFleet) -> list[tuple[Any, ...]]:
    out = []
    for n in (1, 2):
        s = sims.fleet[n].store
        out.append((sorted(r.name for r in s.robots.values()), sorted(r.name for r in s.registries.values()),
                    sorted(p["name"] for p in s.policies.values()), sorted(p.name for p in s.projects.values())))
    return out


def test_setup_is_idempotent_replicates_both_ways_and_teardown_removes_exactly_it(
        sims: SimFleet, group: HAGroup) -> None:
    a, b = sims.fleet[1], sims.fleet[2]
    a.store.robots.clear()
    only_a = push_artifact(a, "library", "app", "v1", 10)
    only_b = push_artifact(b, "library", "base", "1.0", 10)
    before = snapshot(sims)
    job = run_job(pairs.start_setup(group, ["library", "team"], actor=ADMIN))
    assert job.status == "succeeded", job.error
    assert job.summary == "eu pair: two-way replication set up (library, team); consistent"
    robots = [r for r in a.store.robots.values()]
    assert [r.name for r in robots] == ["robot$harborops-ha-eu-pair"] and robots[0].level == "system"
    perms = {(p["namespace"], acc["resource"], acc["action"]) for p in robots[0].permissions for acc in p["access"]}
    assert perms == {(ns, r, act) for ns in ("library", "team") for r, act in pairs.ROBOT_ACCESS}
    # the initial sync copied each side's artifact to the other
    assert {x.digest for r in b.store.repositories.values() for x in r.artifacts.values()} >= {only_a.digest}
    assert {x.digest for r in a.store.repositories.values() for x in r.artifacts.values()} >= {only_b.digest}
    pair = HAPair.objects.get()
    assert pair.consistent is True and pair.status == "set_up"
    assert all(s.projects_created == ["team"] for s in PairSide.objects.all())
    secret = PairSide.objects.get(instance__name="harbor-2").robot_secret
    assert secret and b.store.robots[PairSide.objects.get(instance__name="harbor-2").robot_id].secret == secret
    assert not JobLogLine.objects.filter(text__contains=secret).exists()

    after = snapshot(sims)
    again = run_job(pairs.start_setup(group, ["library", "team"], actor=ADMIN))
    assert again.status == "succeeded" and snapshot(sims) == after  # re-running changes nothing
    assert JobLogLine.objects.filter(job=again, text__contains="already there").count() == 6

    # live: a push on b reaches a (event-based), a delete on a reaches b
    fresh = push_artifact(b, "team", "svc", "2.0", 10)
    sims.fleet.advance(1)
    a.jobs.settle()  # what the next request to any instance does
    assert any(x.digest == fresh.digest for r in a.store.repositories.values() for x in r.artifacts.values())
    with sims.instance_client(1) as c:
        c.delete_artifact("library", "app", only_a.digest)
    sims.fleet.advance(1)
    a.jobs.settle()
    assert not any(x.digest == only_a.digest for r in b.store.repositories.values() for x in r.artifacts.values())

    # teardown: exactly what setup created goes; the projects it created hold artifacts now, so they stay
    down = run_job(pairs.start_teardown(group, actor=ADMIN))
    assert down.status == "succeeded", down.error
    assert "kept: harbor-1: project team kept" in down.summary
    final = snapshot(sims)
    for n in (0, 1):
        assert final[n][:3] == before[n][:3]  # robots, endpoints, policies as before setup
    assert HAPair.objects.get().status == "torn_down"
    assert all(not s.robot_secret and s.robot_id is None for s in PairSide.objects.all())


def test_a_planted_missing_artifact_is_found(sims: SimFleet, group: HAGroup) -> None:
    assert run_job(pairs.start_setup(group, ["library"], actor=ADMIN)).status == "succeeded"
    for pid in list(sims.fleet[2].store.policies):  # b stops replicating back, and gets an artifact of its own
        sims.fleet[2].store.policies[pid]["enabled"] = False
    lonely = push_artifact(sims.fleet[2], "library", "lonely", "v9", 10)
    job = run_job(pairs.start_check(group, actor=ADMIN))
    assert job.summary == "eu pair: 1 artifact(s) missing"
    pair = HAPair.objects.get()
    assert pair.consistent is False
    assert pair.missing == {"harbor-1": [f"library/lonely@{lonely.digest} [v9]"], "harbor-2": []}


def test_setup_refuses_a_group_that_is_not_a_two_way_pair(sims: SimFleet, db: None) -> None:
    g = HAGroup.objects.create(name="shared", mode=HAGroup.Mode.SHARED_STORAGE)
    sims.instance(1, ha_group=g)
    with pytest.raises(pairs.PairError, match="not two-way replication"):
        pairs.start_setup(g, ["library"], actor=ADMIN)
    g.mode = HAGroup.Mode.TWO_WAY_REPLICATION
    g.save()
    with pytest.raises(pairs.PairError, match="exactly two enabled members"):
        pairs.start_setup(g, ["library"], actor=ADMIN)
    with pytest.raises(pairs.PairError, match=r"invalid: \.\./etc"):
        pairs.clean_projects("library ../etc")


def test_loop_risk_is_flagged_for_renaming_policies_both_ways(sims: SimFleet, group: HAGroup) -> None:
    assert run_job(pairs.start_setup(group, ["library"], actor=ADMIN)).status == "succeeded"
    services.collect_many(list(group.instances.all()))
    risks = pairs.loop_risks(group)
    assert len(risks) == 1 and not risks[0].unbounded  # our own pair: one bounce, Harbor skips it
    with sims.instance_client(1) as c:
        reg = next(r.id for r in c.list_registries())
        c.create_replication_policy({"name": "mirror", "dest_registry": {"id": reg}, "dest_namespace": "mirror",
                                     "trigger": {"type": "event_based"}, "enabled": True, "override": True})
    services.collect_many(list(group.instances.all()))
    assert any(r.unbounded and "mirror" in (r.policy.name, r.back.name) for r in pairs.loop_risks(group))
