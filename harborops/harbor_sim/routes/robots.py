"""/robots (robot v2: system and project level) and, up to 2.12, /projects/{p}/robots."""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from harborops.harbor_sim import spec
from harborops.harbor_sim.auth import ROBOT_FORBIDDEN, can_project, require_auth, require_project
from harborops.harbor_sim.clock import iso
from harborops.harbor_sim.http import HarborError, SimResponse, bad_request, conflict, forbidden, lookup, not_found
from harborops.harbor_sim.query import parse_q
from harborops.harbor_sim.routes import Ctx, RouteSet, empty, ok, paged
from harborops.harbor_sim.routes.projects import get_project
from harborops.harbor_sim.routes.users import password_ok
from harborops.harbor_sim.state import Robot

routes = RouteSet()
NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def new_secret() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        s = "".join(secrets.choice(alphabet) for _ in range(32))
        if password_ok(s):
            return s


def render_robot(ctx: Ctx, r: Robot) -> dict[str, Any]:
    out = {
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "level": r.level,
        "duration": r.duration,
        "editable": True,
        "disable": r.disable,
        "expires_at": r.expires_at,
        "permissions": r.permissions,
        "creator_type": "local",
        "creator_ref": 1,
        "creation_time": iso(r.creation_time or ctx.now),
        "update_time": iso(r.update_time or ctx.now),
    }
    return spec.shape(ctx.inst.spec_name, "Robot", out)


def _robot(ctx: Ctx) -> Robot:
    return lookup(ctx.inst.store.robots, ctx.params["robot_id"], "robot")


def _may_manage(ctx: Ctx, r: Robot | None, project_id: int, action: str) -> None:
    require_auth(ctx.who)
    if ctx.who.sysadmin:
        return
    if ctx.who.robot is not None:
        raise forbidden("robot accounts cannot manage robot accounts")
    proj = ctx.inst.store.projects.get(r.project_id if r else project_id)
    if proj is None or (r is not None and r.level == "system"):
        raise forbidden()
    require_project(ctx.inst, ctx.who, proj, "robot", action)


def _expires(ctx: Ctx, duration: int) -> int:
    if duration == -1:
        return -1
    days = duration or int(ctx.inst.config["robot_token_duration"])
    return int(ctx.now.timestamp()) + days * 86400


def _check_permissions(ctx: Ctx, level: str, perms: Any) -> int:
    """Validate RobotPermission entries; return the project id for project-level robots."""
    if not isinstance(perms, list) or not perms:
        raise bad_request("permissions are required")
    project_id = 0
    for p in perms:
        kind, ns = p.get("kind"), p.get("namespace")
        if kind not in ("system", "project"):
            raise bad_request(f"bad permission kind: {kind}")
        if kind == "project" and ns != "*" and ctx.inst.store.project_by_name(str(ns)) is None:
            raise bad_request(f"project {ns} not found")
        for acc in p.get("access") or []:
            if acc.get("resource") in ROBOT_FORBIDDEN and ctx.inst.behaviour.robot_permissions:
                raise bad_request(f"unsupported permission: {acc.get('resource')}:{acc.get('action')}")
    if level == "project":
        if len(perms) != 1 or perms[0].get("kind") != "project" or perms[0].get("namespace") == "*":
            raise bad_request("a project level robot must have exactly one project permission")
        proj = ctx.inst.store.project_by_name(str(perms[0]["namespace"]))
        project_id = proj.project_id if proj else 0
    return project_id


def make_robot(ctx: Ctx, body: dict[str, Any], level: str, project_id: int) -> Robot:
    inst = ctx.inst
    name = str(body.get("name") or "")
    if not NAME_RE.match(name):
        raise bad_request(f"robot name is not in lower case or contains illegal characters: {name}")
    prefix = str(inst.config["robot_name_prefix"])
    proj = inst.store.projects.get(project_id)
    full = f"{prefix}{proj.name}+{name}" if level == "project" and proj else f"{prefix}{name}"
    if any(r.name == full for r in inst.store.robots.values()):
        raise conflict(f"robot account {full} already exists")
    # handler/robot.go CreateRobot copies only name, description, duration (and permissions) into the
    # new robot; controller/robot Create always generates the secret. A caller's secret / disable are ignored.
    secret = new_secret()
    raw_duration = body.get("duration")
    duration = int(raw_duration) if raw_duration is not None else -1
    robot = Robot(
        inst.store.ids.next("robot"),
        full,
        str(secret),
        level,
        str(body.get("description") or ""),
        duration,
        False,
        _expires(ctx, duration),
        list(body.get("permissions") or []),
        ctx.now,
        ctx.now,
        project_id,
    )
    inst.store.robots[robot.id] = robot
    # topic.go CreateRobotEvent: resource is the stored name (no prefix); project_id 0 for system robots
    stored = full[len(prefix) :]
    inst.record(ctx.who.name, "create", "robot", stored, project=proj.name if proj else None, project_id=project_id)
    return robot


