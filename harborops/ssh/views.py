from __future__ import annotations

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from harborops.core import deletion
from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.models import JobRun
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER
from harborops.core.sorting import sort_queryset
from harborops.ssh import services
from harborops.ssh.forms import AcceptKeyForm, HostForm
from harborops.ssh.models import SSHHost
from harborops.ssh.tasks import start_check

HOST_SORTS = {"name": "name", "address": ("address", "port"), "user": "username", "role": "role"}


@role_required(VIEWER)
def host_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    hosts, sorting = sort_queryset(request.GET, SSHHost.objects.all(), HOST_SORTS, "name")
    return render(request, "ssh/host_list.html", {"hosts": hosts, "sorting": sorting})


@role_required(VIEWER)
def host_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    host = get_object_or_404(SSHHost, pk=pk)
    jobs = JobRun.objects.filter(target_type=ContentType.objects.get_for_model(SSHHost), target_id=str(pk))[:10]
    return render(request, "ssh/host_detail.html", {"host": host, "jobs": jobs})


def _save(request: AuthenticatedHttpRequest, form: HostForm, host: SSHHost | None) -> SSHHost | None:
    try:
        if host is None:
            return services.create_host(actor=Actor.from_request(request), **form.service_fields())
        return services.update_host(host, actor=Actor.from_request(request), **form.service_fields())
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None


@role_required(ADMIN, methods=("GET", "POST"))
def host_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = HostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        host = _save(request, form, None)
        if host is not None:
            scan = services.scan_host_key(host, actor=Actor.from_request(request))
            messages.info(request, f"Host {host.name} added. {scan.message}.")
            return redirect("ssh:host_detail", host.pk)
    return render(request, "ssh/host_form.html", {"form": form})


@role_required(ADMIN, methods=("GET", "POST"))
def host_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    host = get_object_or_404(SSHHost, pk=pk)
    form = HostForm(request.POST or None, instance=SSHHost.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, host)
        if saved is not None:
            messages.success(request, f"Host {saved.name} saved.")
            return redirect("ssh:host_detail", saved.pk)
    return render(request, "ssh/host_form.html", {"form": form, "host": host})


@role_required(ADMIN, methods=("GET", "POST"))
def host_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    host = get_object_or_404(SSHHost, pk=pk)
    if request.method == "GET":
        return deletion.confirmation(request, host, label=f"SSH host {host.name}",
                                     cancel_url=reverse("ssh:host_detail", args=[host.pk]),
                                     note="Nothing on the host itself changes.")
    try:
        services.delete_host(host, actor=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("ssh:host_detail", host.pk)
    messages.success(request, f"Host {host.name} removed.")
    return redirect("ssh:host_list")


@role_required(ADMIN, methods=("POST",))
def host_scan_key(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    host = get_object_or_404(SSHHost, pk=pk)
    scan = services.scan_host_key(host, actor=Actor.from_request(request))
    (messages.success if scan.state == "accepted" else messages.warning)(request, scan.message)
    return redirect("ssh:host_detail", host.pk)


@role_required(ADMIN, methods=("POST",))
def host_accept_key(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    host = get_object_or_404(SSHHost, pk=pk)
    form = AcceptKeyForm(request.POST)
    if form.is_valid():
        try:
            services.accept_host_key(host, actor=Actor.from_request(request),
                                     fingerprint=form.cleaned_data["fingerprint"])
            messages.success(request, f"Host key {host.host_key_fingerprint} accepted for {host.name}.")
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    else:
        messages.error(request, "no fingerprint given")
    return redirect("ssh:host_detail", host.pk)


@role_required(OPERATOR, methods=("POST",))
def host_check(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = start_check(actor=Actor.from_request(request), host=get_object_or_404(SSHHost, pk=pk))
    return redirect("core:job_detail", job.pk)
