"""Replication pages: thin views over services (STYLE G6)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, Prefetch, Q, Value, When
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.timezone import now

from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER
from harborops.fleet.models import HAGroup
from harborops.harbor import errors as harbor_errors
from harborops.replication import (
    conditions,
    consistency,
    hagroups,
    pairchecks,
    pairs,
    rotate,
    schedules,
    services,
    topology,
)
from harborops.replication.filtersets import PolicyFilterSet
from harborops.replication.models import CollectState, Execution, FailedTask, HAPair, MissingArtifact, Policy

EXECUTIONS_SHOWN = 50


POLICIES_PAGE = 50  # rows per page of the policy list
ATTENTION_SHOWN = 50  # conditions listed on the page, most severe first (all of them: /api/attention/)
HEALTH_ORDER = ("stuck", "failing", "lagging", "never_run", "healthy", "disabled")  # worst first


@role_required(VIEWER)
def policy_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every policy of every instance, worst first, with filters (health, instance, name, ...), page by page."""
    qs = Policy.objects.select_related("instance", "remote_registry").defer(*hagroups.deferred("instance"))
    f = PolicyFilterSet(request.GET, queryset=qs)
    rank = Case(*(When(health=h, then=Value(i)) for i, h in enumerate(HEALTH_ORDER)), default=Value(len(HEALTH_ORDER)))
    ordered = f.qs.annotate(health_rank=rank).order_by("health_rank", "instance__name", "name", "pk")
    page = Paginator(ordered, POLICIES_PAGE).get_page(request.GET.get("page"))
    without_page = request.GET.copy()
    without_page.pop("page", None)
    context: dict[str, Any] = {
        "filter": f, "policies": page.object_list, "page": page, "query_without_page": without_page.urlencode(),
        "counts": services.health_counts(), "health_choices": Policy.Health.choices,
        "selected_health": request.GET.getlist("health")}
    if request.htmx:
        return render(request, "replication/htmx/policy_rows.html", context)
    context.update(_collect_states())
    context["graph"] = topology.build()
    severity = {"critical": 0, "warning": 1, "info": 2}
    attention = sorted(conditions.replication_conditions(now()), key=lambda o: severity.get(o.severity, 3))
    context["attention"], context["attention_total"] = attention[:ATTENTION_SHOWN], len(attention)
    return render(request, "replication/policy_list.html", context)


STATES_SHOWN = 50


def _collect_states() -> dict[str, Any]:
    """The last collection per instance, failed ones first, at most STATES_SHOWN rows (a row per instance of a
    large fleet made most of the page), with the counts of all of them; the full list is in the API."""
    states = CollectState.objects.select_related("instance").defer(*hagroups.deferred("instance"))
    ok = Q(last_error="")
    shown = list(states.annotate(ok=Case(When(ok, then=1), default=0)).order_by("ok", "instance__name")
                 [:STATES_SHOWN])
    counts = CollectState.objects.aggregate(total=Count("pk"), failed=Count("pk", filter=~ok))
    return {"states": shown, "states_total": counts["total"], "states_failed": counts["failed"]}


@role_required(VIEWER)
def topology_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The topology picture on its own (large), with the policies it draws."""
    graph = topology.build()
    return render(request, "replication/topology.html", {"graph": graph})


@role_required(VIEWER)
def topology_svg(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The picture as an SVG document (to embed or save)."""
    return render(request, "replication/htmx/topology_svg.html", {"graph": topology.build()},
                  content_type="image/svg+xml")


@role_required(VIEWER)
def policy_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(Policy.objects.select_related("instance", "remote_registry"), pk=pk)
    executions = list(policy.executions.prefetch_related(
        Prefetch("failed_tasks", queryset=FailedTask.objects.order_by("harbor_id")))[:EXECUTIONS_SHOWN])
    return render(request, "replication/policy_detail.html", {"policy": policy, "executions": executions})


