"""The trust matrix: pulling hosts × registries, refreshed by a scheduled check; one click re-pushes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from harborops.certificates.forms import PullingHostForm
from harborops.certificates.models import PullingHost, TrustState
from harborops.certificates.services import trust
from harborops.certificates.tasks import start_trust_check, start_trust_push
from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER


@role_required(VIEWER)
def trust_matrix(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "certificates/trust_matrix.html", {
        "matrix": trust.matrix(), "form": PullingHostForm(), "states": TrustState.State.choices})


@role_required(ADMIN, methods=("POST",))
def pulling_host_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PullingHostForm(request.POST)
    if form.is_valid():
        try:
            pulling = trust.create_pulling_host(actor=Actor.from_request(request), **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, f"{pulling} added to the trust matrix.")
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()))
    return redirect("certificates:trust_matrix")


@role_required(ADMIN, methods=("POST",))
def pulling_host_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    pulling = get_object_or_404(PullingHost.objects.select_related("host"), pk=pk)
    trust.delete_pulling_host(pulling, actor=Actor.from_request(request))
    messages.success(request, f"{pulling} removed from the trust matrix (files on the host stay).")
    return redirect("certificates:trust_matrix")


def _ids(request: AuthenticatedHttpRequest, name: str) -> list[int]:
    return [int(v) for v in request.POST.getlist(name) if v.isdigit()]


@role_required(OPERATOR, methods=("POST",))
def trust_push(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Push the chosen registries' CAs to the chosen hosts (one cell, a row, or everything)."""
    hosts = _ids(request, "pulling_host") or list(PullingHost.objects.values_list("pk", flat=True))
    endpoints = _ids(request, "endpoint") or [e.pk for e in trust.trust_endpoints()]
    if not hosts or not endpoints:
        messages.error(request, "Nothing to push: add a pulling host and choose a trust CA on a registry endpoint.")
        return redirect("certificates:trust_matrix")
    job = start_trust_push(actor=Actor.from_request(request), pulling_ids=hosts, endpoint_ids=endpoints)
    return redirect("core:job_detail", job.pk)


@role_required(OPERATOR, methods=("POST",))
def trust_check(request: AuthenticatedHttpRequest) -> HttpResponse:
    job = start_trust_check(actor=Actor.from_request(request))
    return redirect("core:job_detail", job.pk)
