"""/projects/{p}/members: users and (LDAP) groups with project roles."""

from __future__ import annotations

from typing import Any

from harborops.harbor_sim.auth import require_project
from harborops.harbor_sim.http import SimResponse, bad_request, conflict, lookup, not_found
from harborops.harbor_sim.routes import Ctx, RouteSet, created, empty, ok, paged
from harborops.harbor_sim.routes.projects import get_project
from harborops.harbor_sim.state import GROUP_LDAP, ROLE_NAMES, Member, Project, UserGroup

routes = RouteSet()


# --- members -------------------------------------------------------------------------------------------
def render_member(ctx: Ctx, m: Member) -> dict[str, Any]:
    store = ctx.inst.store
    if m.entity_type == "u":
        u = store.users.get(m.entity_id)
        name = u.username if u else ""
    else:
        g = store.groups.get(m.entity_id)
        name = g.group_name if g else ""
    return {
        "id": m.id,
        "project_id": m.project_id,
        "entity_name": name,
        "role_name": ROLE_NAMES[m.role_id],
        "role_id": m.role_id,
        "entity_id": m.entity_id,
        "entity_type": m.entity_type,
    }


def _member(ctx: Ctx, proj: Project) -> Member:
    return lookup(ctx.inst.store.members, ctx.params["mid"], "project member",
                  where=lambda m: m.project_id == proj.project_id)


@routes.get("/projects/{project_name_or_id}/members")
def list_members(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    require_project(ctx.inst, ctx.who, proj, "member", "list")
    rows = [render_member(ctx, m) for m in ctx.inst.store.members.values() if m.project_id == proj.project_id]
    if name := ctx.query.get("entityname"):
        rows = [r for r in rows if name in r["entity_name"]]
    return paged(ctx, rows)


@routes.get("/projects/{project_name_or_id}/members/{mid}")
def get_member(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    require_project(ctx.inst, ctx.who, proj, "member", "read")
    return ok(render_member(ctx, _member(ctx, proj)))


def resolve_member_entity(ctx: Ctx, body: dict[str, Any]) -> tuple[str, int]:
    """Harbor's resolution order: user_id > group id > username (LDAP on-board) > group DN > group name."""
    inst, store = ctx.inst, ctx.inst.store
    user, group = body.get("member_user") or {}, body.get("member_group") or {}
    if user.get("user_id"):
        if int(user["user_id"]) not in store.users:
            raise not_found(f"user {user['user_id']} not found")
        return "u", int(user["user_id"])
    if group.get("id"):
        if int(group["id"]) not in store.groups:
            raise not_found(f"user group {group['id']} not found")
        return "g", int(group["id"])
    if user.get("username"):
        u = store.user_by_name(str(user["username"]))
        if u is None and inst.config["auth_mode"] == "ldap_auth":
            u = inst.onboard_ldap_user(str(user["username"]))
        if u is None:
            raise not_found(f"user {user['username']} not found")
        return "u", u.user_id
    if group.get("ldap_group_dn"):
        return "g", onboard_ldap_group(ctx, str(group["ldap_group_dn"]), str(group.get("group_name") or "")).id
    if group.get("group_name"):
        gtype = int(group.get("group_type") or 0)
        found = next(
            (
                g
                for g in store.groups.values()
                if g.group_name == group["group_name"] and (not gtype or g.group_type == gtype)
            ),
            None,
        )
        if found is None:
            raise not_found(f"user group {group['group_name']} not found")
        return "g", found.id
    raise bad_request("either member_user or member_group is required")


def onboard_ldap_group(ctx: Ctx, dn: str, display: str = "") -> UserGroup:
    inst = ctx.inst
    existing = inst.store.group_by_dn(dn)
    if existing is not None:
        return existing
    if inst.config["auth_mode"] != "ldap_auth":
        raise bad_request(f"LDAP Group DN is not found: {dn} (auth mode is {inst.config['auth_mode']})")
    if not dn.lower().startswith("cn=") or "," not in dn:
        raise bad_request(f"invalid DN syntax: {dn}")
    hits = inst.ldap.search_groups(None, dn)
    if not hits:
        raise bad_request(f"LDAP Group DN is not found: {dn}")
    g = UserGroup(inst.store.ids.next("usergroup"), display or hits[0].name, GROUP_LDAP, hits[0].dn)
    inst.store.groups[g.id] = g
    return g


@routes.post("/projects/{project_name_or_id}/members")
def add_member(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    require_project(ctx.inst, ctx.who, proj, "member", "create")
    body = ctx.body_obj()
    role = body.get("role_id")
    if role not in ROLE_NAMES:
        raise bad_request(f"invalid role id: {role}")
    etype, eid = resolve_member_entity(ctx, body)
    store = ctx.inst.store
    if any(
        m.project_id == proj.project_id and m.entity_type == etype and m.entity_id == eid
        for m in store.members.values()
    ):
        raise conflict("The member already exists")
    m = Member(store.ids.next("member"), proj.project_id, int(role), etype, eid)
    store.members[m.id] = m
    name = render_member(ctx, m)["entity_name"]
    ctx.inst.record(
        ctx.who.name,
        "create",
        "member",
        name,
        project=proj.name,
        description=f"add member {name} to project {proj.name} as {ROLE_NAMES[m.role_id]}",
    )
    return created(ctx, m.id)


@routes.put("/projects/{project_name_or_id}/members/{mid}")
def update_member(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    require_project(ctx.inst, ctx.who, proj, "member", "update")
    m = _member(ctx, proj)
    role = ctx.body_obj().get("role_id")
    if role not in ROLE_NAMES:
        raise bad_request(f"invalid role id: {role}")
    m.role_id = int(role)
    ctx.inst.record(ctx.who.name, "update", "member", render_member(ctx, m)["entity_name"], project=proj.name)
    return empty()


@routes.delete("/projects/{project_name_or_id}/members/{mid}")
def delete_member(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    require_project(ctx.inst, ctx.who, proj, "member", "delete")
    m = _member(ctx, proj)
    name = render_member(ctx, m)["entity_name"]
    del ctx.inst.store.members[m.id]
    ctx.inst.record(ctx.who.name, "delete", "member", name, project=proj.name)
    return empty()
