"""Alert lifecycle: store what the condition sources say, resolve what cleared, decide who is told.

    evaluation = evaluate_all(at)
    result = reconcile(evaluation, at)

1. Every occurrence updates its open alert (one per condition + subject) or opens a new one.
2. Open alerts no longer occurring are resolved, except those of a source that failed this round
   (a broken source must not look like everything recovered).
3. Active silences are matched; a silenced alert notifies nobody.
4. Notifications: *firing* the first time an unsilenced alert is routed, a *reminder* every
   ALERT_REMINDER_HOURS while it fires unacknowledged, *resolved* once when a notified alert clears.
   All alerts for one channel in one pass share one notification (a digest).
5. The notifications are enqueued after the transaction commits.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, Value, When

from harborops.alerts.models import SEVERITY_RANK, Alert, Channel, Notification, Silence
from harborops.alerts.services import payloads
from harborops.alerts.services.routing import load_routes, targets_for
from harborops.core.conditions import Evaluation, Occurrence, sources
from harborops.fleet.models import Instance

logger = logging.getLogger(__name__)
State = Alert.State


@dataclass
class ReconcileResult:
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    updated: int = 0
    notifications: list[int] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        text = (f"{len(self.opened)} opened, {self.updated} still open, {len(self.resolved)} resolved, "
                f"{len(self.notifications)} notification(s)")
        if self.errors:
            text += "; failing sources: " + ", ".join(sorted(self.errors))
        return text


def _labels(occ: Occurrence, instance: Instance | None) -> dict[str, str]:
    labels = {str(k): str(v) for k, v in (instance.labels if instance else {}).items()}
    labels.update({str(k): str(v) for k, v in occ.labels.items()})
    return labels


def active_silences(at: dt.datetime) -> list[Silence]:
    return list(Silence.objects.filter(starts_at__lte=at, ends_at__gt=at).select_related("instance"))


def silence_for(alert: Alert, silences: list[Silence]) -> Silence | None:
    return next((s for s in silences if s.matches(alert)), None)


def _apply(alert: Alert, occ: Occurrence, instance: Instance | None, at: dt.datetime) -> None:
    alert.severity, alert.summary, alert.details = occ.severity, occ.summary[:500], occ.details
    alert.link, alert.instance_id = occ.link[:500], occ.instance_id if instance else None
    alert.instance_name = instance.name if instance else ""
    alert.labels = _labels(occ, instance)
    alert.last_seen = at


def reconcile(evaluation: Evaluation, at: dt.datetime) -> ReconcileResult:
    result = ReconcileResult(errors=dict(evaluation.errors))
    failed_conditions = {key for s in sources() if s.name in evaluation.errors for key in s.titles}
    reminder = dt.timedelta(hours=settings.ALERT_REMINDER_HOURS) if settings.ALERT_REMINDER_HOURS > 0 else None
    events: dict[tuple[int, str], tuple[Channel, str, list[Alert]]] = {}
    routes = load_routes()

    def notify(alert: Alert, kind: str) -> bool:
        targets = targets_for(alert, routes)
        for t in targets:
            events.setdefault((t.channel.pk, kind), (t.channel, t.route.name, []))[2].append(alert)
        return bool(targets)

    with transaction.atomic():
        open_alerts = {(a.condition, a.subject): a for a in Alert.objects.select_for_update().exclude(
            state=State.RESOLVED)}
        ids = {o.instance_id for o in evaluation.occurrences if o.instance_id}
        instances = Instance.objects.in_bulk(list(ids))
        silences = active_silences(at)
        seen: set[tuple[str, str]] = set()
        for occ in evaluation.occurrences:
            seen.add(occ.key)
            inst = instances.get(occ.instance_id) if occ.instance_id else None
            alert = open_alerts.get(occ.key)
            if alert is None:
                alert = Alert(condition=occ.condition, subject=occ.subject, first_seen=at, state=State.FIRING)
                _apply(alert, occ, inst, at)
                alert.save()
                result.opened.append(alert.pk)
            else:
                _apply(alert, occ, inst, at)
                result.updated += 1
            silence = silence_for(alert, silences)
            alert.silenced_by = silence
            if silence is None and alert.state == State.FIRING:
                if alert.last_notified_at is None:
                    kind: str | None = Notification.Kind.FIRING
                elif reminder is not None and at - alert.last_notified_at >= reminder:
                    kind = Notification.Kind.REMINDER
                else:
                    kind = None
                if kind is not None and notify(alert, kind):
                    alert.last_notified_at = at
            alert.save()
        for key, alert in open_alerts.items():
            if key in seen or alert.condition in failed_conditions:
                continue
            alert.state, alert.resolved_at = State.RESOLVED, at
            alert.silenced_by = silence_for(alert, silences)
            if alert.last_notified_at is not None and alert.silenced_by is None:
                notify(alert, Notification.Kind.RESOLVED)
            alert.save()
            result.resolved.append(alert.pk)
        for (_, kind), (channel, route_name, alerts) in events.items():
            result.notifications.append(create_notification(channel, kind, alerts, at, route_name=route_name).pk)
    if result.notifications:
        from harborops.alerts.services.delivery import enqueue

        ids_to_send = list(result.notifications)
        transaction.on_commit(lambda: enqueue(ids_to_send))
    return result


def create_notification(channel: Channel, kind: str, alerts: list[Alert], at: dt.datetime, *,
                        route_name: str = "") -> Notification:
    dicts = [payloads.alert_dict(a) for a in alerts] if kind != Notification.Kind.TEST else [
        payloads.test_alert_dict(at)]
    n = Notification.objects.create(channel=channel, kind=kind, route_name=route_name, created_at=at,
                                    next_attempt_at=at,
                                    payload={"title": payloads.headline(kind, dicts), "alerts": dicts})
    if alerts:
        n.alerts.add(*alerts)
    return n


def open_alerts_by_severity(limit: int | None = None) -> list[Alert]:
    """Open alerts, most severe first, then oldest first; the first ``limit`` of them (all: None)."""
    rank = Case(*(When(severity=sev, then=Value(n)) for sev, n in SEVERITY_RANK.items()), default=Value(9))
    rows = (Alert.objects.exclude(state=State.RESOLVED).select_related("silenced_by")
            .order_by(rank, "first_seen", "pk"))
    return list(rows if limit is None else rows[:limit])


def open_alert_counts() -> dict[str, int]:
    """Open alerts per severity (every severity present, zero or not)."""
    counts = dict.fromkeys(SEVERITY_RANK, 0)
    counts.update(Alert.objects.exclude(state=State.RESOLVED).order_by().values_list("severity")
                  .annotate(n=Count("id")).values_list("severity", "n"))
    return counts
