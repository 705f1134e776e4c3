"""HA pairs: two-way replication for a fleet HA group, set up, checked and torn down by harborops.

Setup (one job, every step checks before it acts, so a re-run changes nothing):
1. the chosen projects exist on both members (created where missing, and recorded);
2. on each member a system robot with exactly what replication into it needs, per chosen project:
   repository pull + push + delete and tag delete (see ROBOT_ACCESS); its secret is kept encrypted
   (PairSide.robot_secret), never logged, and rotated by `rotate.rotate_pair` (refresh + peer endpoint);
3. on each member a registry endpoint pointing at the other, with the other's robot;
4. on each member an event-based push policy to that endpoint for the projects, deletion replication on;
5. an initial manual sync both ways (waits for both executions), then a consistency check.
Teardown removes exactly what setup recorded (policies, endpoints, robots; created projects only
when empty) and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.jobs import start_job
from harborops.core.models import JobRun
from harborops.fleet.models import HAGroup, Instance
from harborops.harbor import errors as harbor_errors
from harborops.harbor.client import HarborClient
from harborops.replication import hagroups
from harborops.replication.models import HAPair, PairSide
from harborops.replication.services import client_for, collect_many

SETUP, TEARDOWN, CHECK = "replication.pair_setup", "replication.pair_teardown", "replication.pair_check"
# What the peer's jobservice does with this robot when it pushes into this Harbor, and the check each passes
# (the same at v2.3.0 .. v2.15.0):
# - HEAD/GET manifests and blobs (exists? skip), PUT/POST/PATCH blobs and manifests: the v2 API checks
#   ResourceRepository with the HTTP method's action, GET/HEAD pull and PUT/POST/PATCH push
#   (src/server/middleware/v2auth/access.go getAction; auth.go rbac_project ... Resource(ResourceRepository));
# - a replicated artifact deletion is DELETE /v2/<repo>/manifests/<digest> (transfer/image/transfer.go
#   delete -> native adapter DeleteManifest): ResourceRepository + ActionDelete (same getAction);
# - a replicated tag deletion is the API's DELETE .../artifacts/{ref}/tags/{tag} (harbor v2 adapter
#   client.deleteTag): handler/artifact.go DeleteTag RequireProjectAccess(ActionDelete, ResourceTag);
# - PrepareForPush lists projects (GET /projects?name=, any authenticated caller) and CanBeMount lists
#   repositories (handler/repository.go ListAllRepositories: only the caller's projects): no permission.
# Each pair is in Harbor's project policy list that robot creation validates against from v2.10.0
# (src/common/rbac/const.go PoliciesMap[ScopeProject]; handler/robot.go validate containsAccess, commit
# 062d144d22 "add permission validation for robot creating and updating"). artifact read/delete are not
# used by a push into this Harbor, so they are not granted (an earlier version granted them and lacked
# repository delete: a replicated deletion answered 401).
ROBOT_ACCESS = (("repository", "pull"), ("repository", "push"), ("repository", "delete"), ("tag", "delete"))

Say = Callable[[str], None]


class PairError(Exception):
    """The pair cannot be set up / torn down as asked; the message says why."""


def _slug(group: HAGroup) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in group.name.lower())[:40]


def robot_name(group: HAGroup) -> str:
    return f"harborops-ha-{_slug(group)}"


def endpoint_name(group: HAGroup, peer: Instance) -> str:
    return f"harborops-ha-{_slug(group)}-to-{peer.name}"[:255]


def robot_permissions(projects: list[str]) -> list[dict[str, Any]]:
    access = [{"resource": r, "action": a} for r, a in ROBOT_ACCESS]
    return [{"kind": "project", "namespace": p, "access": access} for p in projects]


def _access(perms: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(str(p.get("namespace")), str(a.get("resource")), str(a.get("action")))
            for p in perms for a in p.get("access") or []}


def name_filter(projects: list[str]) -> str:
    return f"{projects[0]}/**" if len(projects) == 1 else "{" + ",".join(projects) + "}/**"


def members(group: HAGroup, found: list[Instance] | None = None) -> list[Instance]:
    """The two members of a pair (by name), or PairError. ``found``: the group's members as already read
    (a page: hagroups.load, without their passwords); read here (to connect to them) when not given."""
    found = found if found is not None else list(Instance.objects.filter(ha_group=group).order_by("name"))
    if group.mode != HAGroup.Mode.TWO_WAY_REPLICATION:
        raise PairError(f"HA group {group.name} is in mode {group.get_mode_display()}, not two-way replication")
    if len(found) != 2 or not all(i.enabled for i in found):
        raise PairError(f"HA group {group.name} needs exactly two enabled members (it has {len(found)})")
    return found


def clean_projects(raw: list[str] | str) -> list[str]:
    items = raw.replace(",", " ").split() if isinstance(raw, str) else [str(p).strip() for p in raw]
    projects = sorted({p for p in items if p})
    bad = [p for p in projects if not all(ch.isalnum() or ch in "-_." for ch in p) or not p[0].isalnum()]
    if not projects or bad:
        raise PairError(f"give one or more Harbor project names (invalid: {', '.join(bad) or 'none given'})")
    return projects


# --- starting the jobs --------------------------------------------------------------------------------
def start_setup(group: HAGroup, projects: list[str] | str, *, actor: Actor) -> JobRun:
    names = clean_projects(projects)
    members(group)
    pair = HAPair.objects.filter(group=group).first()
    if pair is not None and pair.status != HAPair.Status.TORN_DOWN and pair.projects and pair.projects != names:
        raise PairError(f"the pair replicates {', '.join(pair.projects)}; tear it down before changing projects")
    job = start_job(SETUP, actor=actor, target=group, params={"projects": names})
    record(actor=actor, action="replication.pair_setup", obj=group, after={"job": job.pk, "projects": names})
    return job


def start_teardown(group: HAGroup, *, actor: Actor) -> JobRun:
    if not HAPair.objects.filter(group=group).exists():
        raise PairError(f"harborops set up nothing for {group.name}")
    job = start_job(TEARDOWN, actor=actor, target=group)
    record(actor=actor, action="replication.pair_teardown", obj=group, after={"job": job.pk})
    return job


def start_check(group: HAGroup, *, actor: Actor) -> JobRun:
    pair = HAPair.objects.filter(group=group).first()
    if pair is None or not pair.projects:
        raise PairError(f"no pair set up for {group.name}")
    job = start_job(CHECK, actor=actor, target=group)
    record(actor=actor, action="replication.pair_check", obj=group, after={"job": job.pk})
    return job


# --- setup -----------------------------------------------------------------------------------------
def setup(group: HAGroup, projects: list[str], *, say: Say) -> HAPair:
    a, b = members(group)
    pair, _ = HAPair.objects.get_or_create(group=group)
    pair.projects = projects
    pair.status = HAPair.Status.PARTIAL
    pair.save()
    sides = {i.pk: PairSide.objects.get_or_create(pair=pair, instance=i)[0] for i in (a, b)}
    clients = {i.pk: client_for(i) for i in (a, b)}
    for inst in (a, b):
        _ensure_projects(clients[inst.pk], sides[inst.pk], projects, say)
        _ensure_robot(clients[inst.pk], sides[inst.pk], group, projects, say)
    for inst, peer in ((a, b), (b, a)):
        _ensure_endpoint(clients[inst.pk], sides[inst.pk], sides[peer.pk], group, say)
        _ensure_policy(clients[inst.pk], sides[inst.pk], peer, group, projects, say)
    pair.status = HAPair.Status.SET_UP
    pair.save(update_fields=["status", "updated_at"])
    initial_sync([(clients[i.pk], sides[i.pk]) for i in (a, b)], say)
    check(pair, say=say)
    collect_many([a, b])  # the replication pages (policies, loop risk) show the new state at once
    return pair


def _ensure_projects(c: HarborClient, side: PairSide, projects: list[str], say: Say) -> None:
    for p in projects:
        if c.project_exists(p):
            continue
        c.create_project(p)
        side.projects_created = sorted({*side.projects_created, p})
        side.save(update_fields=["projects_created"])
        say(f"{side.instance.name}: project {p} created")


def _ensure_robot(c: HarborClient, side: PairSide, group: HAGroup, projects: list[str], say: Say) -> None:
    wanted = robot_name(group)
    existing = next((r for r in c.list_robots() if r.name.endswith("$" + wanted) or r.name == wanted), None)
    if existing is not None and existing.id == side.robot_id and side.robot_secret:
        if _access(existing.model_dump(mode="json")["permissions"]) == _access(robot_permissions(projects)):
            say(f"{side.instance.name}: robot {existing.name} already there")
            return
        body = existing.model_dump(mode="json", exclude={"secret", "creation_time", "editable", "expires_at"})
        c.update_robot(existing.id, {**body, "permissions": robot_permissions(projects)})
        granted = ", ".join(f"{r} {a}" for r, a in ROBOT_ACCESS)
        say(f"{side.instance.name}: robot {existing.name} permissions set to {granted}")
        return
    if existing is not None:
        # ours by name, but its secret was never recorded (a run killed after creating it): take a new one
        side.robot_secret = c.refresh_robot_secret(existing.id)
        side.robot_id, side.robot_name = existing.id, existing.name
        say(f"{side.instance.name}: robot {existing.name} adopted, secret refreshed")
    else:
        created = c.create_robot(wanted, robot_permissions(projects), level="system",
                                 description=f"harborops: HA pair {group.name} replicates into this Harbor")
        side.robot_id, side.robot_name = created.id, created.name
        side.robot_secret = created.secret.get_secret_value()
        say(f"{side.instance.name}: robot {created.name} created (pull/push/delete on {', '.join(projects)})")
    side.save(update_fields=["robot_id", "robot_name", "robot_secret"])


def _ensure_endpoint(c: HarborClient, side: PairSide, peer: PairSide, group: HAGroup, say: Say) -> None:
    name = endpoint_name(group, peer.instance)
    existing = next((r for r in c.list_registries() if r.name == name), None)
    if existing is not None:
        side.registry_id = existing.id
        say(f"{side.instance.name}: registry endpoint {name} already there")
    else:
        side.registry_id = c.create_registry({
            "name": name, "url": peer.instance.url.rstrip("/"), "type": "harbor",
            "insecure": False,  # the peer's TLS is verified (a private CA must be trusted by that Harbor)
            "description": f"harborops: HA pair {group.name}",
            "credential": {"type": "basic", "access_key": peer.robot_name, "access_secret": peer.robot_secret}})
        say(f"{side.instance.name}: registry endpoint {name} created → {peer.instance.name}")
    side.save(update_fields=["registry_id"])


def _ensure_policy(c: HarborClient, side: PairSide, peer: Instance, group: HAGroup, projects: list[str],
                   say: Say) -> None:
    name = endpoint_name(group, peer)
    existing = next((p for p in c.list_replication_policies() if p.name == name), None)
    if existing is not None:
        side.policy_id = existing.id
        say(f"{side.instance.name}: policy {name} already there")
    else:
        side.policy_id = c.create_replication_policy({
            "name": name, "description": f"harborops: HA pair {group.name}",
            "dest_registry": {"id": side.registry_id}, "dest_namespace": "",
            "filters": [{"type": "name", "value": name_filter(projects)}],
            "trigger": {"type": "event_based", "trigger_settings": {"cron": ""}},
            "replicate_deletion": True, "override": True, "enabled": True})
        say(f"{side.instance.name}: event-based push policy {name} created (deletions replicated)")
    side.save(update_fields=["policy_id"])


def initial_sync(sides: list[tuple[HarborClient, PairSide]], say: Say) -> None:
    """Run every side's policy once and wait for both executions (bounded)."""
    started = []
    for c, side in sides:
        if side.policy_id:
            started.append((c, side, c.start_replication(side.policy_id)))
            say(f"{side.instance.name}: initial sync started")
    deadline = time.monotonic() + settings.REPLICATION_PAIR_SYNC_TIMEOUT
    pending = list(started)
    while pending:
        still = []
        for c, side, ex_id in pending:
            ex = c.get_replication_execution(ex_id)
            if ex.status == "InProgress":
                still.append((c, side, ex_id))
            else:
                say(f"{side.instance.name}: initial sync {ex.status} ({ex.succeed} of {ex.total} task(s) ok)"
                    + (f": {ex.status_text}" if ex.status_text else ""))
        pending = still
        if pending and time.monotonic() > deadline:
            say("initial sync still running after the timeout; the consistency check shows where it stands")
            return
        if pending:
            time.sleep(settings.REPLICATION_PAIR_POLL_SECONDS)


