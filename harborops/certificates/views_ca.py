"""Pages of the managed CAs and the certificates they issue."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from harborops.certificates.forms import CAForm, CAImportForm, IssueForm
from harborops.certificates.models import IssuedCertificate, ManagedCA
from harborops.certificates.services import ca as services
from harborops.core import deletion
from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, VIEWER


def _errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _pem(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


@role_required(VIEWER)
def ca_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "certificates/ca_list.html", {
        "cas": ManagedCA.objects.defer("private_key"),
        "issued": IssuedCertificate.objects.select_related("ca").defer("private_key", "ca__private_key")[:50]})


@role_required(ADMIN, methods=("GET", "POST"))
def ca_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CAForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ca = services.create_ca(actor=Actor.from_request(request), **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"CA {ca.name} created; its key is encrypted and will not be shown.")
            return redirect("certificates:ca_detail", ca.pk)
    return render(request, "certificates/ca_form.html", {"form": form, "title": "Create a CA"})


@role_required(ADMIN, methods=("GET", "POST"))
def ca_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = CAImportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ca = services.import_ca(actor=Actor.from_request(request), **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"CA {ca.name} imported ({ca.get_origin_display()}).")
            return redirect("certificates:ca_detail", ca.pk)
    return render(request, "certificates/ca_form.html", {"form": form, "title": "Import a CA"})


@role_required(VIEWER)
def ca_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ca = get_object_or_404(ManagedCA, pk=pk)
    return render(request, "certificates/ca_detail.html", {
        "ca": ca, "form": IssueForm(), "issued": ca.issued.defer("private_key")})


@role_required(ADMIN, methods=("POST",))
def ca_issue(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ca = get_object_or_404(ManagedCA, pk=pk)
    form = IssueForm(request.POST)
    if form.is_valid():
        try:
            issued = services.issue_certificate(ca, actor=Actor.from_request(request), **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Certificate for {issued.hostname} issued.")
            return redirect("certificates:issued_detail", issued.pk)
    context: dict[str, Any] = {"ca": ca, "form": form, "issued": ca.issued.defer("private_key")}
    return render(request, "certificates/ca_detail.html", context, status=400)


@role_required(ADMIN, methods=("GET", "POST"))
def ca_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ca = get_object_or_404(ManagedCA.objects.defer("private_key"), pk=pk)
    if request.method == "GET":
        return deletion.confirmation(request, ca, label=f"CA {ca.name}",
                                     cancel_url=reverse("certificates:ca_detail", args=[ca.pk]),
                                     note="Its private key is deleted with it: export it first if you may need it. "
                                          "Hosts that trust the CA keep their ca.crt.")
    try:
        services.delete_ca(ca, actor=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("certificates:ca_detail", ca.pk)
    messages.success(request, f"CA {ca.name} removed.")
    return redirect("certificates:ca_list")


@role_required(VIEWER)
def ca_download(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ca = get_object_or_404(ManagedCA.objects.defer("private_key"), pk=pk)
    return _pem(ca.certificate, f"{_safe(ca.name)}-ca.crt")


@role_required(ADMIN, methods=("POST",))
def ca_export_key(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    ca = get_object_or_404(ManagedCA, pk=pk)
    try:
        key = services.export_ca_key(ca, actor=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("certificates:ca_detail", ca.pk)
    return _pem(key, f"{_safe(ca.name)}-ca.key")


@role_required(VIEWER)
def issued_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return render(request, "certificates/issued_detail.html", {"issued": _issued(pk)})


def _issued(pk: int) -> IssuedCertificate:
    return get_object_or_404(IssuedCertificate.objects.select_related("ca").defer("private_key", "ca__private_key"),
                             pk=pk)


@role_required(VIEWER)
def issued_cert(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    issued = _issued(pk)
    return _pem(issued.certificate, f"{_safe(issued.hostname)}.crt")


@role_required(VIEWER)
def issued_chain(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The server certificate followed by the CA: what Harbor's ``https.certificate`` should hold."""
    issued = _issued(pk)
    return _pem(issued.chain_pem(), f"{_safe(issued.hostname)}-chain.crt")


@role_required(ADMIN, methods=("POST",))
def issued_bundle(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    issued = get_object_or_404(IssuedCertificate.objects.select_related("ca"), pk=pk)
    return _pem(services.export_issued_key(issued, actor=Actor.from_request(request)),
                f"{_safe(issued.hostname)}-key-and-chain.pem")
