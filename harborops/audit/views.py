from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from harborops.audit.filtersets import ActionLogFilterSet
from harborops.audit.models import ActionLogEntry
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import VIEWER
from harborops.core.sorting import sort_queryset

ACTION_SORTS = {"when": "time", "who": "actor_name", "action": "action", "object": ("object_type", "object_repr")}


@role_required(VIEWER)
def actionlog_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    filterset = ActionLogFilterSet(request.GET or None, queryset=ActionLogEntry.objects.all())
    entries = filterset.qs if filterset.is_bound and filterset.is_valid() else ActionLogEntry.objects.all()
    entries, sorting = sort_queryset(request.GET, entries, ACTION_SORTS, "-when")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "query": query.urlencode(), "sorting": sorting,
               "object_types": ActionLogEntry.objects.values_list("object_type", flat=True).distinct()
               .order_by("object_type")}
    if request.htmx:
        return render(request, "audit/htmx/actionlog_rows.html", context)
    return render(request, "audit/actionlog_list.html", context)


@role_required(VIEWER)
def actionlog_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(ActionLogEntry, pk=pk)
    return render(request, "audit/actionlog_detail.html", {"entry": entry})