def robot_created(ctx: Ctx, robot: Robot) -> SimResponse:
    resp = ok(
        {
            "id": robot.id,
            "name": robot.name,
            "secret": robot.secret,
            "creation_time": iso(ctx.now),
            "expires_at": robot.expires_at,
        },
        status=201,
    )
    resp.headers.append(("Location", f"{ctx.path.rstrip('/')}/{robot.id}"))
    return resp


@routes.get("/robots")
def list_robots(ctx: Ctx) -> SimResponse:
    require_auth(ctx.who)
    conds = {c.key: c.values[0] for c in parse_q(ctx.query.get("q")) if c.kind == "exact"}
    level = str(conds.get("Level", "system"))
    if level not in ("system", "project"):
        raise bad_request("bad request error level input")
    robots = sorted(ctx.inst.store.robots.values(), key=lambda r: r.id)
    if level == "project":
        pid = conds.get("ProjectID")
        if not isinstance(pid, int) or pid <= 0:
            raise bad_request("must with project ID when to query project robots")
        proj = ctx.inst.store.projects.get(pid)
        if proj is None:
            raise not_found(f"project {pid} not found")
        if not ctx.who.sysadmin and not can_project(ctx.inst, ctx.who, proj, "robot", "list"):
            raise forbidden()
        robots = [r for r in robots if r.level == "project" and r.project_id == pid]
    else:
        if not ctx.who.sysadmin:
            raise forbidden()
        # handler/robot.go ListRobot: ProjectID=0 (system robots only) is set when q has no Level and,
        # from 2.13 (fix 21118), for Level=system too; before that Level=system filtered nothing.
        if "Level" not in conds or ctx.inst.behaviour.robot_level_system_filter:
            robots = [r for r in robots if r.level == "system"]
    if isinstance(conds.get("name"), str):
        robots = [r for r in robots if str(conds["name"]) in r.name]
    return paged(ctx, [render_robot(ctx, r) for r in robots])


@routes.post("/robots")
def create_robot(ctx: Ctx) -> SimResponse:
    body = ctx.body_obj()
    level = str(body.get("level") or "")
    if level not in ("system", "project"):
        raise bad_request(f"bad robot level: {level}")
    project_id = _check_permissions(ctx, level, body.get("permissions"))
    if level == "system":
        require_auth(ctx.who)
        if not ctx.who.sysadmin:
            raise forbidden()
    else:
        _may_manage(ctx, None, project_id, "create")
    return robot_created(ctx, make_robot(ctx, body, level, project_id))


@routes.get("/robots/{robot_id}")
def get_robot(ctx: Ctx) -> SimResponse:
    r = _robot(ctx)
    _may_manage(ctx, r, r.project_id, "list")
    return ok(render_robot(ctx, r))


@routes.put("/robots/{robot_id}")
def update_robot(ctx: Ctx) -> SimResponse:
    r = _robot(ctx)
    _may_manage(ctx, r, r.project_id, "create")
    body = ctx.body_obj()
    if body.get("name") not in (None, r.name) or body.get("level") not in (None, r.level):
        raise bad_request("cannot update the name or level of a robot account")
    if body.get("permissions") is not None:
        _check_permissions(ctx, r.level, body["permissions"])
        r.permissions = list(body["permissions"])
    if body.get("duration") is not None and int(body["duration"]) != r.duration:
        r.duration = int(body["duration"])
        r.expires_at = _expires(ctx, r.duration)
    r.description = str(body.get("description", r.description) or "")
    r.disable = bool(body.get("disable", r.disable))
    r.update_time = ctx.now
    return empty()


def _secret_ok(ctx: Ctx, secret: str) -> bool:
    """controller/robot/controller.go IsValidSec (@v2.3.0 handler/robot.go isValidSec): upper, lower case and
    a digit, 8 characters or more; at most 128 from 2.9 (behaviour row robot_secret_max_128)."""
    limit = 128 if ctx.inst.behaviour.robot_secret_max_128 else 1 << 30
    return 8 <= len(secret) <= limit and all(re.search(p, secret) for p in ("[a-z]", "[A-Z]", r"\d"))


