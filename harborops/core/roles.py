"""Dashboard roles: three global Django groups, each including the rights of the one before.

viewer   reads everything
operator + runs jobs, changes mappings
admin    + instances, credentials, settings, users
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group

VIEWER, OPERATOR, ADMIN = "viewer", "operator", "admin"
ROLES = (VIEWER, OPERATOR, ADMIN)
_RANK = {None: 0, VIEWER: 1, OPERATOR: 2, ADMIN: 3}

UserLike = AbstractBaseUser | AnonymousUser


def role_of(user: UserLike) -> str | None:
    """The highest role the user holds (cached on the user object for the request)."""
    if not user.is_authenticated:
        return None
    cached: str | None = getattr(user, "_harborops_role", "unset")
    if cached != "unset":
        return cached
    role: str | None
    if getattr(user, "is_superuser", False):
        role = ADMIN
    else:
        names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        role = next((r for r in reversed(ROLES) if r in names), None)
    setattr(user, "_harborops_role", role)  # noqa: B010  (a per-request cache on the user object)
    return role


def has_role(user: UserLike, needed: str) -> bool:
    return _RANK[role_of(user)] >= _RANK[needed]


def is_viewer(user: UserLike) -> bool:
    return has_role(user, VIEWER)


def is_operator(user: UserLike) -> bool:
    return has_role(user, OPERATOR)


def is_admin(user: UserLike) -> bool:
    return has_role(user, ADMIN)


def ensure_role_groups() -> None:
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def set_role(user: AbstractBaseUser, role: str | None) -> None:
    """Make ``role`` the user's only harborops role (other, non-role groups are kept)."""
    ensure_role_groups()
    groups = user.groups  # type: ignore[attr-defined]
    groups.remove(*Group.objects.filter(name__in=ROLES))
    if role:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        groups.add(Group.objects.get(name=role))
    if hasattr(user, "_harborops_role"):
        del user._harborops_role