# --- consistency ---------------------------------------------------------------------------------------
def check(pair: HAPair, *, say: Say) -> HAPair:
    """Artifacts (digests, tags) of the pair's projects present on one member and missing on the other
    (consistency.check: repository by repository, the report stored as rows)."""
    from harborops.replication import consistency

    return consistency.check(pair, say=say)


# --- teardown ---------------------------------------------------------------------------------------
def teardown(group: HAGroup, *, say: Say) -> list[str]:
    """Remove what setup recorded; returns what had to be kept (and why)."""
    pair = HAPair.objects.get(group=group)
    kept: list[str] = []
    for side in pair.sides.select_related("instance"):
        c = client_for(side.instance)
        if side.policy_id:
            for ex in c.list_replication_executions(policy_id=side.policy_id, status="InProgress"):
                c.stop_replication(ex.id)
                say(f"{side.instance.name}: running execution {ex.id} stopped")
            _gone(c.delete_replication_policy, side.policy_id, say, f"{side.instance.name}: policy")
            side.policy_id = None
        if side.registry_id:
            _gone(c.delete_registry, side.registry_id, say, f"{side.instance.name}: registry endpoint")
            side.registry_id = None
        if side.robot_id:
            _gone(c.delete_robot, side.robot_id, say, f"{side.instance.name}: robot {side.robot_name}")
            side.robot_id, side.robot_name, side.robot_secret = None, "", ""
        still: list[str] = []
        for p in side.projects_created:
            try:
                c.delete_project(p)
                say(f"{side.instance.name}: project {p} (created by setup, empty) deleted")
            except harbor_errors.NotFound:
                pass
            except harbor_errors.HarborError as exc:
                still.append(p)
                kept.append(f"{side.instance.name}: project {p} kept ({exc.message})")
                say(kept[-1])
        side.projects_created = still
        with transaction.atomic():
            side.save()
    pair.status, pair.consistent, pair.missing, pair.missing_count = HAPair.Status.TORN_DOWN, None, {}, 0
    pair.project_counts = {}
    pair.missing_items.all().delete()
    pair.projects = [] if not kept else pair.projects
    pair.save()
    collect_many([s.instance for s in pair.sides.select_related("instance")])
    return kept


