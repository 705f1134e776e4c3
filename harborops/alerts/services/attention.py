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
from harborops.alerts.services.lifecycle import open_alert_counts, open_alerts_by_severity
from harborops.core.models import JobRun
from harborops.fleet.models import Instance

logger = logging.getLogger(__name__)
T = TypeVar("T")
ALERTS_SHOWN = 50  # the most severe open alerts listed; ``counts`` (the tiles) counts every one


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

    counts: dict[str, int] = field(default_factory=dict)  # every open alert, by severity

    @property
    def alert_counts(self) -> dict[str, int]:
        return self.counts


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
    # defer("password"): the one encrypted column, never shown here (1,000 decryptions cost ~170 ms).
    for inst in Instance.objects.filter(enabled=True).select_related("availability").defer("password").order_by("name"):
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


GC_CONDITIONS = ("gc.success_too_old", "gc.scheduled_run_missed", "gc.window_overrun")


def _gc() -> list[dict[str, Any]]:
    """Overdue or overrunning GC, as the alert evaluation (every minute) found it: the fleet's GC overview
    costs ~150 ms of Python at 1,000 instances, too much for a page that refreshes every 15 s."""
    rows = (Alert.objects.filter(condition__in=GC_CONDITIONS).exclude(state=Alert.State.RESOLVED)
            .order_by("instance_name", "condition")[:8])
    return [{"instance": a.instance_name, "code": a.condition.removeprefix("gc."), "message": a.details or a.summary,
             "link": a.link or "/maintenance/"} for a in rows]


def attention(at: dt.datetime | None = None) -> Attention:
    notes: list[str] = []
    tiles, down = fleet_tiles()
    return Attention(
        at=at or now(), alerts=open_alerts_by_severity(ALERTS_SHOWN), counts=open_alert_counts(), fleet=tiles,
        down=down,
        certificates=_part("certificates", notes, _certificates),
        replications=_part("replication", notes, _replications),
        gc=_part("garbage collection", notes, _gc),
        jobs=list(JobRun.objects.select_related("user")[:8]), notes=notes)
