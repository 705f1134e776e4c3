"""Access pages: mappings, the LDAP group search (htmx), the onboarding wizard, plan / apply, drift."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.timezone import now

from harborops.access.conditions import access_conditions
from harborops.access.forms import ApplyForm, MappingForm, OnboardForm, ProjectRows
from harborops.access.models import DriftCheck, DriftFinding, ManagedMembership, TeamMapping
from harborops.access.services import directory, mappings, preflight, reconcile
from harborops.access.tasks import start_apply, start_drift_check
from harborops.audit.services import record
from harborops.core import deletion
from harborops.core.actor import Actor
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import OPERATOR, VIEWER
from harborops.core.sorting import sort_queryset
from harborops.fleet.models import Instance


def _mapping_ids(request: AuthenticatedHttpRequest) -> list[int] | None:
    ids = [int(v) for v in request.GET.getlist("mapping") if v.isdigit()]
    return ids or None


MAPPING_SORTS = {"group": ("ldap_group_dn", "project_name"), "project": ("project_name", "ldap_group_dn"),
                 "role": "role", "managed": "managed"}


@role_required(VIEWER)
def mapping_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = TeamMapping.objects.prefetch_related("instances").annotate(managed=Count("memberships"))
    rows, sorting = sort_queryset(request.GET, rows, MAPPING_SORTS, "group")
    findings = DriftFinding.objects.count()
    return render(request, "access/mapping_list.html", {
        "mappings": rows, "sorting": sorting, "findings": findings, "ldap_enabled": directory.enabled(),
        "last_check": DriftCheck.objects.first()})


@role_required(VIEWER)
def mapping_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    mapping = get_object_or_404(TeamMapping.objects.prefetch_related("instances"), pk=pk)
    return render(request, "access/mapping_detail.html", {
        "mapping": mapping, "targets": mappings.target_instances(mapping),
        "memberships": ManagedMembership.objects.filter(mapping=mapping).select_related("instance"),
        "findings": DriftFinding.objects.filter(mapping=mapping).select_related("instance")})


def _form_errors(form: Any, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _mapping_form(request: AuthenticatedHttpRequest, mapping: TeamMapping | None) -> HttpResponse:
    form = MappingForm(request.POST or None, instance=mapping)
    if request.method == "POST" and form.is_valid():
        actor = Actor.from_request(request)
        try:
            if mapping is None:
                saved = mappings.create_mapping(actor=actor, instances=form.cleaned_data["instances"],
                                                **form.service_fields())
            else:
                saved = mappings.update_mapping(TeamMapping.objects.get(pk=mapping.pk), actor=actor,
                                                instances=form.cleaned_data["instances"], **form.service_fields())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Mapping {saved} saved. Review the plan, then apply it.")
            return redirect(f"{reverse('access:plan')}?mapping={saved.pk}")
    dn = form["ldap_group_dn"].value() or ""
    picked = [directory.Group(dn, form["ldap_group_name"].value() or dn)] if dn else []
    return render(request, "access/mapping_form.html", {"form": form, "mapping": mapping, "groups": picked,
                                                        "selected": dn, "ldap_enabled": directory.enabled()})


@role_required(OPERATOR, methods=("GET", "POST"))
def mapping_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _mapping_form(request, None)


@role_required(OPERATOR, methods=("GET", "POST"))
def mapping_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _mapping_form(request, get_object_or_404(TeamMapping, pk=pk))


@role_required(OPERATOR, methods=("GET", "POST"))
def mapping_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    mapping = get_object_or_404(TeamMapping, pk=pk)
    if request.method == "GET":
        return deletion.confirmation(
            request, mapping, label=f"mapping {mapping}",
            cancel_url=reverse("access:mapping_detail", args=[mapping.pk]),
            note=f"The Harbor memberships it created ({mapping.memberships.count()}) stay until the next apply "
                 "removes them; nothing else on the Harbors changes.")
    mappings.delete_mapping(mapping, actor=Actor.from_request(request))
    messages.success(request, f"Mapping {mapping} removed. The next apply removes the memberships it created.")
    return redirect("access:mapping_list")


@role_required(OPERATOR)
def group_search(request: AuthenticatedHttpRequest) -> HttpResponse:
    """htmx: LDAP groups matching ``q`` in harborops' own directory, as radio buttons for the form."""
    query = request.GET.get("q", "")
    groups: list[directory.Group] = []
    error = ""
    if query.strip():
        try:
            groups = directory.search_groups(query)
        except directory.DirectoryError as exc:
            error = str(exc)
    return render(request, "access/htmx/group_results.html",
                  {"groups": groups, "error": error, "query": query, "selected": request.GET.get("selected", "")})