def _gone(delete: Callable[[int], None], harbor_id: int, say: Say, what: str) -> None:
    try:
        delete(harbor_id)
        say(f"{what} deleted")
    except harbor_errors.NotFound:
        say(f"{what} was already gone")


# --- loop risk ---------------------------------------------------------------------------------------
@dataclass
class LoopRisk:
    policy: Any  # replication.models.Policy (collected)
    back: Any
    unbounded: bool
    reason: str


def _first_components(filters: list[dict[str, Any]]) -> set[str] | None:
    """The first path components a name filter can match (None: any)."""
    values = [str(f.get("value") or "") for f in filters if f.get("type") == "name" and f.get("value")]
    if not values:
        return None
    out: set[str] = set()
    for v in values:
        head = v.split("/", 1)[0]
        if any(ch in head for ch in "*?["):
            return None
        out.update(head.strip("{}").split(",") if head.startswith("{") else [head])
    return out


def loop_risks(group: HAGroup, data: hagroups.GroupData | None = None) -> list[LoopRisk]:
    """Event-based push policies both ways between the group's members whose name filters overlap: a
    replicated artifact triggers a push back. With the same names Harbor skips it ("already exists"),
    one bounce per artifact; with a destination namespace the names change and it can go on.
    ``data``: the groups read in bulk (hagroups.load), read here for this group when not given."""
    data = data if data is not None else hagroups.load([group], gc=False)
    by_url = {i.url.rstrip("/"): i for i in data.all_members(group)}
    pushes = [p for p in data.pushes.get(group.pk, []) if p.remote_url.rstrip("/") in by_url]
    risks = []
    for p in pushes:
        target = by_url[p.remote_url.rstrip("/")]
        for q in pushes:
            if q.instance_id != target.pk or by_url[q.remote_url.rstrip("/")].pk != p.instance_id or q.pk < p.pk:
                continue
            a, b = _first_components(p.filters), _first_components(q.filters)
            if a is not None and b is not None and not (a & b):
                continue
            unbounded = bool(p.dest_namespace or q.dest_namespace)
            reason = ("a destination namespace renames what comes back, so each round can push a new path"
                      if unbounded else "each artifact goes back once and Harbor skips it (already exists)")
            risks.append(LoopRisk(p, q, unbounded, reason))
    return risks
