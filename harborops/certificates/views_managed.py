"""Managed instances (installed by harborops, reached over SSH): their certificate files, and the
rotation job (rotate to an issued certificate, or renew from the managed CA)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.timezone import now

from harborops.certificates.forms import RotateForm
from harborops.certificates.models import Deployment, DiskFile, Endpoint
from harborops.certificates.services import managed, rotation
from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, VIEWER
from harborops.fleet.models import Instance


@role_required(VIEWER)
def managed_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    targets = managed.managed_targets(listing=True)
    files: dict[int, list[DiskFile]] = {}
    for row in DiskFile.objects.filter(target__in=targets).order_by("kind", "path"):
        files.setdefault(row.target_id, []).append(row)
    endpoints = {e.instance_id: e for e in Endpoint.objects.exclude(instance=None).select_related("leaf")}
    rows = [(t, files.get(t.pk, []), endpoints.get(t.instance_id)) for t in targets]
    return render(request, "certificates/managed_list.html", {
        "rows": rows, "deployments": Deployment.objects.select_related("issued", "job")[:20], "at": now()})


def _instance(pk: int) -> Instance:
    return get_object_or_404(Instance, pk=pk)


@role_required(ADMIN, methods=("GET", "POST"))
def rotate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    instance = _instance(pk)
    form = RotateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            deployment = rotation.start_rotation(actor=Actor.from_request(request), instance=instance,
                                                 issued=form.cleaned_data["issued"])
        except ValidationError as exc:
            form.add_error(None, "; ".join(exc.messages))
        else:
            messages.success(request, f"Rotation of {instance.name} started.")
            return redirect("certificates:deployment_detail", deployment.pk)
    return render(request, "certificates/rotate_form.html", {
        "form": form, "instance": instance, "members": managed.members(instance),
        "current": rotation.current_issued(instance)})


@role_required(ADMIN, methods=("POST",))
def renew(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    instance = _instance(pk)
    try:
        deployment = rotation.renew(actor=Actor.from_request(request), instance=instance)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("certificates:managed_list")
    messages.success(request, f"Renewed from {deployment.issued.ca.name}; rotation of {instance.name} started.")
    return redirect("certificates:deployment_detail", deployment.pk)


@role_required(VIEWER)
def deployment_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    deployment = get_object_or_404(Deployment.objects.select_related("issued__ca", "renewal_of", "job", "instance"),
                                   pk=pk)
    return render(request, "certificates/deployment_detail.html", {"deployment": deployment})
