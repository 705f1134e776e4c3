"""/projects/{p}/members: users and (LDAP) groups with project roles."""

from __future__ import annotations

from typing import Any

from harborops.harbor_sim.auth import onboard_ldap_group_row, require_project
from harborops.harbor_sim.http import HarborError, SimResponse, bad_request, conflict, lookup, not_found
from harborops.harbor_sim.ldap import LdapFailure, LdapGroupEntry, LdapNoSuchObject, trim_lower, valid_dn
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


def internal_error(cause: str) -> HarborError:
    """A Go error that is not a lib/errors.Error: Harbor answers 500 and hides the cause
    (src/lib/http/error.go@v2.13.0 SendError: 'internal server error', code UNKNOWN)."""
    err = HarborError(500, "internal server error")
    err.__cause__ = Exception(cause)
    return err


def resolve_member_entity(ctx: Ctx, body: dict[str, Any]) -> tuple[str, int]:
    """Harbor's member controller.Create resolution order (src/controller/member/controller.go@v2.13.0):
    user_id > group id > username (LDAP on-board) > group DN > group name."""
    inst, store = ctx.inst, ctx.inst.store
    user, group = body.get("member_user") or {}, body.get("member_group") or {}
    checked = inst.behaviour.member_entity_id_checked
    if _positive(user.get("user_id")):
        if checked and int(user["user_id"]) not in store.users:
            raise bad_request(f"User {int(user['user_id'])} not found")
        return "u", int(user["user_id"])
    if _positive(group.get("id")):
        if checked and int(group["id"]) not in store.groups:
            raise bad_request(f"Group {int(group['id'])} not found")
        return "g", int(group["id"])
    if user.get("username"):
        u = store.user_by_name(str(user["username"]))
        if u is None and inst.config["auth_mode"] == "ldap_auth":
            try:  # SearchAndOnBoardUser: a failed search is a plain error
                u = inst.onboard_ldap_user(str(user["username"]))
            except LdapFailure:
                raise internal_error("failed to search user in ldap") from None
        if u is None:
            raise not_found(f"user {user['username']} not found")
        return "u", u.user_id
    if group.get("ldap_group_dn"):
        return "g", member_group_by_dn(ctx, str(group["ldap_group_dn"]), str(group.get("group_name") or "")).id
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
    raise internal_error("can not get valid member entity")


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def search_ldap_group(ctx: Ctx, dn: str) -> LdapGroupEntry:
    """Auth.SearchGroup (src/core/auth/ldap/ldap.go@v2.13.0), as the member controller sees it: an invalid DN,
    an unreachable server or a DN with no entry are plain Go errors (500); a DN outside the group base DN or
    rejected by the group filter is a NotFoundError (404; a plain error, so 500, in 2.3). Not in LDAP mode the
    default helper answers NotFoundError '<dn> not found' (src/core/auth/authenticator.go@v2.13.0)."""
    inst = ctx.inst
    if inst.config["auth_mode"] != "ldap_auth":
        raise not_found(f"{dn} not found")
    if not valid_dn(dn):
        raise internal_error("the LDAP group DN is invalid")
    try:
        grp = inst.ldap.group_by_dn(dn)
    except LdapNoSuchObject:
        raise internal_error("entity not found") from None
    except LdapFailure:  # Session.Open / search failures are plain errors in Harbor
        raise internal_error("ldap search group fail") from None
    if grp is None:
        if not inst.behaviour.member_group_dn_lookup:  # 2.3: fmt.Errorf
            raise internal_error(f"failed to searh ldap group with groupDN:{dn}")
        raise not_found(f"failed to searh ldap group with groupDN:{dn}")
    return grp


def member_group_by_dn(ctx: Ctx, dn: str, alt_name: str = "") -> UserGroup:
    """The ``member_group.ldap_group_dn`` branch of member controller.Create.

    2.4+: a group whose stored DN equals ``dn`` exactly is used (stored DNs are lower-cased, so a DN differing
    in case misses). Otherwise SearchAndOnBoardGroup: the group is looked up in LDAP (the server's form of
    the DN comes back), and OnBoardGroup refuses when a group with exactly that DN is stored — Harbor's
    ErrDuplicateLDAPGroup, a plain error, so 500 — else on-boards it (trimmed, lower-cased). In 2.3 there is
    no first lookup and the duplicate check compares lower-cased DNs: any group already on-boarded is a 500.
    """
    inst, store = ctx.inst, ctx.inst.store
    beh = inst.behaviour
    if beh.member_group_dn_lookup:
        hit = next((g for g in store.groups.values() if g.group_type == GROUP_LDAP and g.ldap_group_dn == dn), None)
        if hit is not None:
            return hit
    grp = search_ldap_group(ctx, dn)
    found_dn = grp.dn
    if beh.member_group_dn_lookup:
        duplicate = any(g.ldap_group_dn == found_dn for g in store.groups.values())
    else:
        duplicate = any(g.ldap_group_dn == trim_lower(found_dn) for g in store.groups.values())
    if duplicate:
        raise internal_error("a LDAP user group with same DN already exist")
    return onboard_ldap_group_row(inst, found_dn, alt_name or grp.name)


@routes.post("/projects/{project_name_or_id}/members")
def add_member(ctx: Ctx) -> SimResponse:
    proj = get_project(ctx)
    require_project(ctx.inst, ctx.who, proj, "member", "create")
    body = ctx.body_obj()
    role = body.get("role_id")
    etype, eid = resolve_member_entity(ctx, body)
    store = ctx.inst.store
    if any(
        m.project_id == proj.project_id and m.entity_type == etype and m.entity_id == eid
        for m in store.members.values()
    ):
        raise conflict("The project member specified already exist")
    if role not in ROLE_NAMES:  # checked after the entity and the duplicate (controller.Create)
        raise bad_request("Failed to update project member, role is not in 1,2,3")
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
