"""Authorization for pages: a decorator for role checks and a helper per object type (STYLE G16).

Anonymous users are sent to the login page; a logged-in user without the needed role gets 403.
Methods a view does not accept answer 405 before any of that (declared with ``methods=``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404

from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.models import JobRun
from harborops.core.roles import OPERATOR, VIEWER, has_role, is_operator

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponse)


def role_required(role: str, *, methods: tuple[str, ...] = ("GET",)) -> Callable[[Any], Any]:
    """Allow ``methods`` (405 otherwise), require login (redirect) and ``role`` (403)."""
    allowed = tuple(m.upper() for m in methods)
    if "GET" in allowed and "HEAD" not in allowed:
        allowed = (*allowed, "HEAD")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                raise PermissionDenied("your account has no harborops role that allows this")
            return view(request, *args, **kwargs)

        wrapper.required_role = role  # type: ignore[attr-defined]
        wrapper.allowed_methods = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorator


def get_job_for_user(request: AuthenticatedHttpRequest, pk: int, *, write: bool = False) -> JobRun:
    """Jobs are visible to every viewer; cancelling one needs an operator (roles are global)."""
    if not has_role(request.user, VIEWER):
        raise PermissionDenied
    job = get_object_or_404(JobRun, pk=pk)
    if write and not is_operator(request.user):
        raise PermissionDenied
    return job


__all__ = ("OPERATOR", "VIEWER", "get_job_for_user", "role_required")
