"""/users, /usergroups and /ldap/*."""

from __future__ import annotations

import re
from typing import Any

from harborops.harbor_sim.auth import PROJECT_RBAC, project_roles, require_auth, require_sysadmin
from harborops.harbor_sim.clock import iso
from harborops.harbor_sim.http import HarborError, SimResponse, bad_request, conflict, forbidden, lookup, not_found
from harborops.harbor_sim.ldap import LdapFailure, LdapUnavailable, trim_lower
from harborops.harbor_sim.query import filter_rows, parse_q, parse_sort, sort_rows
from harborops.harbor_sim.routes import Ctx, RouteSet, created, empty, ok, paged
from harborops.harbor_sim.routes.members import internal_error, search_ldap_group
from harborops.harbor_sim.state import GROUP_HTTP, GROUP_LDAP, User, UserGroup

routes = RouteSet()


def password_ok(pw: str) -> bool:
    return 8 <= len(pw) <= 128 and bool(re.search(r"[A-Z]", pw) and re.search(r"[a-z]", pw) and re.search(r"\d", pw))


def render_user(ctx: Ctx, u: User) -> dict[str, Any]:
    """``admin_role_in_auth`` is a property of the caller's session, shown only on the caller's own record
    (src/controller/user/controller.go@v2.13.0 Get: copied from the local security context when the id is
    the caller's); listings never carry it."""
    me = ctx.who.user
    in_auth = bool(me is not None and me.user_id == u.user_id and ctx.who.admin_role_in_auth)
    return {
        "user_id": u.user_id,
        "username": u.username,
        "email": u.email,
        "realname": u.realname,
        "comment": u.comment,
        "sysadmin_flag": u.sysadmin_flag,
        "admin_role_in_auth": in_auth,
        "creation_time": iso(u.creation_time or ctx.now),
        "update_time": iso(u.update_time or ctx.now),
    }


def _user(ctx: Ctx) -> User:
    return lookup(ctx.inst.store.users, ctx.params["user_id"], "user")


def _self_or_admin(ctx: Ctx, u: User) -> None:
    require_auth(ctx.who)
    if not ctx.who.sysadmin and (ctx.who.user is None or ctx.who.user.user_id != u.user_id):
        raise forbidden()


@routes.get("/users")
def list_users(ctx: Ctx) -> SimResponse:
    require_sysadmin(ctx.who)
    keys = ("user_id", "username", "email", "realname", "sysadmin_flag", "creation_time")
    rows = [{**render_user(ctx, u), "admin_role_in_auth": False} for u in ctx.inst.store.users.values()]
    rows = filter_rows(rows, parse_q(ctx.query.get("q")), keys)
    return paged(ctx, sort_rows(rows, parse_sort(ctx.query.get("sort"), keys) or [("user_id", False)]))


@routes.post("/users")
def create_user(ctx: Ctx) -> SimResponse:
    inst = ctx.inst
    if not (ctx.who.sysadmin or (not ctx.who.authenticated and inst.config["self_registration"])):
        require_sysadmin(ctx.who)
    if inst.config["auth_mode"] != "db_auth":
        raise forbidden(f"creating local users is not allowed in {inst.config['auth_mode']} mode")
    body = ctx.body_obj()
    username, password = str(body.get("username") or ""), str(body.get("password") or "")
    email = str(body.get("email") or "")
    if not username or not email:
        raise bad_request("username and email are required")
    if not password_ok(password):
        raise bad_request("password must be 8-128 characters with at least one uppercase, lowercase and digit")
    if inst.store.user_by_name(username) or any(u.email == email for u in inst.store.users.values()):
        raise conflict(f"username {username} or email {email} is already used")
    user = inst.add_user(username, password)
    user.email, user.realname, user.comment = email, str(body.get("realname") or ""), str(body.get("comment") or "")
    inst.record(  # auditext/event/basic.go Resolver.Resolve: "<op> user with name: <name>"
        ctx.who.name if ctx.who.authenticated else username,
        "create",
        "user",
        username,
        description=f"create user with name: {username}",
    )
    return created(ctx, user.user_id)


