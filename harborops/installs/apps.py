from __future__ import annotations

from django.apps import AppConfig


class InstallsConfig(AppConfig):
    name = "harborops.installs"
    label = "installs"
    verbose_name = "Harbor installs"

    def ready(self) -> None:
        # Registers the "installs.run" job kind in every process that loads the app.
        import harborops.installs.tasks  # noqa: F401
        from harborops.installs.services import host_use
        from harborops.ssh import uses

        uses.register("installs", host_use)  # the SSH layer asks, it never imports installs
