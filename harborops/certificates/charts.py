"""The expiry timeline: server-rendered SVG (no JavaScript library, nothing loaded from elsewhere),
drawn like the fleet's charts (harborops/fleet/charts.py)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from harborops.certificates.models import BAND_COLORS, band_of

MONTHS = 12


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str
    count: int
    title: str


@dataclass
class ExpiryChart:
    width: int
    height: int
    baseline: int
    bars: list[Bar]
    top: int


def _add_months(start: dt.datetime, months: int) -> dt.datetime:
    year, month = divmod(start.month - 1 + months, 12)
    return start.replace(year=start.year + year, month=month + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def expiry_timeline(not_afters: Iterable[dt.datetime], now: dt.datetime, width: int = 900,
                    height: int = 160) -> ExpiryChart | None:
    """Certificates by when they expire: one bar for "already expired", then one per month for the
    next twelve (coloured by the band the month's first day falls in), then "later"."""
    values = list(not_afters)
    if not values:
        return None
    edges = [now] + [_add_months(now, m) for m in range(1, MONTHS + 1)]
    buckets: list[tuple[str, str, int]] = [("expired", BAND_COLORS["expired"], sum(v <= now for v in values))]
    for start, end in itertools.pairwise(edges):
        count = sum(start < v <= end for v in values)
        buckets.append((f"{start:%b %y}", BAND_COLORS[band_of(start + dt.timedelta(days=1), now)], count))
    buckets.append(("later", BAND_COLORS["ok"], sum(v > edges[-1] for v in values)))
    top = max(count for _, _, count in buckets) or 1
    baseline = height - 22
    slot = width / len(buckets)
    bars = []
    for i, (label, color, count) in enumerate(buckets):
        h = (baseline - 16) * count / top
        bars.append(Bar(x=round(i * slot + 4, 1), y=round(baseline - h, 1), width=round(slot - 8, 1),
                        height=round(h, 1), color=color, label=label, count=count,
                        title=f"{label}: {count} certificate(s)"))
    return ExpiryChart(width, height, baseline, bars, top)
