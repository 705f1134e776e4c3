from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthenticatedHttpRequest(HttpRequest):
    """What a view behind ``role_required`` receives (for type checkers)."""

    user: User
    htmx: HtmxDetails
    request_id: str
