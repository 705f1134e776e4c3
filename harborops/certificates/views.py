from __future__ import annotations

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.timezone import now

from harborops.certificates import charts
from harborops.certificates.conditions import attention
from harborops.certificates.filtersets import ExpiryFilterSet
from harborops.certificates.forms import EndpointForm
from harborops.certificates.models import BAND_LABELS, ChainEntry, Deployment, DiskFile, Endpoint, Rotation, band_of
from harborops.certificates.services import endpoints as endpoint_services
from harborops.certificates.services import managed
from harborops.certificates.tasks import start_scan
from harborops.core import deletion
from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.models import JobRun
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER
from harborops.core.sorting import sort_queryset

# An endpoint's instance in a list: never its password (decrypted for each row loaded) nor large columns.
INSTANCE_DEFERRED = ("instance__password", "instance__ca_bundle", "instance__notes", "instance__statistics")
ATTENTION_SHOWN = 50  # most severe first; all of them: /api/certificates/attention/ and the alerts
EXPIRY_PAGE = 50  # certificate rows per page; the bands, the timeline and the attention list count every match
EXPIRY_SORTS = {"expires": ("certificate__not_after", "endpoint__label", "position"),
                "certificate": ("certificate__common_name", "certificate__not_after"),
                "issuer": ("certificate__issuer", "certificate__not_after"),
                "endpoint": ("endpoint__label", "endpoint__host", "endpoint__port", "position")}


@role_required(VIEWER)
def expiry_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every certificate an endpoint presents, soonest expiry first (or sorted), page by page, with bands,
    filters and a timeline over every certificate the filters keep."""
    base = ChainEntry.objects.select_related("certificate", "endpoint").filter(endpoint__enabled=True)
    filterset = ExpiryFilterSet(request.GET or None, queryset=base)
    filtered = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    matches = list(filtered.values_list("certificate__not_after", "endpoint_id"))  # two columns of each match
    at = now()
    bands = {name: 0 for name in BAND_LABELS}
    for not_after, _endpoint in matches:
        bands[band_of(not_after, at)] += 1
    rows, sorting = sort_queryset(request.GET, filtered, EXPIRY_SORTS, "expires")
    page = Paginator(rows, EXPIRY_PAGE).get_page(request.GET.get("page"))
    without_page = request.GET.copy()
    without_page.pop("page", None)
    context = {"entries": page.object_list, "page": page, "sorting": sorting, "filter": filterset,
               "query_without_page": without_page.urlencode(),
               "bands": [(name, BAND_LABELS[name], n) for name, n in bands.items()],
               "chart": charts.expiry_timeline([not_after for not_after, _endpoint in matches], at),
               "endpoint_count": Endpoint.objects.filter(enabled=True).count(),
               "last_scan": Endpoint.objects.exclude(last_scan_at=None).order_by("-last_scan_at")
               .values_list("last_scan_at", flat=True).first()}
    if request.htmx:
        return render(request, "certificates/htmx/expiry_rows.html", context)
    found = attention(at)
    if filterset.is_bound and filterset.is_valid():
        # Filtered: only what concerns the endpoints the filter kept.
        shown = {f"endpoint:{endpoint}" for _not_after, endpoint in matches}
        found = [o for o in found if ":".join(o.subject.split(":")[:2]) in shown]
    context["attention"], context["attention_total"] = found[:ATTENTION_SHOWN], len(found)
    return render(request, "certificates/expiry_list.html", context)


@role_required(VIEWER)
def endpoint_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    endpoints = (Endpoint.objects.select_related("leaf", "instance").defer(*INSTANCE_DEFERRED)
                 .annotate(chain_length=Count("chain_entries")).order_by("label", "host", "port"))
    return render(request, "certificates/endpoint_list.html", {"endpoints": endpoints})


@role_required(VIEWER)
def endpoint_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint.objects.select_related("leaf", "instance"), pk=pk)
    chain = [e.certificate for e in ChainEntry.objects.filter(endpoint=endpoint).select_related("certificate")]
    jobs = JobRun.objects.filter(target_type=ContentType.objects.get_for_model(Endpoint), target_id=str(pk))[:10]
    targets = managed.members(endpoint.instance) if endpoint.instance is not None else []
    targets = [t for t in targets if t.instance_id == endpoint.instance_id]
    return render(request, "certificates/endpoint_detail.html", {
        "endpoint": endpoint, "chain": chain, "jobs": jobs, "managed_targets": targets,
        "files": list(DiskFile.objects.filter(target__in=targets).order_by("kind", "path")),
        "deployments": Deployment.objects.filter(instance=endpoint.instance)[:10] if endpoint.instance else [],
        "rotations": Rotation.objects.filter(endpoint=endpoint).select_related("old", "new")[:50]})


def _save(request: AuthenticatedHttpRequest, form: EndpointForm, endpoint: Endpoint | None) -> Endpoint | None:
    try:
        if endpoint is None:
            return endpoint_services.create_endpoint(actor=Actor.from_request(request), **form.service_fields())
        return endpoint_services.update_endpoint(endpoint, actor=Actor.from_request(request), **form.service_fields())
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None


@role_required(ADMIN, methods=("GET", "POST"))
def endpoint_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None, initial={"port": 443, "enabled": True})
    if request.method == "POST" and form.is_valid():
        endpoint = _save(request, form, None)
        if endpoint is not None:
            messages.success(request, f"Endpoint {endpoint} added; it is scanned with the next scan.")
            return redirect("certificates:endpoint_detail", endpoint.pk)
    return render(request, "certificates/endpoint_form.html", {"form": form})


@role_required(ADMIN, methods=("GET", "POST"))
def endpoint_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    form = EndpointForm(request.POST or None, instance=Endpoint.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, endpoint)
        if saved is not None:
            messages.success(request, f"Endpoint {saved} saved.")
            return redirect("certificates:endpoint_detail", saved.pk)
    return render(request, "certificates/endpoint_form.html", {"form": form, "endpoint": endpoint})


@role_required(ADMIN, methods=("GET", "POST"))
def endpoint_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    if request.method == "GET":
        return deletion.confirmation(request, endpoint, label=f"TLS endpoint {endpoint}",
                                     cancel_url=reverse("certificates:endpoint_detail", args=[endpoint.pk]),
                                     note="The server itself is not touched.")
    try:
        endpoint_services.delete_endpoint(endpoint, actor=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("certificates:endpoint_detail", endpoint.pk)
    messages.success(request, f"Endpoint {endpoint} removed.")
    return redirect("certificates:endpoint_list")


@role_required(OPERATOR, methods=("POST",))
def endpoint_scan(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = start_scan(actor=Actor.from_request(request), endpoint=get_object_or_404(Endpoint, pk=pk))
    return redirect("core:job_detail", job.pk)


@role_required(OPERATOR, methods=("POST",))
def scan_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    job = start_scan(actor=Actor.from_request(request))
    return redirect("core:job_detail", job.pk)
