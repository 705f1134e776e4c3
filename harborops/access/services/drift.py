"""Drift: the plan for every mapping, stored as findings (missing, wrong role, extra member in an
authoritative project, leftovers of removed mappings) instead of executed."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.timezone import now

from harborops.access.models import DriftCheck, DriftFinding
from harborops.access.services.reconcile import Plan, compute_plan


@dataclass
class DriftResult:
    instances: int
    findings: int
    in_sync: int

    def summary(self) -> str:
        return f"{self.findings} drift findings on {self.instances - self.in_sync} of {self.instances} instances"


def findings_from_plan(plan: Plan) -> list[DriftFinding]:
    at = now()
    rows: list[DriftFinding] = []
    for ip in plan.instances:
        if ip.skipped:
            rows.append(DriftFinding(checked_at=at, instance_id=ip.instance_id, kind=ip.skip_kind or "error",
                                     detail=ip.skipped))
        for change in ip.changes:
            if not change.drift:
                continue
            rows.append(DriftFinding(checked_at=at, instance_id=ip.instance_id, mapping_id=change.mapping_id,
                                     kind=change.drift, project_name=change.project, entity=change.entity,
                                     detail=change.text()))
    return rows


def check_drift() -> DriftResult:
    """Compare every mapping with each instance; replace the stored findings."""
    plan = compute_plan()
    rows = findings_from_plan(plan)
    with transaction.atomic():
        DriftFinding.objects.all().delete()
        DriftFinding.objects.bulk_create(rows)
        DriftCheck.objects.create(checked_at=now(), instances=len(plan.instances), findings=len(rows))
        DriftCheck.objects.filter(pk__in=DriftCheck.objects.order_by("-checked_at").values_list("pk", flat=True)[500:]
                                  ).delete()
    dirty = {r.instance_id for r in rows}
    return DriftResult(instances=len(plan.instances), findings=len(rows), in_sync=len(plan.instances) - len(dirty))