@routes.patch("/robots/{robot_id}")
def refresh_secret(ctx: Ctx) -> SimResponse:
    """src/server/v2.0/handler/robot.go RefreshSec, the same flow @v2.3.0 .. @v2.15.0: authenticated, the
    robot looked up (404), requireAccess(ActionUpdate) (system robot: RequireSystemAccess on ResourceRobot;
    project robot: RequireProjectAccess), then a caller-given secret is validated and stored and the answer's
    RobotSec.Secret stays "", or Harbor generates one (@v2.3.0 utils.GenerateRandomString; from @v2.8.0
    robot.CreateSec) and answers it. The old secret stops working at once (robotCtl.Update)."""
    r = _robot(ctx)
    _may_manage(ctx, r, r.project_id, "create")
    given = str(ctx.body_obj().get("secret") or "")
    if given and not _secret_ok(ctx, given):
        if ctx.inst.behaviour.robot_secret_max_128:
            raise bad_request(
                "the secret must be 8-128, inclusively, characters long with at least 1 uppercase letter, "
                "1 lowercase letter and 1 number"
            )
        raise bad_request(
            "the secret must longer than 8 chars with at least 1 uppercase letter, 1 lowercase letter and 1 number"
        )
    r.secret = given or new_secret()
    r.update_time = ctx.now
    return ok({"secret": "" if given else r.secret})


@routes.delete("/robots/{robot_id}")
def delete_robot(ctx: Ctx) -> SimResponse:
    r = _robot(ctx)
    _may_manage(ctx, r, r.project_id, "delete")
    del ctx.inst.store.robots[r.id]
    prefix = str(ctx.inst.config["robot_name_prefix"])
    stored = r.name[len(prefix) :] if r.name.startswith(prefix) else r.name
    owner = ctx.inst.store.projects.get(r.project_id)
    ctx.inst.record(
        ctx.who.name, "delete", "robot", stored, project=owner.name if owner else None, project_id=r.project_id
    )
    return empty()


# --- project-scoped robots (handler robotV1.go, removed in 2.13) ------------------------------------
@routes.get("/projects/{project_name_or_id}/robots", feature="project_robots")
def list_project_robots(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    require_project(ctx.inst, ctx.who, proj, "robot", "list")
    robots = [r for r in ctx.inst.store.robots.values() if r.level == "project" and r.project_id == proj.project_id]
    return paged(ctx, [render_robot(ctx, r) for r in robots])


@routes.post("/projects/{project_name_or_id}/robots", feature="project_robots")
def create_project_robot(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    require_project(ctx.inst, ctx.who, proj, "robot", "create")
    body = ctx.body_obj()
    access = [
        {
            "resource": a.get("resource", "").rsplit("/", 1)[-1] or "repository",
            "action": a.get("action"),
            "effect": a.get("effect", "allow"),
        }
        for a in body.get("access") or []
    ]
    robot_body = {
        "name": body.get("name"),
        "description": body.get("description"),
        "duration": -1,
        "permissions": [{"kind": "project", "namespace": proj.name, "access": access}],
    }
    return robot_created(ctx, make_robot(ctx, robot_body, "project", proj.project_id))


def _project_robot(ctx: Ctx) -> Robot:
    proj = get_project(ctx)
    r = _robot(ctx)
    if r.project_id != proj.project_id:
        raise HarborError(404, f"robot {r.id} not found in project {proj.name}")
    return r


@routes.get("/projects/{project_name_or_id}/robots/{robot_id}", feature="project_robots")
def get_project_robot(ctx: Ctx) -> SimResponse:
    r = _project_robot(ctx)
    _may_manage(ctx, r, r.project_id, "list")
    return ok(render_robot(ctx, r))


@routes.put("/projects/{project_name_or_id}/robots/{robot_id}", feature="project_robots")
def update_project_robot(ctx: Ctx) -> SimResponse:
    r = _project_robot(ctx)
    _may_manage(ctx, r, r.project_id, "create")
    r.disable = bool(ctx.body_obj().get("disable", r.disable))
    return empty()


@routes.delete("/projects/{project_name_or_id}/robots/{robot_id}", feature="project_robots")
def delete_project_robot(ctx: Ctx) -> SimResponse:
    r = _project_robot(ctx)
    _may_manage(ctx, r, r.project_id, "delete")
    del ctx.inst.store.robots[r.id]
    return empty()