@routes.get("/users/current")
def current_user(ctx: Ctx) -> SimResponse:
    if ctx.who.user is None:
        raise HarborError(401, "UNAUTHORIZED")
    return ok(render_user(ctx, ctx.who.user))


@routes.get("/users/current/permissions")
def current_permissions(ctx: Ctx) -> SimResponse:
    require_auth(ctx.who)
    scope = ctx.query.get("scope") or ""
    m = re.match(r"^/project/(\d+)", scope)
    if not m:
        return ok([])
    proj = ctx.inst.store.projects.get(int(m.group(1)))
    if proj is None:
        return ok([])
    roles = {1} if ctx.who.sysadmin else project_roles(ctx.inst, ctx.who, proj)
    perms = [{"resource": r, "action": a} for (r, a), allowed in PROJECT_RBAC.items() if roles & allowed]
    return ok(perms)


@routes.get("/users/search")
def search_users(ctx: Ctx) -> SimResponse:
    require_auth(ctx.who)
    name = ctx.query.get("username")
    if name is None:
        raise HarborError(422, "validation failure list:\nusername in query is required")
    rows = [{"user_id": u.user_id, "username": u.username} for u in ctx.inst.store.users.values() if name in u.username]
    return paged(ctx, rows)


@routes.get("/users/{user_id}")
def get_user(ctx: Ctx) -> SimResponse:
    u = _user(ctx)
    _self_or_admin(ctx, u)
    return ok(render_user(ctx, u))


@routes.put("/users/{user_id}")
def update_user(ctx: Ctx) -> SimResponse:
    u = _user(ctx)
    _self_or_admin(ctx, u)
    body = ctx.body_obj()
    for key in ("email", "realname", "comment"):
        if isinstance(body.get(key), str):
            setattr(u, key, body[key])
    u.update_time = ctx.now
    ctx.inst.record(ctx.who.name, "update", "user", u.username, description=f"update user with name: {u.username}")
    return empty()


@routes.delete("/users/{user_id}")
def delete_user(ctx: Ctx) -> SimResponse:
    require_sysadmin(ctx.who)
    u = _user(ctx)
    if u.user_id == 1 or (ctx.who.user and ctx.who.user.user_id == u.user_id):
        raise forbidden("can not delete the admin user or yourself")
    store = ctx.inst.store
    del store.users[u.user_id]
    store.members = {k: m for k, m in store.members.items() if not (m.entity_type == "u" and m.entity_id == u.user_id)}
    ctx.inst.record(ctx.who.name, "delete", "user", u.username, description=f"delete user with name: {u.username}")
    return empty()


@routes.put("/users/{user_id}/sysadmin")
def set_sysadmin(ctx: Ctx) -> SimResponse:
    require_sysadmin(ctx.who)
    u = _user(ctx)
    u.sysadmin_flag = bool(ctx.body_obj().get("sysadmin_flag"))
    ctx.inst.record(  # auditext/event/user/user.go userEventResolver.Resolve
        ctx.who.name,
        "update",
        "user",
        u.username,
        description=f"update user with name: {u.username}, add/remove user as system administrator",
    )
    return empty()


@routes.put("/users/{user_id}/password")
def set_password(ctx: Ctx) -> SimResponse:
    u = _user(ctx)
    _self_or_admin(ctx, u)
    body = ctx.body_obj()
    new = str(body.get("new_password") or "")
    if not ctx.who.sysadmin and body.get("old_password") != u.password:
        raise forbidden("the old password is incorrect")
    if not password_ok(new):
        raise bad_request("the new password is not strong enough")
    u.password = new
    ctx.inst.record(  # auditext/event/user/user.go: PUT .../password is an update_user event
        ctx.who.name,
        "update",
        "user",
        u.username,
        description=f"update user with name: {u.username}, change user password",
    )
    return empty()


