from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "harborops.alerts"
    label = "alerts"
    verbose_name = "Alerts (lifecycle, silences, routes, channels)"

    def ready(self) -> None:
        # Register the Celery tasks and the condition sources this app evaluates itself: the fleet's
        # (harborops/fleet/conditions.py belongs to the alerts work) and the alerts app's own
        # (a notification channel failing for hours).
        import harborops.alerts.checks
        import harborops.alerts.conditions
        import harborops.alerts.tasks
        import harborops.fleet.conditions  # noqa: F401