@role_required(VIEWER)
def task_log(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A failed task's log, read from Harbor now (htmx fragment)."""
    task = get_object_or_404(FailedTask.objects.select_related("execution__instance"), pk=pk)
    try:
        log, error = services.task_log(task), ""
    except harbor_errors.HarborError as exc:
        log, error = "", f"Harbor could not be read: {exc.message}"
    return render(request, "replication/htmx/task_log.html", {"task": task, "log": log, "error": error})


@role_required(OPERATOR, methods=("POST",))
def collect(request: AuthenticatedHttpRequest) -> HttpResponse:
    job = services.start_collect(actor=Actor.from_request(request))
    messages.success(request, "Collection of every enabled instance started.")
    return redirect("core:job_detail", job.pk)


@role_required(OPERATOR, methods=("POST",))
def policy_trigger(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(Policy.objects.select_related("instance"), pk=pk)
    try:
        ex_id = services.trigger_policy(policy, actor=Actor.from_request(request))
        messages.success(request, f"Execution {ex_id} of {policy.name} started on {policy.instance.name}.")
    except services.ActionFailed as exc:
        messages.error(request, str(exc))
    return redirect("replication:policy_detail", policy.pk)


@role_required(OPERATOR, methods=("POST",))
def policy_set_enabled(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(Policy.objects.select_related("instance"), pk=pk)
    value = request.POST.get("enabled")
    if value not in ("true", "false"):
        messages.error(request, "enabled must be true or false.")
        return redirect("replication:policy_detail", policy.pk)
    try:
        services.set_enabled(policy, value == "true", actor=Actor.from_request(request))
        messages.success(request, f"{policy.name} {'enabled' if value == 'true' else 'disabled'}.")
    except services.ActionFailed as exc:
        messages.error(request, str(exc))
    return redirect("replication:policy_detail", policy.pk)


@role_required(OPERATOR, methods=("GET", "POST"))
def execution_stop(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation (what stopping does); POST: stop it on Harbor."""
    execution = get_object_or_404(Execution.objects.select_related("policy", "instance"), pk=pk)
    if request.method == "GET":
        return render(request, "replication/execution_stop.html", {"execution": execution})
    try:
        services.stop_execution(execution, actor=Actor.from_request(request))
        messages.success(request, f"Stop of execution {execution.harbor_id} requested.")
    except services.ActionFailed as exc:
        messages.error(request, str(exc))
    return redirect("replication:policy_detail", execution.policy_id)


# --- HA pairs -----------------------------------------------------------------------------------------
@role_required(VIEWER)
def pair_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """HA groups in mode two-way replication, with what harborops set up and the last consistency check."""
    groups = HAGroup.objects.prefetch_related(Prefetch("instances", queryset=hagroups.light_instances()))
    pairs_by_group = {p.group_id: p for p in HAPair.objects.all()}
    rows = [(g, pairs_by_group.get(g.pk)) for g in groups]
    return render(request, "replication/pair_list.html", {"rows": rows})


@role_required(VIEWER)
def pair_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(HAGroup, pk=pk)
    data = hagroups.load([group])
    pair = data.pairs.get(group.pk)
    two_way = group.mode == HAGroup.Mode.TWO_WAY_REPLICATION
    try:
        members, problem = pairs.members(group, data.all_members(group)), ""
    except pairs.PairError as exc:
        members, problem = data.all_members(group), str(exc) if two_way else ""
    live = request.GET.get("live") == "1"
    return render(request, "replication/pair_detail.html", {
        "group": group, "pair": pair, "members": members, "problem": problem,
        "loop_risks": pairs.loop_risks(group, data), "checks": pairchecks.checks(group, live=live, data=data),
        "live": live, "attention": conditions.for_group(group, now(), data), "can_rotate": rotate.rotatable(pair),
        "two_way": two_way})


def _pair_action(request: AuthenticatedHttpRequest, pk: int, start: Any) -> HttpResponse:
    group = get_object_or_404(HAGroup, pk=pk)
    try:
        job = start(group)
    except (pairs.PairError, rotate.RotateError) as exc:
        messages.error(request, str(exc))
        return redirect("replication:pair_detail", group.pk)
    return redirect("core:job_detail", job.pk)


@role_required(ADMIN, methods=("POST",))
def pair_setup(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Creates robots (secrets) on both members: admin."""
    actor = Actor.from_request(request)
    return _pair_action(request, pk, lambda g: pairs.start_setup(g, request.POST.get("projects", ""), actor=actor))


@role_required(ADMIN, methods=("POST",))
def pair_teardown(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    return _pair_action(request, pk, lambda g: pairs.start_teardown(g, actor=actor))


@role_required(OPERATOR, methods=("POST",))
def pair_check(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    return _pair_action(request, pk, lambda g: pairs.start_check(g, actor=actor))


@role_required(ADMIN, methods=("POST",))
def pair_rotate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Refresh both robots' secrets on Harbor and update the peers' endpoints (a job; admin)."""
    actor = Actor.from_request(request)
    return _pair_action(request, pk, lambda g: rotate.start_rotate(g, actor=actor))


@role_required(OPERATOR, methods=("POST",))
def policy_schedule(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Set or remove the schedule harborops owns for the policy (with "skip if running")."""
    policy = get_object_or_404(Policy.objects.select_related("instance"), pk=pk)
    actor = Actor.from_request(request)
    if request.POST.get("delete"):
        schedules.delete_schedule(policy, actor=actor)
        messages.success(request, "Schedule removed.")
        return redirect("replication:policy_detail", policy.pk)
    try:
        schedules.set_schedule(policy, cron=request.POST.get("cron", ""), enabled=bool(request.POST.get("enabled")),
                               skip_if_running=bool(request.POST.get("skip_if_running")), actor=actor)
        messages.success(request, "Schedule saved.")
    except ValidationError as exc:
        messages.error(request, "; ".join(m for msgs in exc.message_dict.values() for m in msgs))
    return redirect("replication:policy_detail", policy.pk)


REPORT_PAGE = 100


@role_required(VIEWER)
def pair_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The last consistency check: counts per project and member, the missing artifacts page by page."""
    group = get_object_or_404(HAGroup, pk=pk)
    pair = HAPair.objects.filter(group=group).first() or HAPair(group=group)  # never checked: an empty report
    qs = MissingArtifact.objects.filter(pair__group=group).select_related("missing_on", "present_on").order_by("pk")
    member = request.GET.get("missing_on", "")
    if member.isdigit():
        qs = qs.filter(missing_on_id=int(member))
    page = Paginator(qs, REPORT_PAGE).get_page(request.GET.get("page"))
    names = sorted({n for counts in pair.project_counts.values() for n in counts})
    rows = [(project, [counts.get(n, 0) for n in names]) for project, counts in sorted(pair.project_counts.items())]
    return render(request, "replication/pair_report.html", {
        "group": group, "pair": pair, "page": page, "names": names, "rows": rows,
        "members": pair.sides.select_related("instance") if pair.pk else [], "member": member})


@role_required(VIEWER)
def pair_report_csv(request: AuthenticatedHttpRequest, pk: int) -> StreamingHttpResponse:
    group = get_object_or_404(HAGroup, pk=pk)
    pair = HAPair.objects.filter(group=group).first() or HAPair(group=group)  # never checked: the header only
    response = StreamingHttpResponse(consistency.csv_chunks(pair), content_type="text/csv; charset=utf-8")
    stamp = f"{pair.checked_at:%Y%m%d-%H%M%S}" if pair.checked_at else "never"
    response["Content-Disposition"] = f'attachment; filename="consistency-{group.pk}-{stamp}.csv"'
    return response
