"""Deliver notifications: claim, one attempt, record it, schedule the retry (exponential backoff).

A notification is claimed with a conditional UPDATE (pending and due, or sending with an expired
lease), so two workers never send it at once and a worker killed mid-send leaves a lease that runs
out: the next dispatch pass sends it again with the same idempotency key (at least once).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils.timezone import now

from harborops.alerts.models import Channel, DeliveryAttempt, Notification
from harborops.alerts.services.senders import SendResult, send

logger = logging.getLogger(__name__)
Status = Notification.Status


@dataclass
class DeliveryOutcome:
    status: str
    retry_in: float | None = None  # seconds until the next attempt, when one is due


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: base, 2x base, 4x base ... capped."""
    base = float(settings.ALERT_DELIVERY_BACKOFF_SECONDS)
    return float(min(base * 2 ** max(attempts - 1, 0), settings.ALERT_DELIVERY_BACKOFF_MAX_SECONDS))


def claimable(at: dt.datetime) -> Q:
    return (Q(status=Status.PENDING, next_attempt_at__lte=at)
            | Q(status=Status.SENDING, lease_until__lt=at))


def claim(notification_id: int, at: dt.datetime) -> Notification | None:
    lease = at + dt.timedelta(seconds=settings.ALERT_DELIVERY_LEASE_SECONDS)
    got = Notification.objects.filter(claimable(at), pk=notification_id).update(
        status=Status.SENDING, lease_until=lease, attempts=F("attempts") + 1)
    if got != 1:
        return None
    n = Notification.objects.select_related("channel").get(pk=notification_id)
    # An attempt left unfinished was cut off with its worker.
    DeliveryAttempt.objects.filter(notification=n, finished_at=None).update(
        finished_at=at, error="worker lost during the attempt (delivery retried)")
    return n


def deliver(notification_id: int, *, at: dt.datetime | None = None) -> DeliveryOutcome:
    at = at or now()
    n = claim(notification_id, at)
    if n is None:
        current = Notification.objects.filter(pk=notification_id).values_list("status", flat=True).first()
        return DeliveryOutcome(current or "gone")
    attempt = DeliveryAttempt.objects.create(notification=n, attempt=n.attempts, started_at=at)
    channel = n.channel
    if not channel.enabled and n.kind != Notification.Kind.TEST:
        result = SendResult(False, error="channel disabled", retryable=False)
    else:
        try:
            result = send(channel, n, at)
        except Exception as exc:  # a bug in a sender must not leave the row claimed forever
            logger.exception("alerts: sending notification %s crashed", n.pk)
            result = SendResult(False, error=f"internal error: {type(exc).__name__}")
    return _finish(n, attempt, result)


def _finish(n: Notification, attempt: DeliveryAttempt, result: SendResult) -> DeliveryOutcome:
    done = now()
    with transaction.atomic():
        attempt.finished_at, attempt.ok = done, result.ok
        attempt.status_code, attempt.reply, attempt.error = result.status_code, result.reply, result.error
        attempt.save()
        fields: dict[str, Any] = {"lease_until": None, "last_error": result.error}
        retry_in = None
        if result.ok:
            fields |= {"status": Status.SENT, "sent_at": done}
            Channel.objects.filter(pk=n.channel_id).update(last_success_at=done, failing_since=None, last_error="")
        else:
            if result.retryable and n.attempts < settings.ALERT_DELIVERY_MAX_ATTEMPTS:
                retry_in = backoff(n.attempts)
                fields |= {"status": Status.PENDING, "next_attempt_at": done + dt.timedelta(seconds=retry_in)}
            else:
                fields |= {"status": Status.FAILED}
            Channel.objects.filter(pk=n.channel_id, failing_since=None).update(failing_since=attempt.started_at)
            Channel.objects.filter(pk=n.channel_id).update(last_error=result.error[:1000])
        Notification.objects.filter(pk=n.pk, status=Status.SENDING).update(**fields)
    return DeliveryOutcome(str(fields.get("status", Status.SENDING)), retry_in)


def enqueue(notification_ids: Iterable[int], *, countdown: float | None = None) -> None:
    from harborops.alerts.tasks import deliver_notification

    options: dict[str, Any] = {"countdown": countdown} if countdown is not None else {}
    for pk in notification_ids:
        deliver_notification.apply_async((pk,), **options)


def dispatch_due(*, at: dt.datetime | None = None) -> list[int]:
    """Enqueue what is due: retries whose backoff ran out (if their own countdown message was
    lost) and sends whose worker died (lease expired). Runs with every evaluation pass."""
    due = list(Notification.objects.filter(claimable(at or now())).values_list("pk", flat=True)[:500])
    enqueue(due)
    return due
