from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from harborops.core.roles import OPERATOR, VIEWER, has_role


class RolePermission(permissions.BasePermission):
    """The page rules for the API: reading needs ``read_role`` (viewer), anything else
    ``write_role`` (operator unless the view says admin). Views set these as attributes."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return has_role(request.user, getattr(view, "read_role", VIEWER))
        return has_role(request.user, getattr(view, "write_role", OPERATOR))
