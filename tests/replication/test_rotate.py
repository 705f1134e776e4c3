"""Rotating an HA pair's robot secrets: Harbor generates new ones (PATCH /robots/{id}), each peer's endpoint
gets the new one, replication still works both ways afterwards, the old secret no longer logs in, and the
new secret shows up nowhere (job log, action log, pages, API, Python logs)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.core.models import JobLogLine, JobRun
from harborops.fleet.models import HAGroup
from harborops.harbor_sim import push_artifact
from harborops.replication import pairs, rotate
from harborops.replication.models import HAPair, PairSide
from tests.replication.conftest import SimFleet
from tests.replication.test_pairs import ADMIN, group, run_job  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]


def _digests(sims: SimFleet, n: int) -> set[str]:
    return {x.digest for r in sims.fleet[n].store.repositories.values() for x in r.artifacts.values()}


def _logs_in(sims: SimFleet, n: int, name: str, secret: str) -> bool:
    """The robot's own account over HTTP: GET /robots/{id} answers 401 to a wrong secret (anonymous)."""
    robot = next(x for x in sims.fleet[n].store.robots.values() if x.name == name)
    r = httpx.get(f"{sims.url(n)}/api/v2.0/robots/{robot.id}", auth=(name, secret), timeout=10)
    return r.status_code != 401


def test_rotation_refreshes_both_robots_and_replication_still_works(
        sims: SimFleet, group: HAGroup, alice: User, vera: User, caplog: Any) -> None:  # noqa: F811
    assert run_job(pairs.start_setup(group, ["library"], actor=ADMIN)).status == "succeeded"
    old = {s.instance.name: (s.robot_name, s.robot_secret) for s in PairSide.objects.select_related("instance")}
    caplog.set_level(logging.DEBUG)

    api = APIClient()
    api.force_authenticate(alice)
    r = api.post(f"/api/replication/pairs/{group.pk}/rotate/")
    assert r.status_code == 202, r.content
    job = run_job(JobRun.objects.get(pk=r.json()["id"]))
    assert job.status == "succeeded", job.error
    assert job.summary == "eu pair: both robot secrets rotated, 2 of 2 endpoint(s) answer with the new secret"

    new = {s.instance.name: (s.robot_name, s.robot_secret) for s in PairSide.objects.select_related("instance")}
    for n, name in ((1, "harbor-1"), (2, "harbor-2")):
        robot_name, secret = new[name]
        assert secret and secret != old[name][1]
        robot = next(x for x in sims.fleet[n].store.robots.values() if x.name == robot_name)
        assert robot.secret == secret  # Harbor holds the new secret
        assert _logs_in(sims, n, robot_name, secret) and not _logs_in(sims, n, robot_name, old[name][1])
    # each peer's endpoint carries the other member's new secret
    for n, peer in ((1, "harbor-2"), (2, "harbor-1")):
        (reg,) = sims.fleet[n].store.registries.values()
        assert (reg.credential["access_key"], reg.credential["access_secret"]) == new[peer]

    # replication still works both ways, deletions too
    on_b = push_artifact(sims.fleet[2], "library", "after-rotation", "1", 10)
    on_a = push_artifact(sims.fleet[1], "library", "other", "2", 10)
    sims.fleet.advance(1)
    sims.fleet[1].jobs.settle()
    assert on_b.digest in _digests(sims, 1) and on_a.digest in _digests(sims, 2)
    with sims.instance_client(1) as c:
        c.delete_artifact("library", "other", on_a.digest)
    sims.fleet.advance(1)
    sims.fleet[1].jobs.settle()
    assert on_a.digest not in _digests(sims, 2)
    assert run_job(pairs.start_check(group, actor=ADMIN)).summary == "eu pair: consistent"

    # the secrets are nowhere to be read
    client = Client()
    client.force_login(alice)
    shown = [client.get(f"/replication/pairs/{group.pk}/").content.decode(),
             client.get(f"/jobs/{job.pk}/").content.decode(),
             api.get(f"/api/replication/pairs/{group.pk}/").content.decode(),
             api.get(f"/api/jobs/{job.pk}/").content.decode()]
    lines = list(JobLogLine.objects.values_list("text", flat=True))
    actions = [str(e.__dict__) for e in ActionLogEntry.objects.all()]
    for _robot, secret in [*new.values(), *old.values()]:
        assert not any(secret in text for text in [*shown, *lines, *actions, caplog.text])
    assert ActionLogEntry.objects.filter(action="replication.pair_rotate").count() == 1


def test_rotation_needs_a_pair_and_an_admin(sims: SimFleet, group: HAGroup, bob: User,  # noqa: F811
                                            alice: User) -> None:
    with pytest.raises(rotate.RotateError, match="set the pair up first"):
        rotate.start_rotate(group, actor=ADMIN)
    api = APIClient()
    api.force_authenticate(bob)
    assert api.post(f"/api/replication/pairs/{group.pk}/rotate/").status_code == 403
    api.force_authenticate(alice)
    r = api.post(f"/api/replication/pairs/{group.pk}/rotate/")
    assert r.status_code == 400 and "set the pair up first" in r.content.decode()
    client = Client()
    client.force_login(alice)
    page = client.post(f"/replication/pairs/{group.pk}/rotate/", follow=True).content.decode()
    assert "set the pair up first" in page
    assert not HAPair.objects.exists()


def test_a_pair_robot_from_an_older_harborops_gets_the_permissions_replication_needs(
        sims: SimFleet, group: HAGroup) -> None:  # noqa: F811
    """The sim refuses a replicated deletion to a robot without repository delete (v2auth); setup fixes the
    robot's permissions on re-run (PUT /robots/{id})."""
    assert run_job(pairs.start_setup(group, ["library"], actor=ADMIN)).status == "succeeded"
    side_b = PairSide.objects.get(instance__name="harbor-2")
    robot = sims.fleet[2].store.robots[side_b.robot_id]
    robot.permissions = [{"kind": "project", "namespace": "library", "access": [
        {"resource": r, "action": a} for r, a in (("repository", "pull"), ("repository", "push"),
                                                  ("artifact", "read"), ("artifact", "delete"), ("tag", "delete"))]}]
    art = push_artifact(sims.fleet[1], "library", "gone", "1", 10)
    sims.fleet.advance(1)
    sims.fleet[1].jobs.settle()
    assert art.digest in _digests(sims, 2)
    with sims.instance_client(1) as c:
        c.delete_artifact("library", "gone", art.digest)
    sims.fleet.advance(1)
    sims.fleet[1].jobs.settle()
    assert art.digest in _digests(sims, 2)  # refused: artifact delete is not what the v2 API checks
    failed = [t for ex in sims.fleet[1].jobs.repl.values() for t in ex.tasks if t.fail]
    assert any("unauthorized to access repository: library/gone, action: delete" in "\n".join(t.log)
               for t in failed)

    again = run_job(pairs.start_setup(group, ["library"], actor=ADMIN))
    assert JobLogLine.objects.filter(job=again, text__contains="permissions set to repository pull").count() == 1
    perms = {(acc["resource"], acc["action"]) for p in robot.permissions for acc in p["access"]}
    assert perms == set(pairs.ROBOT_ACCESS)
    art2 = push_artifact(sims.fleet[1], "library", "gone2", "1", 10)
    sims.fleet.advance(1)
    sims.fleet[1].jobs.settle()
    with sims.instance_client(1) as c:
        c.delete_artifact("library", "gone2", art2.digest)
    sims.fleet.advance(1)
    sims.fleet[1].jobs.settle()
    assert art2.digest not in _digests(sims, 2)
