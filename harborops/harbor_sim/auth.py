"""Who is calling (HTTP Basic: users, LDAP users, robots) and what they may do.

Project roles follow Harbor's rbac_role.go in outline: 1 projectAdmin, 4 maintainer, 2 developer,
3 guest, 5 limitedGuest. System robots carry explicit (resource, action) permissions and can never
touch configuration, LDAP, users, user groups or project members.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harborops.harbor_sim.http import HarborError
from harborops.harbor_sim.ldap import LdapFailure, LdapUserEntry, trim_lower, valid_dn
from harborops.harbor_sim.state import GROUP_LDAP, Project, Robot, User, UserGroup

if TYPE_CHECKING:
    from harborops.harbor_sim.instance import HarborInstance

ADMIN, DEVELOPER, GUEST, MAINTAINER, LIMITED_GUEST = 1, 2, 3, 4, 5
ALL_ROLES = frozenset({ADMIN, DEVELOPER, GUEST, MAINTAINER, LIMITED_GUEST})

# (resource, action) -> project roles allowed
PROJECT_RBAC: dict[tuple[str, str], frozenset[int]] = {
    ("project", "read"): ALL_ROLES,
    ("project", "update"): frozenset({ADMIN}),
    ("project", "delete"): frozenset({ADMIN}),
    ("metadata", "read"): ALL_ROLES,
    ("metadata", "update"): frozenset({ADMIN}),
    ("member", "list"): frozenset({ADMIN, MAINTAINER, DEVELOPER, GUEST}),
    ("member", "read"): frozenset({ADMIN, MAINTAINER, DEVELOPER, GUEST}),
    ("member", "create"): frozenset({ADMIN}),
    ("member", "update"): frozenset({ADMIN}),
    ("member", "delete"): frozenset({ADMIN}),
    ("log", "list"): frozenset({ADMIN, MAINTAINER}),
    ("repository", "list"): ALL_ROLES,
    ("repository", "read"): ALL_ROLES,
    ("repository", "pull"): ALL_ROLES,
    ("repository", "push"): frozenset({ADMIN, MAINTAINER, DEVELOPER}),
    ("repository", "update"): frozenset({ADMIN, MAINTAINER, DEVELOPER}),
    ("repository", "delete"): frozenset({ADMIN, MAINTAINER}),
    ("artifact", "list"): ALL_ROLES,
    ("artifact", "read"): ALL_ROLES,
    ("artifact", "create"): frozenset({ADMIN, MAINTAINER, DEVELOPER}),
    ("artifact", "delete"): frozenset({ADMIN, MAINTAINER}),
    ("tag", "create"): frozenset({ADMIN, MAINTAINER, DEVELOPER}),
    ("tag", "delete"): frozenset({ADMIN, MAINTAINER}),
    ("robot", "list"): frozenset({ADMIN, MAINTAINER}),
    ("robot", "create"): frozenset({ADMIN}),
    ("robot", "delete"): frozenset({ADMIN}),
    ("quota", "read"): ALL_ROLES,
}
# What anonymous callers and non-members may do on a public project.
PUBLIC_READ = frozenset(
    {
        ("project", "read"),
        ("metadata", "read"),
        ("repository", "list"),
        ("repository", "read"),
        ("repository", "pull"),
        ("artifact", "list"),
        ("artifact", "read"),
        ("quota", "read"),
    }
)
# Resources a system robot can never be granted (src/common/rbac/const.go).
ROBOT_FORBIDDEN = frozenset({"configuration", "ldap-user", "user", "user-group", "member", "ldap"})


@dataclass(slots=True)
class Principal:
    kind: str  # anonymous | user | robot
    user: User | None = None
    robot: Robot | None = None
    group_dns: list[str] = field(default_factory=list)  # the membership attribute's values, as read
    group_ids: list[int] = field(default_factory=list)  # the groups attached at login (Populate)
    admin_role_in_auth: bool = False

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def sysadmin(self) -> bool:
        return self.user is not None and (self.user.sysadmin_flag or self.admin_role_in_auth)

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.username
        if self.robot is not None:
            return self.robot.name
        return "anonymous"


ANONYMOUS = Principal("anonymous")


def parse_basic(header: str) -> tuple[str, str] | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        raw = base64.b64decode(token.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, sep, secret = raw.partition(":")
    return (name, secret) if sep else None


def authenticate(inst: HarborInstance, header: str) -> Principal:
    """Resolve the Authorization header; raise 401 for bad credentials."""
    if not header:
        return ANONYMOUS
    creds = parse_basic(header)
    if creds is None:
        raise HarborError(401, "unauthorized")
    name, secret = creds
    prefix = str(inst.config.get("robot_name_prefix", "robot$"))
    if name.startswith(prefix):
        return _robot(inst, name, secret)
    user = inst.store.user_by_name(name)
    if inst.config.get("auth_mode") == "ldap_auth" and (user is None or user.user_id != 1):
        entry = inst.ldap.bind(name, secret)
        if entry is None:
            raise HarborError(401, "unauthorized")
        user = inst.onboard_ldap_user(entry.uid)
        return attach_ldap_groups(inst, user, entry)
    if user is None or user.password != secret:
        raise HarborError(401, "unauthorized")
    return Principal("user", user=user)


def attach_ldap_groups(inst: HarborInstance, user: User, entry: LdapUserEntry) -> Principal:
    """Harbor's attachLDAPGroup (src/core/auth/ldap/ldap.go@v2.3.0..v2.15.0).

    Groups come only from the user entry's membership attribute (``entry.group_dns``; SearchUser reads
    ``ldap_group_membership_attribute``). ``ldap_group_admin_dn`` is compared (TrimLower) with each of
    those values — no LDAP lookup, no base DN — and makes the session sysadmin (AdminRoleInAuth). With an
    empty ``ldap_group_search_filter`` no group is attached at all. Otherwise each DN is verified with
    SearchGroupByDN (under the group base DN, matching the filter; failures are skipped) and on-boarded
    (usergroup Populate), and the session carries those group ids. ``ldap_group_attach_parallel`` (2.12+)
    only spreads the same lookups over 5 sessions: the result is the same set of groups.
    """
    admin_dn = trim_lower(str(inst.config.get("ldap_group_admin_dn") or ""))
    in_auth = bool(admin_dn) and any(trim_lower(dn) == admin_dn for dn in entry.group_dns)
    who = Principal("user", user=user, group_dns=list(entry.group_dns), admin_role_in_auth=in_auth)
    if not str(inst.config.get("ldap_group_search_filter") or ""):
        return who
    found: list[tuple[str, str]] = []
    for dn in entry.group_dns:
        if not valid_dn(dn):
            continue
        try:
            grp = inst.ldap.group_by_dn(dn)
        except LdapFailure:  # verifyGroupInLDAP logs the failure; the group is not attached
            grp = None
        if grp is not None:
            found.append((dn, grp.name))
    who.group_ids = populate_ldap_groups(inst, found)
    return who


def populate_ldap_groups(inst: HarborInstance, groups: list[tuple[str, str]]) -> list[int]:
    """usergroup Manager.Populate → onBoardLdapUserGroup (src/pkg/usergroup/manager.go@v2.13.0): the DN is
    stored TrimLower'd; a same-named LDAP group with the same DN is reused, a same-named one with another DN
    makes this group take its DN as name; then read-or-create by (DN, type). Failures are skipped."""
    ids = []
    for dn, name in groups:
        try:
            ids.append(onboard_ldap_group_row(inst, dn, name).id)
        except HarborError:
            continue
    return ids


def onboard_ldap_group_row(inst: HarborInstance, dn: str, name: str) -> UserGroup:
    """Manager.Onboard for an LDAP group (onBoardLdapUserGroup + onBoardCommonUserGroup)."""
    store = inst.store
    low = trim_lower(dn)
    same_name = next((g for g in store.groups.values() if g.group_name == name and g.group_type == GROUP_LDAP), None)
    if same_name is not None:
        if same_name.ldap_group_dn == low:
            return same_name
        name = low[:254] if len(low) > 255 else low
    existing = next((g for g in store.groups.values() if g.ldap_group_dn == low and g.group_type == GROUP_LDAP), None)
    if existing is not None:
        return existing
    if any(g.group_name == name for g in store.groups.values()):  # user_group.unique_group_name
        raise HarborError(500, f'pq: duplicate key value violates unique constraint "unique_group_name" ({name})')
    g = UserGroup(store.ids.next("usergroup"), name, GROUP_LDAP, low)
    store.groups[g.id] = g
    return g


def _robot(inst: HarborInstance, name: str, secret: str) -> Principal:
    robot = next((r for r in inst.store.robots.values() if r.name == name), None)
    now = int(inst.clock.now().timestamp())
    if robot is None or robot.secret != secret or robot.disable or (0 < robot.expires_at < now):
        raise HarborError(401, "unauthorized")
    return Principal("robot", robot=robot)


def robot_allows(robot: Robot, resource: str, action: str, namespace: str | None) -> bool:
    if resource in ROBOT_FORBIDDEN:
        return False
    for perm in robot.permissions:
        kind, ns = perm.get("kind"), perm.get("namespace")
        if namespace is None and kind != "system":
            continue
        if namespace is not None and (kind != "project" or ns not in ("*", namespace)):
            continue
        for acc in perm.get("access") or []:
            if (
                acc.get("resource") in (resource, "*")
                and acc.get("action") in (action, "*")
                and acc.get("effect", "allow") != "deny"
            ):
                return True
    return False


def project_roles(inst: HarborInstance, who: Principal, project: Project) -> set[int]:
    """Project roles the principal holds directly or through the groups attached at login (by id, as
    Harbor's security context carries GroupIDs)."""
    if who.user is None:
        return set()
    uid = who.user.user_id
    group_ids = set(who.group_ids)
    return {
        m.role_id
        for m in inst.store.members.values()
        if m.project_id == project.project_id
        and ((m.entity_type == "u" and m.entity_id == uid) or (m.entity_type == "g" and m.entity_id in group_ids))
    }


def can_project(inst: HarborInstance, who: Principal, project: Project, resource: str, action: str) -> bool:
    if who.sysadmin:
        return True
    if who.robot is not None and robot_allows(who.robot, resource, action, project.name):
        return True
    if project.public and (resource, action) in PUBLIC_READ:
        return True
    allowed = PROJECT_RBAC.get((resource, action), frozenset())
    return bool(project_roles(inst, who, project) & allowed)


def require_project(inst: HarborInstance, who: Principal, project: Project, resource: str, action: str) -> None:
    if can_project(inst, who, project, resource, action):
        return
    if not who.authenticated:
        raise HarborError(401, "UNAUTHORIZED")
    # Harbor hides private projects from people who may not even read them.
    if not can_project(inst, who, project, "project", "read"):
        raise HarborError(403, f"forbidden: {who.name} has no access to project {project.name}")
    raise HarborError(403, "forbidden")


def require_auth(who: Principal) -> None:
    if not who.authenticated:
        raise HarborError(401, "UNAUTHORIZED")


def require_sysadmin(who: Principal) -> None:
    require_auth(who)
    if not who.sysadmin:
        raise HarborError(403, "FORBIDDEN")


def require_system(who: Principal, resource: str, action: str) -> None:
    """Sysadmin, or a robot holding the system-level permission."""
    require_auth(who)
    if who.sysadmin:
        return
    if who.robot is not None and robot_allows(who.robot, resource, action, None):
        return
    raise HarborError(403, "FORBIDDEN")
