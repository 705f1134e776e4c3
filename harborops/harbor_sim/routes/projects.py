"""/projects, their metadata, summary, deletability and members."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from harborops.harbor_sim import spec
from harborops.harbor_sim.auth import (
    Principal,
    can_project,
    project_roles,
    require_auth,
    require_project,
    robot_allows,
)
from harborops.harbor_sim.clock import iso
from harborops.harbor_sim.http import HarborError, SimResponse, bad_request, conflict, not_found
from harborops.harbor_sim.query import filter_rows, parse_q, parse_sort, sort_rows
from harborops.harbor_sim.routes import Ctx, RouteSet, created, empty, listing, ok
from harborops.harbor_sim.state import Member, Project, User

if TYPE_CHECKING:
    from harborops.harbor_sim.instance import HarborInstance

routes = RouteSet()
NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
ROLE_PRIORITY = (1, 4, 2, 3, 5)


def create_project(
    inst: HarborInstance,
    name: str,
    *,
    owner: User,
    public: bool = False,
    metadata: dict[str, str] | None = None,
    storage_limit: int = -1,
    registry_id: int | None = None,
    audit: bool = True,
) -> Project:
    now = inst.clock.now()
    pid = inst.store.ids.next("project")
    meta = {"public": "true" if public else "false", **(metadata or {})}
    proj = Project(
        pid,
        name,
        owner.user_id,
        now,
        now,
        meta,
        storage_limit,
        registry_id,
        {"id": pid, "project_id": pid, "items": [], "creation_time": iso(now), "update_time": iso(now)},
    )
    inst.store.projects[pid] = proj
    mid = inst.store.ids.next("member")
    inst.store.members[mid] = Member(mid, pid, 1, "u", owner.user_id)
    if audit:
        inst.record(owner.username, "create", "project", name, project=name)
    return proj


def visible_projects(ctx: Ctx) -> list[Project]:
    inst, who = ctx.inst, ctx.who
    projects = list(inst.store.projects.values())
    if who.sysadmin:
        return projects
    return [p for p in projects if p.public or _reachable(inst, who, p)]


def _reachable(inst: HarborInstance, who: Principal, p: Project) -> bool:
    if who.robot is not None:
        return any(
            perm.get("kind") == "project" and perm.get("namespace") in ("*", p.name) for perm in who.robot.permissions
        )
    return bool(project_roles(inst, who, p))


def get_project(ctx: Ctx, key: str = "project_name_or_id", action: str = "read") -> Project:
    raw = ctx.params[key]
    try:
        proj = ctx.inst.store.project(raw, is_name=ctx.is_resource_name() or key == "project_name")
    except HarborError:
        # handler/base.go RequireProjectAccess runs before the lookup: for a missing project the RBAC
        # evaluator (common/rbac/project/evaluator.go NewEvaluator) finds no project and grants
        # nothing, so only a sysadmin (admin evaluator) reaches the 404; others get 401 / 403.
        if not ctx.who.sysadmin:
            require_auth(ctx.who)
            raise HarborError(403, "FORBIDDEN") from None
        raise
    if not can_project(ctx.inst, ctx.who, proj, "project", "read"):
        # private project, caller without access: Harbor answers 401/403 (never leaks data)
        require_auth(ctx.who)
        raise HarborError(403, "FORBIDDEN")
    if action != "read":
        require_project(ctx.inst, ctx.who, proj, "project", action)
    return proj


def render_project(ctx: Ctx, p: Project) -> dict[str, Any]:
    inst = ctx.inst
    roles = set(project_roles(inst, ctx.who, p)) | ({1} if ctx.who.sysadmin else set())
    ordered = [r for r in ROLE_PRIORITY if r in roles]
    owner = inst.store.users.get(p.owner_id)
    out: dict[str, Any] = {
        "project_id": p.project_id,
        "owner_id": p.owner_id,
        "name": p.name,
        "creation_time": iso(p.creation_time),
        "update_time": iso(p.update_time),
        "deleted": False,
        "owner_name": owner.username if owner else "",
        "togglable": True,
        "current_user_role_id": ordered[0] if ordered else 0,
        "repo_count": len(inst.store.project_repos(p.project_id)),
        "chart_count": 0,
        "metadata": dict(p.metadata),
        "cve_allowlist": p.cve_allowlist,
    }
    if ordered:
        out["current_user_role_ids"] = ordered
    if p.registry_id:
        out["registry_id"] = p.registry_id
    return spec.shape(inst.spec_name, "Project", out)


def check_metadata(meta: Any) -> dict[str, str]:
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise HarborError(422, "validation failure list:\nmetadata in body must be of type object")
    for k, v in meta.items():
        if not isinstance(v, str):
            raise HarborError(422, f"validation failure list:\nmetadata.{k} in body must be of type string")
    return dict(meta)


@routes.get("/projects")
def list_projects(ctx: Ctx) -> SimResponse:
    q = ctx.query
    projects = visible_projects(ctx)
    rows: list[dict[str, Any]] = [
        {
            "name": p.name,
            "project_id": p.project_id,
            "creation_time": p.creation_time,
            "update_time": p.update_time,
            "public": p.public,
            "owner_id": p.owner_id,
            "_p": p,
        }
        for p in projects
    ]
    if name := q.get("name"):
        rows = [r for r in rows if name in r["name"]]
    if (public := q.bool("public")) is not None:
        rows = [r for r in rows if r["public"] == public]
    if owner := q.get("owner"):
        rows = [r for r in rows if (u := ctx.inst.store.users.get(r["owner_id"])) and u.username == owner]
    keys = ("name", "project_id", "creation_time", "update_time", "public", "owner_id")
    rows = filter_rows(rows, parse_q(q.get("q")), keys)
    rows = sort_rows(rows, parse_sort(q.get("sort"), keys) or [("name", False)])
    page = ctx.page()
    total = len(rows)
    chunk = [render_project(ctx, r["_p"]) for r in rows[page.offset : page.offset + page.size]]

    return listing(ctx, chunk, total, page)


@routes.head("/projects")
def head_project(ctx: Ctx) -> SimResponse:
    """handler/project.go HeadProject: RequireAuthenticated (anonymous: 401), then 404 / 200 by name."""
    name = ctx.query.get("project_name")
    if not name:  # go-swagger validates the parameters before the handler runs
        raise HarborError(422, "validation failure list:\nproject_name in query is required")
    require_auth(ctx.who)
    if ctx.inst.store.project_by_name(name) is None:
        raise not_found(f"project {name} not found")
    return empty()


@routes.post("/projects")
def create(ctx: Ctx) -> SimResponse:
    inst, who = ctx.inst, ctx.who
    require_auth(who)
    body = ctx.body_obj()
    name = body.get("project_name")
    if not isinstance(name, str) or not name:
        raise HarborError(422, "validation failure list:\nproject_name in body is required")
    if not NAME_RE.match(name) or len(name) > 255:
        raise bad_request(f"project name is not in lower case or contains illegal characters: {name}")
    if who.robot is not None:
        if not robot_allows(who.robot, "project", "create", None):
            raise HarborError(403, "FORBIDDEN")
    elif inst.config["project_creation_restriction"] == "adminonly" and not who.sysadmin:
        raise HarborError(403, "Only system admin can create project")
    if inst.store.project_by_name(name) is not None:
        raise conflict(f"The project named {name} already exists")
    meta = check_metadata(body.get("metadata"))
    if body.get("public") is not None and "public" not in meta:
        meta["public"] = "true" if body["public"] else "false"
    registry_id = body.get("registry_id")
    if registry_id and registry_id not in inst.store.registries:
        raise bad_request(f"registry {registry_id} not found")
    limit = body.get("storage_limit")
    if limit is None:
        limit = int(inst.config["storage_per_project"])
    owner = who.user or inst.admin
    proj = create_project(
        inst,
        name,
        owner=owner,
        public=meta.get("public") == "true",
        metadata=meta,
        storage_limit=int(limit),
        registry_id=registry_id,
        audit=False,
    )
    if who.user is None:  # robots are not members
        inst.store.members = {k: m for k, m in inst.store.members.items() if m.project_id != proj.project_id}
    inst.record(who.name, "create", "project", name, project=name)
    by_name = ctx.req.header("x-resource-name-in-location").lower() == "true"
    return created(ctx, name if by_name else proj.project_id)


@routes.get("/projects/{project_name_or_id}")
def get_one(ctx: Ctx) -> SimResponse:
    return ok(render_project(ctx, get_project(ctx)))


@routes.put("/projects/{project_name_or_id}")
def update(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx, action="update")
    body = ctx.body_obj()
    proj.metadata.update(check_metadata(body.get("metadata")))
    if body.get("public") is not None:
        proj.metadata["public"] = "true" if body["public"] else "false"
    if isinstance(body.get("cve_allowlist"), dict):
        proj.cve_allowlist = {**proj.cve_allowlist, "items": body["cve_allowlist"].get("items") or []}
    proj.update_time = ctx.now
    ctx.inst.record(ctx.who.name, "update", "project", proj.name, project=proj.name)
    return empty()


def deletable(ctx: Ctx, proj: Project) -> tuple[bool, str]:
    if ctx.inst.store.project_repos(proj.project_id):
        return False, "the project contains repositories, can not be deleted"
    return True, ""


@routes.delete("/projects/{project_name_or_id}")
def delete(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx, action="delete")
    ok_, msg = deletable(ctx, proj)
    if not ok_:
        raise HarborError(412, msg)
    store = ctx.inst.store
    del store.projects[proj.project_id]
    store.members = {k: m for k, m in store.members.items() if m.project_id != proj.project_id}
    ctx.inst.record(ctx.who.name, "delete", "project", proj.name, project=proj.name, project_id=proj.project_id)
    return empty()


@routes.get("/projects/{project_name_or_id}/_deletable")
def get_deletable(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx, action="delete")
    ok_, msg = deletable(ctx, proj)
    return ok({"deletable": ok_, "message": msg})


@routes.get("/projects/{project_name_or_id}/summary")
def summary(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    store = ctx.inst.store
    out: dict[str, Any] = {"repo_count": len(store.project_repos(proj.project_id)), "chart_count": 0}
    if can_project(ctx.inst, ctx.who, proj, "member", "list"):
        roles = [m.role_id for m in store.members.values() if m.project_id == proj.project_id]
        out.update(
            project_admin_count=roles.count(1),
            maintainer_count=roles.count(4),
            developer_count=roles.count(2),
            guest_count=roles.count(3),
            limited_guest_count=roles.count(5),
        )
    out["quota"] = {"hard": {"storage": proj.storage_limit}, "used": {"storage": store.project_usage(proj.project_id)}}
    if proj.registry_id and (reg := store.registries.get(proj.registry_id)):
        from harborops.harbor_sim.routes.replication import render_registry

        out["registry"] = render_registry(ctx, reg)
    return ok(spec.shape(ctx.inst.spec_name, "ProjectSummary", out))


# --- metadata ------------------------------------------------------------------------------------------
@routes.get("/projects/{project_name_or_id}/metadatas/")
def list_meta(ctx: Ctx) -> SimResponse:
    return ok(dict(get_project(ctx).metadata))


@routes.post("/projects/{project_name_or_id}/metadatas/")
def add_meta(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx, action="update")
    meta = check_metadata(ctx.body_obj())
    if set(meta) & set(proj.metadata):
        raise conflict("metadata already exists")
    proj.metadata.update(meta)
    return empty()


@routes.get("/projects/{project_name_or_id}/metadatas/{meta_name}")
def get_meta(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    name = ctx.params["meta_name"]
    if name not in proj.metadata:
        raise not_found(f"metadata {name} not found")
    return ok({name: proj.metadata[name]})


@routes.put("/projects/{project_name_or_id}/metadatas/{meta_name}")
def put_meta(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx, action="update")
    proj.metadata.update(check_metadata(ctx.body_obj()))
    return empty()


@routes.delete("/projects/{project_name_or_id}/metadatas/{meta_name}")
def delete_meta(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx, action="update")
    if proj.metadata.pop(ctx.params["meta_name"], None) is None:
        raise not_found("metadata not found")
    return empty()
