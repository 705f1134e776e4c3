"""Celery tasks of the alerts app: thin, over services (STYLE G7)."""

from __future__ import annotations

from celery import shared_task
from django.db import IntegrityError
from django.utils.timezone import now

from harborops.alerts.services import delivery, lifecycle
from harborops.core.conditions import evaluate_all


@shared_task(acks_late=True, name="harborops.alerts.tasks.evaluate_alerts", queue="periodic")
def evaluate_alerts() -> str:
    """Beat, every minute: re-send what is due, evaluate every condition source, reconcile."""
    redispatched = delivery.dispatch_due()
    at = now()
    evaluation = evaluate_all(at)
    try:
        result = lifecycle.reconcile(evaluation, at)
    except IntegrityError:
        # Another pass (a late beat message) opened the same alert first; its rows are there now.
        result = lifecycle.reconcile(evaluation, at)
    return result.summary() + (f"; {len(redispatched)} delivery(ies) re-queued" if redispatched else "")


@shared_task(acks_late=True, name="harborops.alerts.tasks.deliver_notification", queue="periodic")
def deliver_notification(notification_id: int) -> str:
    """One attempt; a retryable failure schedules the next one with exponential backoff."""
    outcome = delivery.deliver(notification_id)
    if outcome.retry_in is not None:
        deliver_notification.apply_async((notification_id,), countdown=outcome.retry_in)
        return f"notification {notification_id}: {outcome.status}, retry in {outcome.retry_in:.0f}s"
    return f"notification {notification_id}: {outcome.status}"
