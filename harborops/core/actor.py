"""Who acts: passed explicitly into every service that changes state (no contextvars)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.http import HttpRequest


@dataclass(frozen=True)
class Actor:
    user: User | None
    name: str
    request_id: str = ""
    source_ip: str | None = None

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = request.user if request.user.is_authenticated else None
        return cls(
            user=user,
            name=user.get_username() if user else "anonymous",
            request_id=getattr(request, "request_id", ""),
            source_ip=client_ip(request),
        )

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """A scheduled task or a management command acting without a person."""
        return cls(user=None, name=name)

    @classmethod
    def for_user(cls, user: User | None, *, via: str = "") -> Actor:
        if user is None:
            return cls.system(via or "system")
        return cls(user=user, name=user.get_username(), request_id=via)


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR is the proxy behind a reverse proxy; only trust X-Forwarded-For when the
    # deployment says a proxy is in front (HARBOROPS_BEHIND_HTTPS_PROXY sets USE_X_FORWARDED_HOST).
    from django.conf import settings

    if getattr(settings, "USE_X_FORWARDED_HOST", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None
