"""Replication pages: thin views over services (STYLE G6)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER
from harborops.fleet.models import HAGroup
from harborops.harbor import errors as harbor_errors
from harborops.replication import pairs, services
from harborops.replication.filtersets import PolicyFilterSet
from harborops.replication.models import CollectState, Execution, FailedTask, HAPair, Policy

EXECUTIONS_SHOWN = 50


@role_required(VIEWER)
def policy_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every policy of every instance, worst first, with filters (health, instance, name, ...)."""
    qs = Policy.objects.select_related("instance", "remote_registry")
    f = PolicyFilterSet(request.GET, queryset=qs)
    order = {h: i for i, h in enumerate(("stuck", "failing", "lagging", "never_run", "healthy", "disabled"))}
    policies = sorted(f.qs, key=lambda p: (order.get(p.health, 9), p.instance.name, p.name))
    context = {"filter": f, "policies": policies, "counts": services.health_counts(),
               "health_choices": Policy.Health.choices, "selected_health": request.GET.getlist("health"),
               "states": CollectState.objects.select_related("instance").order_by("instance__name")}
    if request.htmx:
        return render(request, "replication/htmx/policy_rows.html", context)
    return render(request, "replication/policy_list.html", context)


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
    groups = HAGroup.objects.filter(mode=HAGroup.Mode.TWO_WAY_REPLICATION).prefetch_related("instances")
    pairs_by_group = {p.group_id: p for p in HAPair.objects.all()}
    rows = [(g, pairs_by_group.get(g.pk)) for g in groups]
    return render(request, "replication/pair_list.html", {"rows": rows})


@role_required(VIEWER)
def pair_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(HAGroup, pk=pk)
    pair = HAPair.objects.filter(group=group).prefetch_related("sides__instance").first()
    try:
        members, problem = pairs.members(group), ""
    except pairs.PairError as exc:
        members, problem = list(group.instances.all()), str(exc)
    return render(request, "replication/pair_detail.html", {
        "group": group, "pair": pair, "members": members, "problem": problem,
        "loop_risks": pairs.loop_risks(group)})


def _pair_action(request: AuthenticatedHttpRequest, pk: int, start: Any) -> HttpResponse:
    group = get_object_or_404(HAGroup, pk=pk)
    try:
        job = start(group)
    except pairs.PairError as exc:
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
