from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.timezone import now

from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.job_conditions import job_conditions
from harborops.core.jobs import request_cancel
from harborops.core.jobs.registry import registered_kinds
from harborops.core.models import JobLogLine, JobRun
from harborops.core.permissions import get_job_for_user, role_required
from harborops.core.roles import OPERATOR, VIEWER
from harborops.core.sorting import sort_queryset

LOG_PAGE = 500

JOB_SORTS = {"id": "pk", "kind": "kind", "status": "status", "created": "created_at", "started_by": "actor_name"}


@role_required(VIEWER)
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    from harborops.alerts.services.attention import attention
    from harborops.audit.models import ActionLogEntry

    # What needs attention now (the same data as GET /api/attention/); htmx refreshes that part.
    context = {"attention": attention()}
    if request.htmx:
        return render(request, "core/htmx/home_attention.html", context)
    counts = dict.fromkeys(JobRun.Status.values, 0)
    counts.update(JobRun.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return render(request, "core/home.html", {
        **context,
        "job_counts": counts,
        "recent_jobs": JobRun.objects.select_related("user")[:8],
        "recent_actions": ActionLogEntry.objects.all()[:8],
    })


@role_required(VIEWER)
def job_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    jobs = JobRun.objects.all()
    status, kind = request.GET.get("status", ""), request.GET.get("kind", "")
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    jobs, sorting = sort_queryset(request.GET, jobs, JOB_SORTS, "-created")
    page = Paginator(jobs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "status": status, "kind": kind, "statuses": JobRun.Status.choices,
               "sorting": sorting, "query": query.urlencode(),
               "kinds": sorted(set(registered_kinds()) | set(jobs.values_list("kind", flat=True).distinct()))}
    if request.htmx:
        return render(request, "core/htmx/job_rows.html", context)
    context["attention"] = list(job_conditions(now()))
    return render(request, "core/job_list.html", context)


def _status_context(job: JobRun, after: int) -> dict[str, object]:
    lines = list(JobLogLine.objects.filter(job=job, seq__gt=after).order_by("seq")[:LOG_PAGE])
    return {"job": job, "lines": lines, "last_seq": lines[-1].seq if lines else after,
            "more": len(lines) == LOG_PAGE}


@role_required(VIEWER)
def job_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    kind = registered_kinds().get(job.kind)
    return render(request, "core/job_detail.html",
                  {**_status_context(job, 0), "kind_template": kind.detail_template if kind else ""})


@role_required(VIEWER)
def job_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The htmx poll: status and progress, plus log lines after ``after`` appended to the log."""
    job = get_job_for_user(request, pk)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    return render(request, "core/htmx/job_status.html", _status_context(job, after))


@role_required(OPERATOR, methods=("POST",))
def job_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk, write=True)
    request_cancel(job, actor=Actor.from_request(request))
    return redirect("core:job_detail", job.pk)
