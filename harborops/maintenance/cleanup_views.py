"""Clean-up pages: the report (from stored data, paged server-side), a clean-up's dry run, its
confirmation and its result."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.timezone import localdate

from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import OPERATOR, VIEWER
from harborops.core.widgets import LongCheckboxSelectMultiple
from harborops.fleet.models import Instance
from harborops.maintenance.charts import freed_steps, freed_trend
from harborops.maintenance.models import CleanupItem, CleanupPlan, CleanupScan, UntaggedArtifact
from harborops.maintenance.services import cleanup, deletions
from harborops.maintenance.tasks import start_scan

PAGE_SIZE = 50
SECTIONS = ("untagged", "quota", "unpulled")


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(raw or default)))
    except ValueError:
        return default


class ReferencesForm(forms.Form):
    instances = forms.ModelMultipleChoiceField(queryset=Instance.objects.filter(enabled=True).order_by("name")
                                               .defer("password"), widget=LongCheckboxSelectMultiple)
    references = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "placeholder": "library/app:1.0\n"
                                 "library/app@sha256:…\nlibrary/old-repo"}),
                                 help_text="one a line: repository:tag (a tag), repository@digest (an artifact), "
                                           "a bare repository (all of it); each on every chosen instance")


@role_required(VIEWER)
def report(request: AuthenticatedHttpRequest) -> HttpResponse:
    section = request.GET.get("section") if request.GET.get("section") in SECTIONS else "untagged"
    instance = Instance.objects.filter(pk=_int(request.GET.get("instance"), 0, 0, 2**31)).first()
    project = request.GET.get("project", "")[:255]
    share = _int(request.GET.get("share"), settings.CLEANUP_QUOTA_PERCENT, 1, 1000)
    days = _int(request.GET.get("days"), settings.CLEANUP_UNPULLED_DAYS, 1, 3650)
    rows: Any
    if section == "quota":
        rows = cleanup.over_quota(share / 100, instance)
    elif section == "unpulled":
        rows = cleanup.unpulled(days, instance)
    else:
        rows = cleanup.untagged_artifacts(instance, project)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    scans_query = request.GET.copy()
    scans_query.pop("scans_page", None)
    untagged = UntaggedArtifact.objects.filter(instance__enabled=True)
    # "Last collection" is paged like the report (one row per enabled instance: 1,000 rows were most
    # of the page's time), and it and the filter menu read only the columns they show (a whole
    # Instance row decrypts its password and parses its JSON).
    scans = (CleanupScan.objects.filter(instance__enabled=True).order_by("instance__name", "pk")
             .values("instance__name", "error", "scanned_at", "repositories", "artifacts"))
    return render(request, "maintenance/cleanup_report.html", {
        "section": section, "page": page, "query": query.urlencode(), "instance": instance, "project": project,
        "share": share, "days": days, "instance_pk": instance.pk if instance is not None else None,
        "instances": Instance.objects.filter(enabled=True).order_by("name").values_list("pk", "name"),
        "projects": cleanup.untagged_projects(instance)[:PAGE_SIZE] if section == "untagged" else [],
        "untagged_total": untagged.count(), "untagged_bytes": untagged.aggregate(s=Sum("size"))["s"] or 0,
        "scans": Paginator(scans, PAGE_SIZE).get_page(request.GET.get("scans_page")),
        "scans_query": scans_query.urlencode(),
        "plans": CleanupPlan.objects.order_by("-pk")[:10],
    })


@role_required(OPERATOR, methods=("POST",))
def scan_now(request: AuthenticatedHttpRequest) -> HttpResponse:
    job = start_scan(actor=Actor.from_request(request))
    return redirect("core:job_detail", job.pk)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@role_required(OPERATOR, methods=("GET", "POST"))
def plan_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """POST the report's selection (``untagged`` / ``repository`` ids) or references for instances:
    the clean-up is stored and its dry run starts."""
    form = ReferencesForm(request.POST if request.method == "POST" and "references" in request.POST else None)
    if request.method == "POST":
        try:
            if "references" in request.POST:
                if not form.is_valid():
                    return render(request, "maintenance/cleanup_form.html", {"form": form}, status=400)
                specs = deletions.parse_references(form.cleaned_data["references"], form.cleaned_data["instances"])
            else:
                specs = deletions.from_report(untagged=_ids(request.POST.getlist("untagged")),
                                              repositories=_ids(request.POST.getlist("repository")))
            plan = deletions.create_plan(specs, actor=Actor.from_request(request))
        except ValidationError as exc:
            if "references" in request.POST:
                form.add_error("references", exc.messages)
                return render(request, "maintenance/cleanup_form.html", {"form": form}, status=400)
            messages.error(request, "; ".join(exc.messages))
            return redirect("maintenance:cleanup_report")
        return redirect(plan)
    return render(request, "maintenance/cleanup_form.html", {"form": form})


def _plan_context(plan: CleanupPlan) -> dict[str, Any]:
    items = list(plan.items.order_by("instance_name", "repository", "kind", "reference"))
    groups: dict[str, list[CleanupItem]] = {}
    for item in items:
        groups.setdefault(item.instance_name, []).append(item)
    present = [i for i in items if i.check_state == CleanupItem.Check.PRESENT]
    return {"plan": plan, "groups": groups, "present": present, "count": len(items),
            "present_bytes": sum(i.size or 0 for i in present if i.kind != CleanupItem.Kind.TAG),
            "instances_hit": sorted({i.instance_name for i in present}),
            "busy": plan.status in (CleanupPlan.Status.CHECKING, CleanupPlan.Status.DELETING)}


@role_required(VIEWER)
def plan_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(CleanupPlan.objects.select_related("dry_run_job", "delete_job"), pk=pk)
    template = "maintenance/htmx/cleanup_items.html" if request.htmx else "maintenance/cleanup_plan.html"
    return render(request, template, _plan_context(plan))


@role_required(OPERATOR, methods=("POST",))
def plan_confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(CleanupPlan, pk=pk)
    try:
        job = deletions.confirm(plan, actor=Actor.from_request(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect(plan)
    return redirect("core:job_detail", job.pk)


def instance_panel(instance: Instance) -> dict[str, Any]:
    """What the fleet's instance page shows of GC (maintenance/htmx/instance_gc.html)."""
    from harborops.maintenance.models import GCStep

    today = localdate()
    steps = (GCStep.objects.filter(instance=instance).exclude(started_at=None).select_related("job")
             .order_by("-started_at")[:10])
    return {"gc_instance": instance, "gc_steps": steps,
            "gc_chart": freed_trend(freed_steps(days=30, today=today, instance_id=instance.pk), days=30, today=today)}
