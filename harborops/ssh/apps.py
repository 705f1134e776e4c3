from __future__ import annotations

from django.apps import AppConfig


class SSHConfig(AppConfig):
    name = "harborops.ssh"
    label = "ssh"
    verbose_name = "SSH hosts"

    def ready(self) -> None:
        # Registers the "ssh.check" job kind in every process that loads the app.
        import harborops.ssh.tasks  # noqa: F401
