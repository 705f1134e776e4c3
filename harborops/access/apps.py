from __future__ import annotations

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "harborops.access"
    label = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        # Registers the access job kinds (apply, drift) in every process that loads the app.
        import harborops.access.tasks  # noqa: F401
        from harborops.access import checks, login  # noqa: F401  (checks registers itself)

        login.connect_signals()
