"""User groups, LDAP, users, robot accounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harborops.harbor import types as t
from harborops.harbor.capabilities import GROUP_TYPE_LDAP
from harborops.harbor.ops import (
    EndpointBase,
    Op,
    Req,
    caps_op,
    endpoint,
    location_id,
    opt,
    paged,
    paged_models,
    parse_list,
    parse_model,
    project_ref,
    q_params,
)
from harborops.harbor.query import build_q


def normalise_dn(dn: str) -> str:
    """A DN as Harbor stores it in user_group.ldap_group_dn: utils.TrimLower (trimmed, lower-cased)."""
    return dn.strip().lower()


class AccessEndpoints(EndpointBase):
    # -- user groups -----------------------------------------------------------------------
    @endpoint
    def list_usergroups(
        self, *, ldap_group_dn: str | None = None, group_name: str | None = None
    ) -> Op[list[t.UserGroup]]:
        """GET /usergroups (sysadmin). Filters: ldap_group_dn v2.4+, group_name v2.6+.

        Harbor stores an LDAP group's DN trimmed and lower-cased and compares ``ldap_group_dn`` with that
        stored value exactly (src/pkg/usergroup/dao/dao.go@v2.13.0 Add; handler/usergroup.go ListUserGroups),
        so the DN is sent normalised the same way. The list holds only the groups of the instance's auth
        mode (LDAP groups in ldap_auth); the DN filter applies only in ldap_auth.
        """
        caps = yield from caps_op(self)
        if ldap_group_dn is not None:
            caps.require("usergroups_paginated", "/usergroups?ldap_group_dn")
            ldap_group_dn = normalise_dn(ldap_group_dn)
        if group_name is not None:
            caps.require("usergroups_group_name_filter", "/usergroups?group_name")
        params = opt(ldap_group_dn=ldap_group_dn, group_name=group_name)
        if not caps.usergroups_paginated:  # v2.3: no paging params, returns everything
            resp = yield Req("GET", "/usergroups", params)
            return parse_list(t.UserGroup, resp.json(), resp)
        return (yield from paged_models(t.UserGroup, Req("GET", "/usergroups", params)))

    @endpoint
    def find_ldap_usergroup(self, ldap_group_dn: str) -> Op[t.UserGroup | None]:
        """The LDAP user group Harbor stores for this DN, or None. Compares normalised DNs (trimmed,
        lower-cased, as Harbor stores them): ``?ldap_group_dn=`` on v2.4+, the full list on v2.3."""
        caps = yield from caps_op(self)
        wanted = normalise_dn(ldap_group_dn)
        if caps.usergroups_paginated:
            found = yield from paged_models(t.UserGroup, Req("GET", "/usergroups", [("ldap_group_dn", wanted)]))
        else:
            resp = yield Req("GET", "/usergroups")
            found = parse_list(t.UserGroup, resp.json(), resp)
        return next((g for g in found if g.group_type == GROUP_TYPE_LDAP and normalise_dn(g.ldap_group_dn) == wanted),
                    None)

    @endpoint
    def search_usergroups(self, groupname: str) -> Op[list[t.UserGroup]]:
        """GET /usergroups/search?groupname= (v2.4+, any authenticated user)."""
        caps = yield from caps_op(self)
        caps.require("usergroup_search")
        return (yield from paged_models(t.UserGroup, Req("GET", "/usergroups/search", [("groupname", groupname)])))

    @endpoint
    def create_usergroup(
        self, group_name: str, *, group_type: int = GROUP_TYPE_LDAP, ldap_group_dn: str | None = None
    ) -> Op[int]:
        """POST /usergroups → id. For LDAP groups Harbor checks the DN exists (400 otherwise)."""
        body: dict[str, Any] = {"group_name": group_name, "group_type": group_type}
        if ldap_group_dn is not None:
            body["ldap_group_dn"] = ldap_group_dn
        resp = yield Req("POST", "/usergroups", json=body)
        return location_id(resp)

    # -- LDAP ------------------------------------------------------------------------------
    @endpoint
    def ldap_ping(self, conf: Mapping[str, Any]) -> Op[t.LdapPingResult]:
        """POST /ldap/ping: always HTTP 200, judge by ``success``. Empty password = stored one."""
        secret = str(conf.get("ldap_search_password") or "")
        resp = yield Req("POST", "/ldap/ping", json=dict(conf), secrets=(secret,) if secret else ())
        return parse_model(t.LdapPingResult, resp.json(), resp)

    @endpoint
    def ldap_search_users(self, username: str) -> Op[list[t.LdapUser]]:
        resp = yield Req("GET", "/ldap/users/search", [("username", username)])
        return parse_list(t.LdapUser, resp.json(), resp)

    @endpoint
    def ldap_import_users(self, uids: Sequence[str]) -> Op[list[t.LdapFailedImport]]:
        """Import LDAP users; returns the failures (Harbor answers 404 with them), [] if all ok.

        A user already in Harbor is not a failure (on-boarding is idempotent). Failure codes are Harbor's
        (src/pkg/ldap/manager.go@v2.13.0 ImportUser): ``empty_uid``, ``failed_search_user``,
        ``unknown_user``, ``failed to import user: <uid>``; an unreachable LDAP server is a 500.
        """
        resp = yield Req("POST", "/ldap/users/import", json={"ldap_uid_list": list(uids)}, accept=frozenset({404}))
        return parse_list(t.LdapFailedImport, resp.json(), resp) if resp.status == 404 else []

    @endpoint
    def ldap_search_groups(self, *, groupname: str | None = None, groupdn: str | None = None) -> Op[list[t.UserGroup]]:
        """GET /ldap/groups/search; Harbor's 404 for "nothing found" becomes []."""
        resp = yield Req(
            "GET", "/ldap/groups/search", opt(groupname=groupname, groupdn=groupdn), accept=frozenset({404})
        )
        return [] if resp.status == 404 else parse_list(t.UserGroup, resp.json(), resp)

    # -- users -----------------------------------------------------------------------------
    @endpoint
    def search_users(self, username: str) -> Op[list[t.UserSearchItem]]:
        return (yield from paged_models(t.UserSearchItem, Req("GET", "/users/search", [("username", username)])))

    @endpoint
    def current_user(self) -> Op[t.User]:
        """GET /users/current: the cheap "are these credentials valid" check."""
        resp = yield Req("GET", "/users/current")
        return parse_model(t.User, resp.json(), resp)

    @endpoint
    def list_users(self, *, q: str | None = None) -> Op[list[t.User]]:
        return (yield from paged_models(t.User, Req("GET", "/users", q_params(q, None))))

    # -- robots (/robots, system and project level) ------------------------------------------
    @endpoint
    def list_robots(self, *, project_id: int | None = None) -> Op[list[t.Robot]]:
        """System robots, or the robots of one project (``q=Level=project,ProjectID=N``).

        Filtered here by level on every version: before 2.13 Harbor answers ``q=Level=system`` with
        every robot the caller may list, project robots included (handler/robot.go@v2.12.4 ListRobot;
        fixed in v2.13.0 by "fix 21118").
        """
        if project_id is not None:
            if project_id <= 0:
                raise ValueError("project_id must be > 0")
            q = build_q("robot", {"Level": "project", "ProjectID": project_id})
        else:
            q = build_q("robot", {"Level": "system"})
        robots = yield from paged_models(t.Robot, Req("GET", "/robots", q_params(q, None)))
        if project_id is not None:
            return [r for r in robots if r.level == "project"]
        return [r for r in robots if r.level == "system"]

    @endpoint
    def get_robot(self, robot_id: int) -> Op[t.Robot]:
        resp = yield Req("GET", f"/robots/{int(robot_id)}")
        return parse_model(t.Robot, resp.json(), resp)

    @endpoint
    def create_robot(
        self,
        name: str,
        permissions: Sequence[Mapping[str, Any]],
        *,
        level: str = "system",
        duration: int = -1,
        description: str = "",
    ) -> Op[t.RobotCreated]:
        """POST /robots → RobotCreated (the secret is only ever returned here and on refresh).

        ``permissions``: ``[{"kind": "project", "namespace": "*", "access": [{"resource": "repository",
        "action": "pull"}]}]``. A project-level robot takes exactly one permission entry.
        Harbor always generates the secret and creates the robot enabled: it ignores a body's
        ``secret`` and ``disable`` (handler/robot.go CreateRobot), so neither is offered here; set a
        chosen secret with :meth:`refresh_robot_secret`, disable with an update.
        """
        if level not in ("system", "project"):
            raise ValueError("level must be 'system' or 'project'")
        if level == "project" and len(permissions) != 1:
            raise ValueError("a project-level robot takes exactly one permission entry")
        body: dict[str, Any] = {
            "name": name,
            "level": level,
            "duration": duration,
            "description": description,
            "permissions": [dict(p) for p in permissions],
        }
        resp = yield Req("POST", "/robots", json=body)
        return parse_model(t.RobotCreated, resp.json(), resp)

    @endpoint
    def update_robot(self, robot_id: int, robot: Mapping[str, Any]) -> Op[None]:
        """PUT /robots/{id} with the whole robot (name and level unchanged: handler/robot.go updateV2Robot
        refuses to change them; permissions replace the old ones)."""
        yield Req("PUT", f"/robots/{int(robot_id)}", json=dict(robot))
        return None

    @endpoint
    def delete_robot(self, robot_id: int) -> Op[None]:
        yield Req("DELETE", f"/robots/{int(robot_id)}")
        return None

    @endpoint
    def refresh_robot_secret(self, robot_id: int, secret: str | None = None) -> Op[str]:
        """PATCH /robots/{id}: no secret → Harbor generates and returns one. Returns the new secret.

        With a caller-given secret Harbor answers ``{"secret": ""}`` (handler/robot.go RefreshSec),
        so the given secret is what is returned.
        """
        if secret is not None and not (8 <= len(secret) <= 128):
            raise ValueError("robot secret must be 8-128 characters with upper, lower case and a digit")
        resp = yield Req(
            "PATCH",
            f"/robots/{int(robot_id)}",
            json={"secret": secret or ""},
            secrets=(secret,) if secret else (),
        )
        data = resp.json() or {}
        return str(data.get("secret") or secret or "")

    @endpoint
    def list_project_robots_legacy(self, project: str | int) -> Op[list[dict[str, Any]]]:
        """GET /projects/{p}/robots — removed in v2.13 (NotSupported there); prefer list_robots."""
        caps = yield from caps_op(self)
        caps.require("project_robots")
        ref, headers = project_ref(project)
        return (yield from paged(Req("GET", f"/projects/{ref}/robots", headers=headers)))
