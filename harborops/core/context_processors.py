from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from harborops.core.roles import is_admin, is_operator, is_viewer, role_of


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"role": None, "can_view": False, "can_operate": False, "can_admin": False}
    return {"role": role_of(user), "can_view": is_viewer(user), "can_operate": is_operator(user),
            "can_admin": is_admin(user)}
