from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.timezone import localdate

from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.models import JobRun
from harborops.core.permissions import get_job_for_user, role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER
from harborops.fleet.models import Instance
from harborops.maintenance.charts import freed_steps, freed_trend
from harborops.maintenance.forms import OfflineTargetForm, PolicyForm
from harborops.maintenance.models import GCPolicy, GCStep, OfflineTarget
from harborops.maintenance.services import policies, runs, targets
from harborops.maintenance.services.watchdog import HEAVY
from harborops.maintenance.services.watchdog import overview as fleet_overview
from harborops.maintenance.tasks import start_check, start_set_schedules

FLEET_PAGE_SIZE = 50


def _policy_runs(policy: GCPolicy | None = None, limit: int = 10) -> list[JobRun]:
    jobs = JobRun.objects.filter(kind=runs.KIND)
    if policy is not None:
        jobs = jobs.filter(params__policy=policy.pk)
    return list(jobs.order_by("-created_at")[:limit])


@role_required(VIEWER)
def overview(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = fleet_overview()
    today = localdate()
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "maintenance/overview.html", {
        "freed_chart": freed_trend(freed_steps(days=30, today=today), days=30, today=today),
        "policies": GCPolicy.objects.prefetch_related("instances", "offline_targets"),
        "offline_targets": OfflineTarget.objects.select_related("host", "instance"),
        # the fleet table is paged (rendering 1,000 rows was most of the page's time); the count of
        # instances that need attention is over the whole fleet
        "rows": Paginator(rows, FLEET_PAGE_SIZE).get_page(request.GET.get("page")), "query": query.urlencode(),
        "problem_count": sum(1 for r in rows if r.findings),
        "recent_runs": _policy_runs(),
        "settings_long_run": settings.GC_LONG_RUN_HOURS,
    })


@role_required(OPERATOR, methods=("POST",))
def check_now(request: AuthenticatedHttpRequest) -> HttpResponse:
    job = start_check(actor=Actor.from_request(request))
    return redirect("core:job_detail", job.pk)


def _save(request: AuthenticatedHttpRequest, form: PolicyForm, policy: GCPolicy | None) -> GCPolicy | None:
    actor = Actor.from_request(request)
    try:
        if policy is None:
            return policies.create_policy(actor=actor, instances=form.cleaned_data["instances"],
                                          offline_targets=form.cleaned_data["offline_targets"],
                                          **form.service_fields())
        return policies.update_policy(policy, actor=actor, instances=form.cleaned_data["instances"],
                                      offline_targets=form.cleaned_data["offline_targets"], **form.service_fields())
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
        return None


@role_required(ADMIN, methods=("GET", "POST"))
def policy_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        policy = _save(request, form, None)
        if policy is not None:
            messages.success(request, f"GC policy {policy.name} created.")
            return redirect(policy)
    return render(request, "maintenance/policy_form.html", {"form": form})


@role_required(ADMIN, methods=("GET", "POST"))
def policy_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(GCPolicy, pk=pk)
    form = PolicyForm(request.POST or None, instance=GCPolicy.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, policy)
        if saved is not None:
            messages.success(request, f"GC policy {saved.name} saved.")
            return redirect(saved)
    return render(request, "maintenance/policy_form.html", {"form": form, "policy": policy})


@role_required(VIEWER)
def policy_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(GCPolicy, pk=pk)
    # the page names each target's HA group: read the groups with the fleet, not one query per target
    fleet = list(Instance.objects.filter(enabled=True).select_related("ha_group").defer(*HEAVY))
    targets = policies.target_instances(policy, fleet)
    return render(request, "maintenance/policy_detail.html", {
        "policy": policy, "targets": policies.visiting_order(targets), "runs": _policy_runs(policy),
        "periodic_task": policy.periodic_task})


@role_required(ADMIN, methods=("POST",))
def policy_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(GCPolicy, pk=pk)
    policies.delete_policy(policy, actor=Actor.from_request(request))
    messages.success(request, f"GC policy {policy.name} removed.")
    return redirect("maintenance:overview")


@role_required(OPERATOR, methods=("POST",))
def policy_run(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(GCPolicy, pk=pk)
    try:
        job = runs.start_run(policy, actor=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect(policy)
    return redirect("core:job_detail", job.pk)


@role_required(OPERATOR, methods=("POST",))
def policy_set_schedules(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(GCPolicy, pk=pk)
    try:
        job = start_set_schedules(policy, actor=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect(policy)
    return redirect("core:job_detail", job.pk)


@role_required(VIEWER)
def run_steps(request: AuthenticatedHttpRequest, job_pk: int) -> HttpResponse:
    """The per-instance steps of a GC run (htmx poll on the job page)."""
    job = get_job_for_user(request, job_pk)
    steps = GCStep.objects.filter(job=job).order_by("position", "pk")
    return render(request, "maintenance/htmx/run_steps.html", {"job": job, "steps": steps})


@role_required(VIEWER)
def offline_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(OfflineTarget.objects.select_related("host", "instance"), pk=pk)
    steps = GCStep.objects.filter(offline_target=target).select_related("job").order_by("-pk")[:20]
    return render(request, "maintenance/offline_detail.html", {"target": target, "steps": steps})


def _save_target(request: AuthenticatedHttpRequest, form: OfflineTargetForm,
                 target: OfflineTarget | None) -> OfflineTarget | None:
    actor = Actor.from_request(request)
    try:
        if target is None:
            return targets.create_target(actor=actor, **form.service_fields())
        return targets.update_target(target, actor=actor, **form.service_fields())
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None


@role_required(ADMIN, methods=("GET", "POST"))
def offline_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OfflineTargetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        target = _save_target(request, form, None)
        if target is not None:
            messages.success(request, f"Offline registry {target.name} added.")
            return redirect(target)
    return render(request, "maintenance/offline_form.html", {"form": form})


@role_required(ADMIN, methods=("GET", "POST"))
def offline_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(OfflineTarget, pk=pk)
    form = OfflineTargetForm(request.POST or None, instance=OfflineTarget.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        saved = _save_target(request, form, target)
        if saved is not None:
            messages.success(request, f"Offline registry {saved.name} saved.")
            return redirect(saved)
    return render(request, "maintenance/offline_form.html", {"form": form, "target": target})


@role_required(ADMIN, methods=("POST",))
def offline_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(OfflineTarget, pk=pk)
    targets.delete_target(target, actor=Actor.from_request(request))
    messages.success(request, f"Offline registry {target.name} removed.")
    return redirect("maintenance:overview")
