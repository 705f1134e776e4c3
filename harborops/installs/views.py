from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.models import JobLogLine
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER
from harborops.core.sorting import sort_queryset
from harborops.installs import installers, services
from harborops.installs.forms import InstallerURLForm, InstallForm, StartForm
from harborops.installs.models import Install, Installer

INSTALL_SORTS = {"name": "name", "installer": "installer__version", "status": "status", "created": "created_at"}


@role_required(VIEWER)
def install_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    installs, sorting = sort_queryset(
        request.GET, Install.objects.select_related("installer", "last_job").prefetch_related("targets__host"),
        INSTALL_SORTS, "-created")
    return render(request, "installs/install_list.html", {
        "installs": installs, "sorting": sorting,
        "installers": Installer.objects.all()[:20], "url_form": InstallerURLForm()})


@csrf_exempt
@role_required(ADMIN, methods=("POST",))
def installer_upload(request: HttpRequest) -> HttpResponse:
    """Stream the installer to disk in chunks while hashing it (no 600 MB body in memory). The
    handler must be set before anything reads the body, hence csrf_exempt here and csrf_protect
    on the inner view, as Django's docs describe."""
    request.upload_handlers = [installers.InstallerUploadHandler(request)]
    return _installer_upload(request)


@csrf_protect
def _installer_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get(installers.UPLOAD_FIELD)
    if not isinstance(upload, installers.StoredUpload):
        messages.error(request, "choose an installer file")
        return redirect("installs:install_list")
    try:
        installer = installers.save_upload(upload, actor=Actor.from_request(request),
                                           checksum=request.POST.get("checksum", ""))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("installs:install_list")
    messages.success(request, f"{installer.filename} stored ({installer.size} bytes, sha256 {installer.sha256}).")
    return redirect("installs:install_list")


@role_required(ADMIN, methods=("POST",))
def installer_add_url(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = InstallerURLForm(request.POST)
    if form.is_valid():
        try:
            installer = installers.add_url(actor=Actor.from_request(request), **form.cleaned_data)
            messages.success(request, f"{installer.filename} will be fetched by the host.")
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()))
    return redirect("installs:install_list")


@role_required(ADMIN, methods=("GET", "POST"))
def install_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = InstallForm(request.POST or None, initial={"installer": request.GET.get("installer")})
    if request.method == "POST" and form.is_valid():
        try:
            install = services.create_install(actor=Actor.from_request(request), **form.service_fields())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if "start" in request.POST:
                services.start_install(install, actor=Actor.from_request(request))
            return redirect("installs:install_detail", install.pk)
    return render(request, "installs/install_form.html", {"form": form})


def _detail_context(install: Install) -> dict[str, object]:
    targets = list(install.targets.select_related("host", "instance"))
    job = install.last_job
    lines = list(JobLogLine.objects.filter(job=job).order_by("seq")[:500]) if job else []
    return {"install": install, "targets": targets, "job": job, "lines": lines,
            "last_seq": lines[-1].seq if lines else 0, "start_form": StartForm(),
            "job_running": bool(job and not job.is_finished),
            "failed": any(t.failed_step for t in targets)}


@role_required(VIEWER)
def install_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    install = get_object_or_404(Install.objects.select_related("installer", "last_job"), pk=pk)
    return render(request, "installs/install_detail.html", _detail_context(install))


@role_required(VIEWER)
def install_steps(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The htmx poll of the per-host step table (stops once the job has ended)."""
    install = get_object_or_404(Install.objects.select_related("installer", "last_job"), pk=pk)
    return render(request, "installs/htmx/install_steps.html", _detail_context(install))


@role_required(OPERATOR, methods=("POST",))
def install_start(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    install = get_object_or_404(Install, pk=pk)
    form = StartForm(request.POST)
    from_step = form.cleaned_data["from_step"] if form.is_valid() else ""
    try:
        services.start_install(install, actor=Actor.from_request(request), from_step=from_step)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("installs:install_detail", install.pk)


@role_required(ADMIN, methods=("POST",))
def install_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    install = get_object_or_404(Install, pk=pk)
    try:
        services.delete_install(install, actor=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("installs:install_detail", install.pk)
    messages.success(request, f"Install {install.name} deleted (the installed Harbor is not touched).")
    return redirect("installs:install_list")
