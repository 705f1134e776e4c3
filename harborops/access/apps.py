from __future__ import annotations

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "harborops.access"
    label = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        # Registers the access job kinds (apply, drift), alert conditions and drift gauges in every process.
        import harborops.access.conditions
        import harborops.access.tasks  # noqa: F401
        from harborops.access import checks, login  # noqa: F401  (checks registers itself)
        from harborops.access.metrics import DriftCollector
        from harborops.core.metrics import register_db_collector

        register_db_collector(DriftCollector())
        login.connect_signals()
