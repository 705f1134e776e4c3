"""Server-rendered SVG charts: no JavaScript library, nothing loaded from elsewhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harborops.fleet.models import HealthSnapshot

STATUS_COLORS = {"up": "#1e8e3e", "degraded": "#b06000", "down": "#c5221f", "unknown": "#9aa0a6"}


@dataclass
class TimelineChart:
    width: int
    height: int
    bars: list[tuple[float, float, str, str]]  # x, width, color, title
    latency_points: str
    max_latency: int
    storage_points: str  # used storage in % of total, 0 at the bottom
    start: dt.datetime
    end: dt.datetime

def timeline(snapshots: Sequence[HealthSnapshot], width: int = 900, height: int = 120) -> TimelineChart | None:
    """Status as coloured bars along time, latency as a line above them (oldest left)."""
    if not snapshots:
        return None
    ordered = sorted(snapshots, key=lambda s: s.taken_at)
    start, end = ordered[0].taken_at, ordered[-1].taken_at
    span = max((end - start).total_seconds(), 1.0)
    step = width / max(len(ordered), 1)
    max_latency = max((s.latency_ms or 0) for s in ordered) or 1
    bars, points, storage = [], [], []
    for i, snap in enumerate(ordered):
        x = (snap.taken_at - start).total_seconds() / span * (width - step) if len(ordered) > 1 else 0.0
        title = f"{snap.taken_at:%Y-%m-%d %H:%M} {snap.status}" + (f", {snap.latency_ms} ms" if snap.latency_ms else "")
        bars.append((round(x, 1), round(max(step, 2.0), 1), STATUS_COLORS.get(snap.status, "#9aa0a6"), title))
        if snap.latency_ms is not None:
            y = (height - 30) - (snap.latency_ms / max_latency) * (height - 40)
            points.append(f"{x + step / 2:.1f},{y:.1f}")
        if snap.storage_total and snap.storage_free is not None:
            used = 1 - snap.storage_free / snap.storage_total
            storage.append(f"{x + step / 2:.1f},{(height - 10) - used * (height - 20):.1f}")
        del i
    return TimelineChart(width, height, bars, " ".join(points), max_latency, " ".join(storage), start, end)


@dataclass
class VersionBar:
    version: str
    count: int
    percent: int


def _version_key(version: str) -> tuple[int, ...]:
    digits = version.lstrip("v").split("-")[0].split(".")
    return tuple(int(d) if d.isdigit() else -1 for d in digits)


def version_bars(counts: Iterable[tuple[str, int]]) -> list[VersionBar]:
    """Instances per Harbor release (build suffix dropped), newest first: the fleet's version drift."""
    merged: dict[str, int] = {}
    for version, n in counts:
        key = version.split("-")[0] if version else "unknown"
        merged[key] = merged.get(key, 0) + n
    top = max(merged.values(), default=1)
    ordered = sorted(merged, key=lambda v: (v != "unknown", _version_key(v)), reverse=True)
    return [VersionBar(v, merged[v], round(100 * merged[v] / top)) for v in ordered]
