from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER
from harborops.fleet import charts
from harborops.fleet.filtersets import InstanceFilterSet
from harborops.fleet.forms import InstanceForm
from harborops.fleet.models import HealthSnapshot, Instance, StatusChange
from harborops.fleet.services import inventory
from harborops.fleet.tasks import start_sweep

SORTS = {"name": "name", "status": "status", "version": "version", "latency": "latency_ms",
         "seen": "-last_seen_at"}


@role_required(VIEWER)
def instance_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The fleet overview; the rows refresh themselves (htmx) and filters are shared with the API."""
    filterset = InstanceFilterSet(request.GET or None, queryset=Instance.objects.select_related("ha_group"))
    instances = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    sort = request.GET.get("sort", "name")
    instances = instances.order_by(SORTS.get(sort, "name"), "name")
    everything = Instance.objects.values_list("status", "version")
    counts = Counter(status for status, _ in everything)
    versions = Counter((v.split("-")[0] or "unknown") for _, v in everything)
    query = request.GET.copy()
    context = {"instances": instances, "filter": filterset, "sort": sort, "query": query.urlencode(),
               "counts": [(s, counts.get(s, 0)) for s in Instance.Status.values],
               "versions": sorted(versions.items()), "total": sum(counts.values())}
    if request.htmx:
        return render(request, "fleet/htmx/instance_rows.html", context)
    return render(request, "fleet/instance_list.html", context)


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


@role_required(ADMIN, methods=("GET", "POST"))
def instance_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = InstanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = None
        if "test" in request.POST:
            check = inventory.check_connection(form.cleaned_data["url"], form.cleaned_data["username"],
                                               form.cleaned_data.get("password") or "", form.cleaned_data["ca_bundle"])
            return render(request, "fleet/instance_form.html", {"form": form, "check": check})
        instance = _save(request, form, None)
        if instance is not None:
            messages.success(request, f"Instance {instance.name} added; it is swept within a minute.")
            return redirect("fleet:instance_detail", instance.pk)
    return render(request, "fleet/instance_form.html", {"form": form})


@role_required(ADMIN, methods=("GET", "POST"))
def instance_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(Instance, pk=pk)
    form = InstanceForm(request.POST or None, instance=Instance.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        if "test" in request.POST:
            check = inventory.check_connection(form.cleaned_data["url"], form.cleaned_data["username"],
                                               form.cleaned_data.get("password") or instance.password,
                                               form.cleaned_data["ca_bundle"])
            return render(request, "fleet/instance_form.html", {"form": form, "check": check, "instance": instance})
        saved = _save(request, form, instance)
        if saved is not None:
            messages.success(request, f"Instance {saved.name} saved.")
            return redirect("fleet:instance_detail", saved.pk)
    return render(request, "fleet/instance_form.html", {"form": form, "instance": instance})


@role_required(ADMIN, methods=("POST",))
def instance_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    instance = get_object_or_404(Instance, pk=pk)
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
