"""The alerts app's models: debounced availability, alert lifecycle and silences, routes, channels,
notifications (an outbox) and their delivery attempts."""

from __future__ import annotations

from harborops.alerts.models.alerts import SEVERITY_CHOICES, SEVERITY_RANK, Alert, Silence
from harborops.alerts.models.availability import InstanceAvailability
from harborops.alerts.models.delivery import Channel, DeliveryAttempt, Notification, Route

__all__ = ("SEVERITY_CHOICES", "SEVERITY_RANK", "Alert", "Channel", "DeliveryAttempt", "InstanceAvailability",
           "Notification", "Route", "Silence")
