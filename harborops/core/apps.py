from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "harborops.core"
    label = "core"
    verbose_name = "harborops core"

    def ready(self) -> None:
        import harborops.celery  # noqa: F401  (makes the harborops Celery app the current one)
        from harborops.core import beat, checks, job_conditions, signals  # noqa: F401  (checks, signals, conditions)
        from harborops.core.redaction import install_record_factory

        install_record_factory()
