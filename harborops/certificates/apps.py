from __future__ import annotations

from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "harborops.certificates"
    label = "certificates"
    verbose_name = "Certificates"

    def ready(self) -> None:
        # Registers the job kinds in every process that loads the app (web and workers).
        import harborops.certificates.conditions
        import harborops.certificates.tasks  # noqa: F401
        from harborops.certificates.metrics import CertificateCollector
        from harborops.core.metrics import register_db_collector

        register_db_collector(CertificateCollector())
