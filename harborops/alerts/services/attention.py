"""What needs attention now: the home page and ``GET /api/attention/`` read the same data.

Each part that comes from another app is read defensively: a broken or missing app costs its
part of the page (with a note), never the page.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.utils.timezone import now

from harborops.alerts.models import Alert, InstanceAvailability
from harborops.alerts.services.lifecycle import open_alerts_by_severity
from harborops.core.models import JobRun
from harborops.fleet.models import Instance

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Attention:
    at: dt.datetime
    alerts: list[Alert]
    fleet: dict[str, int]
    down: list[Instance]
    certificates: list[dict[str, Any]]
    replications: list[dict[str, Any]]
    gc: list[dict[str, Any]]
    jobs: list[JobRun]
    notes: list[str] = field(default_factory=list)

    @property
    def alert_counts(self) -> dict[str, int]:
        counts = {"critical": 0, "warning": 0, "info": 0}
        for a in self.alerts:
            counts[a.severity] = counts.get(a.severity, 0) + 1
        return counts


def _part(name: str, notes: list[str], fn: Callable[[], list[T]]) -> list[T]:
    try:
        return fn()
    except Exception as exc:  # another app's data: never let it take the home page down
        logger.exception("attention: reading %s failed", name)
        notes.append(f"{name}: could not be read ({type(exc).__name__})")
        return []


def fleet_tiles() -> tuple[dict[str, int], list[Instance]]:
    """Enabled instances as up / degraded / down (debounced down) / unknown."""
    tiles = {"up": 0, "degraded": 0, "down": 0, "unknown": 0}
    down: list[Instance] = []
    for inst in Instance.objects.filter(enabled=True).select_related("availability").order_by("name"):
        av: InstanceAvailability | None = getattr(inst, "availability", None)
        if av is not None and av.state == InstanceAvailability.State.DOWN:
            tiles["down"] += 1
            down.append(inst)
        elif inst.status == Instance.Status.DEGRADED:
            tiles["degraded"] += 1
        elif av is not None and av.state == InstanceAvailability.State.UP:
            tiles["up"] += 1
        else:
            tiles["unknown"] += 1
    return tiles, down


def _certificates() -> list[dict[str, Any]]:
    from harborops.certificates.models import Endpoint

    rows = Endpoint.objects.filter(enabled=True, leaf__isnull=False).select_related("leaf").order_by(
        "leaf__not_after")[:5]
    out = []
    for e in rows:
        assert e.leaf is not None
        out.append({"name": e.label or e.host, "host": f"{e.host}:{e.port}", "not_after": e.leaf.not_after,
                    "days_left": int((e.leaf.not_after - now()).total_seconds() // 86400),
                    "link": e.get_absolute_url()})
    return out


def _replications() -> list[dict[str, Any]]:
    from django.urls import reverse

    from harborops.replication.models import Policy

    bad = (Policy.Health.STUCK, Policy.Health.FAILING, Policy.Health.LAGGING)
    rows = Policy.objects.filter(health__in=bad).select_related("instance").order_by("health", "name")[:8]
    return [{"name": p.name, "instance": p.instance.name, "health": p.health, "reason": p.health_reason,
             "link": reverse("replication:policy_detail", args=[p.pk])} for p in rows]


def _gc() -> list[dict[str, Any]]:
    from harborops.maintenance.services.watchdog import overview

    wanted = {"success_too_old", "scheduled_run_missed", "window_overrun"}
    out = []
    for row in overview():
        for f in row.findings:
            if f.code in wanted:
                out.append({"instance": row.instance.name, "code": f.code, "message": f.message,
                            "link": "/maintenance/"})
    return out[:8]


def attention(at: dt.datetime | None = None) -> Attention:
    notes: list[str] = []
    tiles, down = fleet_tiles()
    return Attention(
        at=at or now(), alerts=open_alerts_by_severity(), fleet=tiles, down=down,
        certificates=_part("certificates", notes, _certificates),
        replications=_part("replication", notes, _replications),
        gc=_part("garbage collection", notes, _gc),
        jobs=list(JobRun.objects.select_related("user")[:8]), notes=notes)
