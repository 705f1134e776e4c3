from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from harborops.core import deletion
from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER
from harborops.core.sorting import sort_queryset
from harborops.fleet import charts
from harborops.fleet.filtersets import InstanceFilterSet
from harborops.fleet.forms import ConnectionTestForm, HAGroupForm, ImportForm, InstanceForm
from harborops.fleet.models import HAGroup, HealthSnapshot, Instance, StatusChange
from harborops.fleet.services import ha_groups, importer, inventory, sweep_runs
from harborops.fleet.tasks import start_sweep

PAGE_SIZE = 100  # rows per overview page: rendering is ~0.7 ms a row (docs/benchmarks.md, "Fleet overview")
# Never shown on the overview; the password would otherwise be decrypted for every row.
LIST_DEFERRED = ("password", "ca_bundle", "notes", "statistics")
SORTS = {"name": "name", "status": "status", "version": "version",
         "latency": "latency_ms", "seen": "last_seen_at"}


@role_required(VIEWER)
def instance_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The fleet overview; the rows refresh themselves (htmx) and filters are shared with the API."""
    filterset = InstanceFilterSet(request.GET or None, queryset=Instance.objects.defer(*LIST_DEFERRED))
    instances = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    instances, sorting = sort_queryset(request.GET, instances, SORTS, "name")
    page = Paginator(instances, PAGE_SIZE).get_page(request.GET.get("page"))
    without_page = request.GET.copy()
    without_page.pop("page", None)
    counts = dict(Instance.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    context = {"instances": page.object_list, "page": page, "filter": filterset, "sorting": sorting,
               "query": request.GET.urlencode(), "query_without_page": without_page.urlencode(),
               "counts": [(s, counts.get(s, 0)) for s in Instance.Status.values],
               "versions": charts.version_bars(Instance.objects.values_list("version").annotate(n=Count("pk"))
                                               .values_list("version", "n")),
               "total": sum(counts.values())}
    if request.htmx:
        return render(request, "fleet/htmx/instance_rows.html", context)
    return render(request, "fleet/instance_list.html", {**context, **_sweep_context()})


def _sweep_context() -> dict[str, object]:
    fresh = sweep_runs.freshness()
    chunks = list(fresh.last.chunks.order_by("index")) if fresh.last is not None else []
    return {"fresh": fresh, "chunks": chunks, "stale_intervals": sweep_runs.STALE_INTERVALS}


@role_required(VIEWER)
def sweep_status(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The fleet page's sweep summary (htmx refresh): age of the last complete sweep, stale flag."""
    return render(request, "fleet/htmx/sweep_status.html", _sweep_context())


@role_required(VIEWER)
def instance_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(Instance.objects.select_related("ha_group"), pk=pk)
    snapshots = list(HealthSnapshot.objects.filter(instance=instance).order_by("-taken_at")[:288])
    peers = (Instance.objects.filter(ha_group=instance.ha_group).exclude(pk=pk) if instance.ha_group_id
             else Instance.objects.none())
    return render(request, "fleet/instance_detail.html", {
        "instance": instance, "chart": charts.timeline(snapshots), "latest": snapshots[0] if snapshots else None,
        "changes": StatusChange.objects.filter(instance=instance).order_by("-at")[:20], "peers": peers})


def _save(request: AuthenticatedHttpRequest, form: InstanceForm, instance: Instance | None) -> Instance | None:
    try:
        if instance is None:
            return inventory.create_instance(actor=Actor.from_request(request), **form.service_fields())
        return inventory.update_instance(instance, actor=Actor.from_request(request), **form.service_fields())
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None


def _instance_form(request: AuthenticatedHttpRequest, instance: Instance | None) -> HttpResponse:
    """Saving tests the connection first; when it fails, the form comes back with what is wrong
    and a "Save anyway" button (an instance may be registered before it is reachable)."""
    form = InstanceForm(request.POST or None, instance=Instance.objects.get(pk=instance.pk) if instance else None)
    check = None
    if request.method == "POST" and form.is_valid():
        check = None if "save_anyway" in request.POST else form.connection_check(instance.password if instance else "")
        if check is None or check.ok:
            saved = _save(request, form, instance)
            if saved is not None:
                messages.success(request, f"Instance {saved.name} {'saved' if instance else 'added'}."
                                 + ("" if check else " (saved without a working connection)"))
                return redirect("fleet:instance_detail", saved.pk)
        else:
            form.seal_password()
    return render(request, "fleet/instance_form.html", {"form": form, "instance": instance, "check": check})


@role_required(ADMIN, methods=("GET", "POST"))
def instance_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _instance_form(request, None)


