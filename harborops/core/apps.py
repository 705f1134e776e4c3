from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "harborops.core"
    label = "core"
    verbose_name = "harborops core"

    def ready(self) -> None:
        import harborops.celery  # noqa: F401  (makes the harborops Celery app the current one)
        from harborops.core import beat, checks, signals  # noqa: F401  (registers checks and signals)
        from harborops.core.redaction import install_record_factory

        install_record_factory()