@role_required(OPERATOR, methods=("GET", "POST"))
def onboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One screen: pick an LDAP group, name projects and roles, pick instances → plan → apply."""
    form = OnboardForm(request.POST or None)
    rows = ProjectRows(request.POST or None, prefix="p")
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        wanted = [r for r in rows.cleaned_data if r.get("project_name")]
        if not wanted:
            form.add_error(None, "name at least one project")
        else:
            actor = Actor.from_request(request)
            try:
                with transaction.atomic():
                    created = [mappings.create_mapping(
                        actor=actor, instances=form.cleaned_data["instances"],
                        ldap_group_dn=form.cleaned_data["ldap_group_dn"], project_name=row["project_name"],
                        role=row["role"], project_public=row["project_public"],
                        project_quota_gib=row["project_quota_gib"], targets=form.cleaned_data["targets"],
                        target_label=form.cleaned_data["target_label"] or "",
                        authoritative=form.cleaned_data["authoritative"],
                        expand_nested=form.cleaned_data["expand_nested"]) for row in wanted]
                    record(actor=actor, action="access.onboard", obj=created[0], before=None,
                           after={"ldap_group_dn": created[0].ldap_group_dn,
                                  "mappings": [str(m) for m in created]})
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, f"{len(created)} mapping{'s' if len(created) > 1 else ''} created for "
                                          f"{created[0].group_label}. "
                                          f"Review the plan, then apply it.")
                return redirect(f"{reverse('access:plan')}?" + "&".join(f"mapping={m.pk}" for m in created))
    dn = form["ldap_group_dn"].value() or ""
    return render(request, "access/onboard.html", {
        "form": form, "rows": rows, "groups": [directory.Group(dn, dn)] if dn else [], "selected": dn,
        "ldap_enabled": directory.enabled()})


@role_required(VIEWER)
def plan(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The readable diff of what apply would change, computed live against every targeted instance."""
    ids = _mapping_ids(request)
    scoped = list(TeamMapping.objects.filter(pk__in=ids)) if ids else []
    computed = reconcile.compute_plan(ids)
    return render(request, "access/plan.html", {"plan": computed, "scoped": scoped, "ids": ids or []})


@role_required(OPERATOR, methods=("POST",))
def apply(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApplyForm(request.POST)
    if not form.is_valid():  # e.g. a mapping deleted since the plan was shown: never widen to "all"
        messages.error(request, "A mapping of this plan no longer exists; here is the plan again.")
        return redirect("access:plan")
    ids = [m.pk for m in form.cleaned_data["mapping"]]
    job = start_apply(actor=Actor.from_request(request), mapping_ids=ids or None,
                      force=request.POST.get("force") == "on")
    return redirect("core:job_detail", job.pk)


@role_required(VIEWER)
def preflight_checks(request: AuthenticatedHttpRequest) -> HttpResponse:
    """htmx: the preflight of these mappings (``?mapping=``) or of every mapping, read live: will each
    target Harbor resolve the group for its members?"""
    ids = _mapping_ids(request)
    checks = preflight.preflight(ids)
    return render(request, "access/htmx/preflight.html", {
        "checks": checks, "ineffective": [c for c in checks if c.ineffective], "ids": ids or [],
        "sample_size": preflight.SAMPLE_SIZE})


@role_required(OPERATOR)
def preflight_draft(request: AuthenticatedHttpRequest) -> HttpResponse:
    """htmx: the preflight of the mapping being written in the form or the wizard (not saved yet)."""
    dn = request.GET.get("ldap_group_dn", "").strip()
    ids = [int(v) for v in request.GET.getlist("instances") if v.isdigit()]
    checks: list[preflight.MappingCheck] = []
    error = ""
    try:
        directory.validate_dn(dn)
        checks = preflight.preflight_draft(
            dn, targets=request.GET.get("targets", TeamMapping.Targets.ALL),
            target_label=request.GET.get("target_label", ""), listed=Instance.objects.filter(pk__in=ids))
    except directory.DirectoryError as exc:
        error = "pick an LDAP group first" if not dn else str(exc)
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    return render(request, "access/htmx/preflight.html", {
        "checks": checks, "ineffective": [c for c in checks if c.ineffective], "draft": True, "error": error,
        "sample_size": preflight.SAMPLE_SIZE})


@role_required(VIEWER)
def drift_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    findings = DriftFinding.objects.select_related("instance", "mapping")
    kind = request.GET.get("kind", "")
    if kind:
        findings = findings.filter(kind=kind)
    return render(request, "access/drift_list.html", {
        "findings": findings, "kind": kind, "kinds": DriftFinding.Kind.choices,
        "last_check": DriftCheck.objects.first(), "attention": list(access_conditions(now()))})


@role_required(OPERATOR, methods=("POST",))
def drift_check(request: AuthenticatedHttpRequest) -> HttpResponse:
    job = start_drift_check(actor=Actor.from_request(request))
    return redirect("core:job_detail", job.pk)