@role_required(ADMIN, methods=("GET", "POST"))
def instance_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _instance_form(request, get_object_or_404(Instance, pk=pk))


@role_required(ADMIN, methods=("GET", "POST"))
def instance_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(Instance, pk=pk)
    if request.method == "GET":
        return deletion.confirmation(request, instance, label=f"instance {instance.name}",
                                     cancel_url=reverse("fleet:instance_detail", args=[instance.pk]),
                                     note="Nothing on the Harbor itself changes.")
    inventory.delete_instance(instance, actor=Actor.from_request(request))
    messages.success(request, f"Instance {instance.name} removed from the fleet.")
    return redirect("fleet:instance_list")


@role_required(OPERATOR, methods=("POST",))
def instance_sweep(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = start_sweep(actor=Actor.from_request(request), instance=get_object_or_404(Instance, pk=pk))
    return redirect("core:job_detail", job.pk)


@role_required(OPERATOR, methods=("POST",))
def fleet_sweep(request: AuthenticatedHttpRequest) -> HttpResponse:
    job = start_sweep(actor=Actor.from_request(request))
    return redirect("core:job_detail", job.pk)


@role_required(ADMIN, methods=("POST",))
def connection_test(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    """The form's "Test connection" (htmx): says exactly what is wrong. With ``trusted_pem`` (the
    "Trust this CA" button) the proposed CA goes into the form's CA field (out-of-band swap) and is
    tested at once; it is stored only when the operator saves the form."""
    stored = get_object_or_404(Instance, pk=pk) if pk is not None else None
    form = ConnectionTestForm(request.POST)
    if not form.is_valid():
        return render(request, "fleet/htmx/connection_check.html", {"form_errors": form.errors})
    data = form.cleaned_data
    ca = data["trusted_pem"] or data["ca_bundle"]
    password = data["password"] or (stored.password if stored else "")
    check = inventory.check_connection(data["url"], data["username"], password, ca)
    return render(request, "fleet/htmx/connection_check.html",
                  {"check": check, "new_ca": data["trusted_pem"] if check.ok else ""})


@role_required(VIEWER)
def hagroup_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    groups = HAGroup.objects.prefetch_related("instances").order_by("name")
    return render(request, "fleet/hagroup_list.html", {"groups": groups})


def _hagroup_form(request: AuthenticatedHttpRequest, group: HAGroup | None) -> HttpResponse:
    form = HAGroupForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        fields = {k: form.cleaned_data[k] for k in HAGroupForm.Meta.fields}
        actor = Actor.from_request(request)
        try:
            if group is None:
                group = ha_groups.create_group(actor=actor, members=form.cleaned_data["members"], **fields)
            else:
                group = ha_groups.update_group(HAGroup.objects.get(pk=group.pk), actor=actor,
                                               members=form.cleaned_data["members"], **fields)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"HA group {group.name} saved.")
            return redirect("fleet:hagroup_list")
    return render(request, "fleet/hagroup_form.html", {"form": form, "group": group})


@role_required(ADMIN, methods=("GET", "POST"))
def hagroup_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _hagroup_form(request, None)


@role_required(ADMIN, methods=("GET", "POST"))
def hagroup_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _hagroup_form(request, get_object_or_404(HAGroup, pk=pk))


@role_required(ADMIN, methods=("GET", "POST"))
def hagroup_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(HAGroup, pk=pk)
    if request.method == "GET":
        return deletion.confirmation(request, group, label=f"HA group {group.name}",
                                     cancel_url=reverse("fleet:hagroup_list"),
                                     note="Its instances stay in the fleet, outside any group.")
    ha_groups.delete_group(group, actor=Actor.from_request(request))
    messages.success(request, f"HA group {group.name} removed; its instances stay in the fleet.")
    return redirect("fleet:hagroup_list")


@role_required(ADMIN, methods=("GET", "POST"))
def instance_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    result, parse_error = None, ""
    if request.method == "POST" and form.is_valid():
        try:
            rows = importer.parse(form.cleaned_data["content"], form.cleaned_data["format"])
        except ValueError as exc:
            parse_error = str(exc)
        else:
            result = importer.import_instances(rows, actor=Actor.from_request(request),
                                               dry_run=form.cleaned_data["dry_run"])
            if result.applied:
                messages.success(request, f"Imported: {len(result.created)} added, {len(result.updated)} updated, "
                                          f"{len(result.unchanged)} unchanged.")
                return redirect("fleet:instance_list")
            if not result.errors:
                form = form.sealed_after_check()
    return render(request, "fleet/instance_import.html", {"form": form, "result": result, "parse_error": parse_error})
