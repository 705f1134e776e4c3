from __future__ import annotations

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "harborops.events"
    label = "events"
    verbose_name = "Harbor audit events"

    def ready(self) -> None:
        # Registers the events.* job kinds and alert conditions in every process that loads the app.
        import harborops.events.conditions
        import harborops.events.tasks  # noqa: F401
