from __future__ import annotations

from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "harborops.fleet"
    label = "fleet"
    verbose_name = "Fleet"

    def ready(self) -> None:
        # Registers the "fleet.sweep" job kind in every process that loads the app (web and workers).
        import harborops.fleet.tasks  # noqa: F401
        from harborops.core.metrics import register_db_collector
        from harborops.fleet.metrics import FleetCollector, InstanceCollector

        register_db_collector(FleetCollector())
        register_db_collector(InstanceCollector())
