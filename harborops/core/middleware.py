from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from harborops.core import metrics

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _from_loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


class LoopbackHealthProbeMiddleware:
    """Answer ``GET /healthz`` from a loopback address before host validation and the HTTPS redirect.

    A container's own health check (docker-compose.yml) asks ``http://127.0.0.1:8000/healthz`` from inside
    the container: with production settings its ``Host: 127.0.0.1`` is not in ``ALLOWED_HOSTS`` (400) and
    plain HTTP is redirected to HTTPS (301), so the service would never turn healthy. Everything else,
    including /healthz asked through the proxy, takes the normal path.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz" and request.method == "GET" and _from_loopback(request):
            from harborops.core.views.ops import healthz

            return healthz(request)
        return self.get_response(request)


class RequestIdMiddleware:
    """Give every request an id (from X-Request-Id when a proxy set a sane one) and echo it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request.request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id  # type: ignore[attr-defined]
        return response


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unresolved"
        metrics.observe_request(view, request.method or "", response.status_code, time.perf_counter() - started)
        return response
