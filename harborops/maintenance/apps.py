from __future__ import annotations

from django.apps import AppConfig


class MaintenanceConfig(AppConfig):
    name = "harborops.maintenance"
    label = "maintenance"
    verbose_name = "Maintenance (garbage collection)"

    def ready(self) -> None:
        # Registers the maintenance job kinds in every process that loads the app (web and workers).
        # ... and its alert conditions (gc.*) in the registry of harborops/core/conditions.py.
        import harborops.maintenance.conditions
        import harborops.maintenance.tasks  # noqa: F401
        from harborops.core.metrics import register_db_collector
        from harborops.maintenance.metrics import GCCollector

        register_db_collector(GCCollector())
