"""The fleet's alert conditions, over what the sweep stored (no network).

Down is the *debounced* state (alerts.InstanceAvailability: N failed sweeps or M minutes), never one
timeout. The other conditions read the instance's current state as the last sweep saw it and, for the
jobservice queues, the newest health snapshot that carries them (Harbor >= 2.7; older ones have none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from django.db.models import OuterRef, Subquery

from harborops.core.conditions import Occurrence, Severity, conditions
from harborops.fleet.models import HealthSnapshot, Instance

TITLES = {
    "fleet.instance_down": "Harbor instance down",
    "fleet.instance_degraded": "Harbor instance degraded (components unhealthy)",
    "fleet.credentials_rejected": "Harbor refuses harborops' credentials (401)",
    "fleet.version_unsupported": "Harbor version not supported",
    "fleet.storage_high": "Registry storage almost full",
    "fleet.jobservice_backlog": "Jobservice queue backlog",
}


def _gib(n: int) -> str:
    return f"{n / 1024**3:.1f} GiB"


def _latest_queues(ids: list[int]) -> dict[int, list[dict[str, object]]]:
    newest = HealthSnapshot.objects.filter(instance=OuterRef("pk"), job_queues__isnull=False).order_by("-taken_at")
    snap_ids = [s for s in Instance.objects.filter(pk__in=ids).annotate(
        snap=Subquery(newest.values("pk")[:1])).values_list("snap", flat=True) if s]
    return {s.instance_id: s.job_queues or [] for s in HealthSnapshot.objects.filter(pk__in=snap_ids)}


@conditions("fleet", TITLES)
def fleet_conditions(at: dt.datetime) -> Iterator[Occurrence]:
    from harborops.alerts.models import InstanceAvailability  # the alerts app owns the debounced state

    instances = list(Instance.objects.filter(enabled=True))
    down = {a.instance_id: a for a in InstanceAvailability.objects.filter(
        instance__in=instances, state=InstanceAvailability.State.DOWN)}
    degraded_after = dt.timedelta(minutes=settings.ALERT_DEGRADED_AFTER_MINUTES)
    queues = _latest_queues([i.pk for i in instances])
    for inst in instances:
        subject, link = f"instance:{inst.pk}", f"/fleet/{inst.pk}/"
        av = down.get(inst.pk)
        if av is not None:
            since = f" since {av.since:%Y-%m-%d %H:%M} UTC" if av.since else ""
            recovering = (f"; recovering: {av.consecutive_successes} good sweep(s) so far"
                          if av.consecutive_successes else "")
            yield Occurrence("fleet.instance_down", subject, "critical", f"{inst.name} is down",
                             f"Down{since} after failed sweeps in a row{recovering}. Last error: "
                             f"{inst.error_message or inst.get_error_kind_display()}",
                             instance_id=inst.pk, link=link)
            continue  # a down instance says nothing else that is current
        if inst.status == Instance.Status.DEGRADED and inst.status_since and at - inst.status_since >= degraded_after:
            names = ", ".join(map(str, inst.unhealthy_components)) or "some components"
            yield Occurrence("fleet.instance_degraded", subject, "warning", f"{inst.name}: unhealthy {names}",
                             f"Degraded since {inst.status_since:%Y-%m-%d %H:%M} UTC.", instance_id=inst.pk, link=link)
        if inst.error_kind == Instance.ErrorKind.AUTH:
            yield Occurrence("fleet.credentials_rejected", subject, "critical",
                             f"{inst.name} refuses harborops' credentials (401)",
                             "Update the instance's username/password or robot secret.", instance_id=inst.pk, link=link)
        if inst.error_kind == Instance.ErrorKind.UNSUPPORTED_VERSION:
            yield Occurrence("fleet.version_unsupported", subject, "warning",
                             f"{inst.name} runs a Harbor version harborops does not support",
                             inst.error_message, instance_id=inst.pk, link=link)
        used = inst.storage_used_fraction
        if used is not None and inst.storage_total:
            pct = used * 100
            severity: Severity | None = (
                "critical" if pct >= settings.ALERT_STORAGE_CRITICAL_PERCENT else
                "warning" if pct >= settings.ALERT_STORAGE_WARNING_PERCENT else None)
            if severity:
                yield Occurrence("fleet.storage_high", subject, severity,
                                 f"{inst.name}: registry storage {pct:.0f}% used",
                                 f"{_gib(inst.storage_total - (inst.storage_free or 0))} of "
                                 f"{_gib(inst.storage_total)} used.", instance_id=inst.pk, link=link)
        pending = sum(int(q.get("count") or 0) for q in queues.get(inst.pk, []))  # type: ignore[call-overload]
        if pending >= settings.ALERT_JOB_QUEUE_BACKLOG:
            top = sorted(queues[inst.pk], key=lambda q: -int(q.get("count") or 0))[:3]  # type: ignore[call-overload]
            yield Occurrence("fleet.jobservice_backlog", subject, "warning",
                             f"{inst.name}: {pending} jobs waiting in jobservice queues",
                             "Largest: " + ", ".join(f"{q.get('job_type')} {q.get('count')}" for q in top),
                             instance_id=inst.pk, link=link)
