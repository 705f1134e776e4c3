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
from harborops.harbor_sim.state import GROUP_LDAP, Project, Robot, User

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
    group_dns: list[str] = field(default_factory=list)
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
        groups = inst.ldap.groups_of(entry.dn)
        admin_dn = str(inst.config.get("ldap_group_admin_dn") or "").lower()
        return Principal(
            "user",
            user=user,
            group_dns=groups,
            admin_role_in_auth=bool(admin_dn) and admin_dn in {g.lower() for g in groups},
        )
    if user is None or user.password != secret:
        raise HarborError(401, "unauthorized")
    return Principal("user", user=user)


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
    """Project roles the principal holds directly or through its (LDAP) groups."""
    if who.user is None:
        return set()
    uid = who.user.user_id
    dns = {d.lower() for d in who.group_dns}
    group_ids = {
        g.id for g in inst.store.groups.values() if g.group_type == GROUP_LDAP and g.ldap_group_dn.lower() in dns
    }
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
