"""Pages of the unified event search: thin views over query/services (STYLE G6)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.timezone import now

from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER
from harborops.events import charts, services
from harborops.events.conditions import events_conditions
from harborops.events.export import FORMATS, export_response
from harborops.events.forms import EventFilterForm
from harborops.events.models import HarborEvent, IngestAnomaly
from harborops.events.query import EventFilter, activity, search
from harborops.fleet.models import Instance

PAGE_SIZE = 50
INSTANCES_PAGE = 50


def _filter(request: AuthenticatedHttpRequest, **fixed: str) -> tuple[EventFilterForm, EventFilter, Any]:
    data = request.GET.copy()
    for key, value in fixed.items():
        data[key] = value
    form = EventFilterForm(data)
    if form.is_valid():
        return form, form.to_filter(), form.cleaned_data.get("cursor")
    return form, EventFilter(instances=[-1]), None  # an invalid filter matches nothing, loudly (form errors)


def _query_without_cursor(request: AuthenticatedHttpRequest) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


def _context(request: AuthenticatedHttpRequest, **fixed: str) -> dict[str, Any]:
    form, f, cursor = _filter(request, **fixed)
    limit = (form.cleaned_data.get("limit") if form.is_valid() else None) or PAGE_SIZE
    page = search(f, cursor=cursor, limit=limit)
    return {"form": form, "page": page, "query": _query_without_cursor(request), "first_page": cursor is None,
            "instances": Instance.objects.order_by("name").only("pk", "name"),
            "selected": {str(i) for i in request.GET.getlist("instance")}}


@role_required(VIEWER)
def event_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One search over every instance's Harbor events and harborops' own action log."""
    context = _context(request)
    if request.htmx:
        return render(request, "events/htmx/event_results.html", context)
    return render(request, "events/event_list.html", context)


@role_required(VIEWER)
def event_activity(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The activity chart of a filter, loaded by the page after the rows (htmx): counting a month of
    a busy fleet takes longer than a keyset page, and the rows should not wait for it."""
    _, f, _ = _filter(request)
    return render(request, "events/htmx/activity_chart.html", {"chart": charts.activity_chart(activity(f))})


@role_required(VIEWER)
def event_export(request: AuthenticatedHttpRequest, fmt: str) -> HttpResponseBase:
    if fmt not in FORMATS:
        raise Http404("unknown export format")
    form, f, _ = _filter(request)
    if not form.is_valid():
        return HttpResponse(f"invalid filter: {form.errors.as_text()}", status=400, content_type="text/plain")
    return export_response(f, fmt)


@role_required(VIEWER)
def event_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(HarborEvent, pk=pk)
    raw_json = json.dumps(event.raw, indent=2, sort_keys=True, ensure_ascii=False)
    return render(request, "events/event_detail.html", {"event": event, "raw_json": raw_json})


@role_required(VIEWER)
def user_timeline(request: AuthenticatedHttpRequest, username: str) -> HttpResponse:
    context = _context(request, user=username)
    context.update(subject=username, kind="user")
    return render(request, "events/timeline.html", context)


@role_required(VIEWER)
def resource_timeline(request: AuthenticatedHttpRequest) -> HttpResponse:
    resource = request.GET.get("resource", "").strip()
    if not resource:
        return redirect("events:event_list")
    context = _context(request)
    context.update(subject=resource, kind="resource")
    return render(request, "events/timeline.html", context)


@role_required(VIEWER)
def instance_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Stored rows per instance, cursors, last outcome, syslog forwarding, recent anomalies; a page of
    INSTANCES_PAGE instances by name (``?q=`` narrows by name)."""
    q = request.GET.get("q", "").strip()
    instances = Instance.objects.order_by("name").defer("password")
    if q:
        instances = instances.filter(name__icontains=q)
    page = Paginator(instances, INSTANCES_PAGE).get_page(request.GET.get("page"))
    return render(request, "events/instance_list.html", {
        "figures": services.instance_figures(page.object_list), "page": page, "q": q,
        "query": urlencode({"q": q}) if q else "", "attention": list(events_conditions(now())),
        "anomalies": IngestAnomaly.objects.select_related("instance")[:20]})


@role_required(OPERATOR, methods=("POST",))
def instance_ingest(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(Instance, pk=pk)
    job = services.start_ingest(actor=Actor.from_request(request), instance=instance)
    messages.success(request, f"Ingest of {instance.name} started.")
    return redirect("core:job_detail", job.pk)


@role_required(OPERATOR, methods=("POST",))
def fleet_ingest(request: AuthenticatedHttpRequest) -> HttpResponse:
    job = services.start_ingest(actor=Actor.from_request(request))
    messages.success(request, "Ingest of every enabled instance started.")
    return redirect("core:job_detail", job.pk)


@role_required(OPERATOR, methods=("POST",))
def instance_backfill(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(Instance, pk=pk)
    job = services.start_backfill(instance, actor=Actor.from_request(request))
    messages.success(request, f"Backfill of {instance.name} started.")
    return redirect("core:job_detail", job.pk)


@role_required(ADMIN, methods=("POST",))
def purge(request: AuthenticatedHttpRequest) -> HttpResponse:
    job = services.start_purge(actor=Actor.from_request(request))
    messages.success(request, "Purge of events older than the retention started.")
    return redirect("core:job_detail", job.pk)