# --- user groups ----------------------------------------------------------------------------------
def render_group(g: UserGroup, *, with_id: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"id": g.id} if with_id else {}
    out.update({"group_name": g.group_name, "group_type": g.group_type})
    if g.ldap_group_dn:
        out["ldap_group_dn"] = g.ldap_group_dn
    return out


def _group(ctx: Ctx) -> UserGroup:
    return lookup(ctx.inst.store.groups, ctx.params["group_id"], "user group")


@routes.get("/usergroups")
def list_groups(ctx: Ctx) -> SimResponse:
    """ListUserGroups (src/server/v2.0/handler/usergroup.go@v2.4.0..v2.15.0; @v2.3.0 without paging): in LDAP
    mode only LDAP groups and ``ldap_group_dn`` compared as an exact keyword with the stored (trimmed,
    lower-cased) DN; in HTTP mode only HTTP groups; other modes list every group and ignore the DN.
    ``group_name`` (2.6+) is a case-insensitive substring (FuzzyMatchValue → icontains)."""
    require_sysadmin(ctx.who)
    beh = ctx.inst.behaviour
    mode = ctx.inst.config.get("auth_mode")
    groups = sorted(ctx.inst.store.groups.values(), key=lambda g: g.id)
    if mode == "ldap_auth":
        groups = [g for g in groups if g.group_type == GROUP_LDAP]
    elif mode == "http_auth":
        groups = [g for g in groups if g.group_type == GROUP_HTTP]
    if not beh.usergroups_paginated:  # v2.3: no paging, no filters
        return ok([render_group(g) for g in groups])
    if mode == "ldap_auth" and (dn := ctx.query.get("ldap_group_dn")):
        groups = [g for g in groups if g.ldap_group_dn == dn]
    if beh.usergroups_group_name_filter and (name := ctx.query.get("group_name")):
        groups = [g for g in groups if name.lower() in g.group_name.lower()]
    return paged(ctx, [render_group(g) for g in groups])


@routes.post("/usergroups")
def create_group(ctx: Ctx) -> SimResponse:
    """CreateUserGroup → usergroup controller.Create (src/controller/usergroup/controller.go@v2.13.0): an LDAP
    group's DN must be found by Auth.SearchGroup — any failure is 400 'LDAP Group DN is not found: DN:…'; the
    duplicate check is by (name, type) only (409), so a second group with the same DN but another name is
    created; pkg/usergroup dao.Add stores the DN TrimLower'd and refuses a name taken by an HTTP group (409);
    user_group.group_name is unique across types (the database refuses: 500)."""
    require_sysadmin(ctx.who)
    inst = ctx.inst
    body = ctx.body_obj()
    gtype = int(body.get("group_type") or 0)
    name = str(body.get("group_name") or "")
    dn = str(body.get("ldap_group_dn") or "")
    if not name:
        raise bad_request("group_name is required")
    if gtype == GROUP_LDAP:
        try:
            found = search_ldap_group(ctx, dn) if dn else None
        except HarborError:
            found = None
        if found is None:
            raise bad_request(f"LDAP Group DN is not found: DN:{dn}")
    groups = inst.store.groups.values()
    if any(g.group_name == name and g.group_type == gtype for g in groups):
        raise conflict(f"duplicate user group, group name:{name}, group type: {gtype}, ldap group DN: {dn}")
    if any(g.group_name == name and g.group_type == GROUP_HTTP for g in groups):
        raise conflict("duplicated user group name")
    if any(g.group_name == name for g in groups):
        raise internal_error('duplicate key value violates unique constraint "unique_group_name"')
    g = UserGroup(inst.store.ids.next("usergroup"), name, gtype, trim_lower(dn))
    inst.store.groups[g.id] = g
    return created(ctx, g.id)


@routes.get("/usergroups/search", feature="usergroup_search")
def search_groups(ctx: Ctx) -> SimResponse:
    require_auth(ctx.who)
    name = ctx.query.get("groupname")
    if name is None:
        raise HarborError(422, "validation failure list:\ngroupname in query is required")
    rows = [
        {"id": g.id, "group_name": g.group_name, "group_type": g.group_type}
        for g in sorted(ctx.inst.store.groups.values(), key=lambda g: g.id)
        if name.lower() in g.group_name.lower()
    ]
    return paged(ctx, rows)


