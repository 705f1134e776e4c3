"""Which channels an alert goes to (routes in order, then the default route)."""

from __future__ import annotations

from dataclasses import dataclass

from harborops.alerts.models import Alert, Channel, Route


@dataclass(frozen=True)
class Target:
    channel: Channel
    route: Route


def load_routes() -> list[Route]:
    return list(Route.objects.filter(enabled=True).prefetch_related("channels"))


def targets_for(alert: Alert, routes: list[Route]) -> list[Target]:
    """Routes in ``position`` order: each matching one adds its channels; the first match stops the
    walk unless it says ``continue_matching``. Nothing matched: the default route(s). Each channel
    at most once."""
    matched: list[Route] = []
    for route in routes:
        if route.is_default or not route.matches(alert):
            continue
        matched.append(route)
        if not route.continue_matching:
            break
    if not matched:
        matched = [r for r in routes if r.is_default]
    out: dict[int, Target] = {}
    for route in matched:
        for channel in route.channels.all():
            if channel.enabled and channel.pk not in out:
                out[channel.pk] = Target(channel, route)
    return list(out.values())
