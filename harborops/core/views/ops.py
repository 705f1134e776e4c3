"""Operational endpoints without a login: /healthz for load balancers, /metrics for Prometheus (a bearer
token when HARBOROPS_METRICS_TOKEN is set)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from harborops.core import metrics


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except Exception as exc:
        return type(exc).__name__


def _check_broker() -> str | None:
    from harborops.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return None
    except Exception as exc:
        return type(exc).__name__


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    db_error, broker_error = _check_database(), _check_broker()
    ok = db_error is None and broker_error is None
    body = {
        "status": "ok" if ok else "error",
        "database": {"ok": db_error is None, "vendor": connection.vendor, "error": db_error},
        "broker": {"ok": broker_error is None, "transport": settings.CELERY_BROKER_URL.split("://")[0],
                   "error": broker_error},
    }
    return JsonResponse(body, status=200 if ok else 503)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:  # HARBOROPS_METRICS_TOKEN set: Prometheus sends it as `authorization: {credentials: ...}`
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            response = HttpResponse("a bearer token is required\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="harborops metrics"'
            return response
    return HttpResponse(metrics.render_latest(), content_type=CONTENT_TYPE_LATEST)
