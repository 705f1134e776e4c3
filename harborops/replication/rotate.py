"""Rotating the robot secrets of an HA pair that harborops set up (a job; admin).

For each member in turn (the robot on member X is what member Y's registry endpoint logs in with):
1. ``PATCH /robots/{id}`` with an empty body on X: Harbor generates a new secret and answers it
   (src/server/v2.0/handler/robot.go RefreshSec, the same @v2.3.0 .. @v2.15.0); the old secret stops
   working at once;
2. the new secret is saved encrypted on the PairSide at once (a run killed after step 1 must not lose it);
3. ``PUT /registries/{id}`` on Y with the robot's name and the new secret (RegistryUpdate: access_key,
   access_secret), so Y's pushes into X go on working;
4. ``POST /registries/ping`` on Y for that endpoint proves Y reaches X with it.
Secrets never reach the job log, the action log or an exception message (only names and ids do).
"""

from __future__ import annotations

from collections.abc import Callable

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.jobs import start_job
from harborops.core.models import JobRun
from harborops.fleet.models import HAGroup
from harborops.replication.models import HAPair, PairSide
from harborops.replication.services import client_for

ROTATE = "replication.pair_rotate"

Say = Callable[[str], None]


class RotateError(Exception):
    """Nothing to rotate, or a step failed; the message says which (never a secret)."""


def rotatable(pair: HAPair | None) -> bool:
    if pair is None or pair.status == HAPair.Status.TORN_DOWN:
        return False
    sides = list(pair.sides.all())
    return len(sides) == 2 and all(s.robot_id and s.registry_id for s in sides)


def start_rotate(group: HAGroup, *, actor: Actor) -> JobRun:
    pair = HAPair.objects.filter(group=group).first()
    if not rotatable(pair):
        raise RotateError(f"harborops set up no robots and endpoints for {group.name} (set the pair up first)")
    job = start_job(ROTATE, actor=actor, target=group)
    record(actor=actor, action="replication.pair_rotate", obj=group, after={"job": job.pk})
    return job


def rotate(pair: HAPair, *, say: Say) -> int:
    """Rotate both robots of the pair; returns how many endpoints answered the ping afterwards."""
    sides = list(pair.sides.select_related("instance"))
    if len(sides) != 2:
        raise RotateError("the pair does not have two members")
    reachable = 0
    for robot_side, peer in ((sides[0], sides[1]), (sides[1], sides[0])):
        reachable += _rotate_one(robot_side, peer, say)
    return reachable


def _rotate_one(robot_side: PairSide, peer: PairSide, say: Say) -> int:
    if not robot_side.robot_id or not peer.registry_id:
        raise RotateError(f"{robot_side.instance.name}: no robot or no peer endpoint recorded")
    secret = client_for(robot_side.instance).refresh_robot_secret(robot_side.robot_id)
    if not secret:
        raise RotateError(f"{robot_side.instance.name}: Harbor answered no new secret for {robot_side.robot_name}")
    robot_side.robot_secret = secret
    robot_side.save(update_fields=["robot_secret"])
    say(f"{robot_side.instance.name}: secret of {robot_side.robot_name} refreshed")
    pc = client_for(peer.instance)
    pc.update_registry(peer.registry_id, {"credential_type": "basic", "access_key": robot_side.robot_name,
                                          "access_secret": secret})
    say(f"{peer.instance.name}: registry endpoint {peer.registry_id} to {robot_side.instance.name} updated")
    ok = pc.ping_registry(registry_id=peer.registry_id)
    say(f"{peer.instance.name}: endpoint to {robot_side.instance.name} "
        + ("answers with the new secret" if ok else "does NOT answer (check the endpoint on Harbor)"))
    return int(ok)