@routes.get("/usergroups/{group_id}")
def get_group(ctx: Ctx) -> SimResponse:
    require_sysadmin(ctx.who)
    return ok(render_group(_group(ctx), with_id=False))  # GetUserGroup's payload has no id (usergroup.go)


@routes.put("/usergroups/{group_id}")
def update_group(ctx: Ctx) -> SimResponse:
    require_sysadmin(ctx.who)
    g = _group(ctx)
    name = ctx.body_obj().get("group_name")
    if not isinstance(name, str) or not name:
        raise bad_request("group_name is required")
    g.group_name = name
    return empty()


@routes.delete("/usergroups/{group_id}")
def delete_group(ctx: Ctx) -> SimResponse:
    require_sysadmin(ctx.who)
    g = _group(ctx)
    store = ctx.inst.store
    del store.groups[g.id]
    store.members = {k: m for k, m in store.members.items() if not (m.entity_type == "g" and m.entity_id == g.id)}
    return empty()


# --- LDAP -----------------------------------------------------------------------------------------
@routes.post("/ldap/ping")
def ldap_ping(ctx: Ctx) -> SimResponse:
    require_sysadmin(ctx.who)
    conf = ctx.json(required=False) or {}
    if not isinstance(conf, dict):
        raise HarborError(422, "validation failure list:\nldapconf in body must be of type object")
    success, message = ctx.inst.ldap.ping(conf, str(ctx.inst.config.get("ldap_search_password") or ""))
    return ok({"success": success, "message": message})


@routes.get("/ldap/users/search")
def ldap_users(ctx: Ctx) -> SimResponse:
    require_sysadmin(ctx.who)
    hits = ctx.inst.ldap.search_users(ctx.query.get("username") or "")
    return ok([{"username": u.uid, "realname": u.realname, "email": u.email} for u in hits])


@routes.post("/ldap/users/import")
def ldap_import(ctx: Ctx) -> SimResponse:
    """ImportLdapUser → pkg/ldap manager.ImportUser (src/pkg/ldap/manager.go@v2.3.0..v2.15.0): a server that
    cannot be reached fails Session.Open (500); per uid: ``empty_uid``, ``failed_search_user`` (the search
    fails), ``unknown_user`` (no entry), ``failed to import user: <uid>``; a user already in Harbor is
    on-boarded again without error (user manager Onboard returns the existing row). 404 with the failures."""
    require_sysadmin(ctx.who)
    uids = ctx.body_obj().get("ldap_uid_list")
    if not isinstance(uids, list):
        raise HarborError(422, "validation failure list:\nldap_uid_list in body is required")
    inst = ctx.inst
    failed = []
    for raw in uids:
        uid = str(raw)
        if not uid:
            failed.append({"uid": uid, "error": "empty_uid"})
            continue
        try:
            entry = inst.ldap.find_user(uid)
        except LdapUnavailable:  # Session.Open fails before any uid is tried
            raise internal_error("failed to connect to the LDAP server") from None
        except LdapFailure:  # the search bind or the search fails
            failed.append({"uid": uid, "error": "failed_search_user"})
            continue
        if entry is None:
            failed.append({"uid": uid, "error": "unknown_user"})
            continue
        try:
            inst.onboard_ldap_user(entry.uid)
        except HarborError:
            failed.append({"uid": uid, "error": f"failed to import user: {uid}"})
    if failed:
        return ok(failed, status=404)
    return empty()


@routes.get("/ldap/groups/search")
def ldap_groups(ctx: Ctx) -> SimResponse:
    require_sysadmin(ctx.who)
    hits = ctx.inst.ldap.search_groups(ctx.query.get("groupname"), ctx.query.get("groupdn"))
    if not hits:
        raise not_found("no LDAP group found")
    return ok([{"group_name": g.name, "ldap_group_dn": g.dn} for g in hits])
