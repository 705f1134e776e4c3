from __future__ import annotations

from django.apps import AppConfig


class ReplicationConfig(AppConfig):
    name = "harborops.replication"
    label = "replication"
    verbose_name = "Replication"

    def ready(self) -> None:
        # Registers the replication.* job kinds and alert conditions in every process; /metrics gauges.
        import harborops.replication.conditions
        import harborops.replication.tasks  # noqa: F401
        from harborops.core.metrics import register_db_collector
        from harborops.replication.metrics import ReplicationCollector

        register_db_collector(ReplicationCollector())
