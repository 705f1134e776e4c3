"""The freed-bytes trend: bytes GC freed per day, stacked by instance, as server-rendered SVG (no
JavaScript library, nothing loaded from elsewhere; drawn like harborops/events/charts.py)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.template.defaultfilters import filesizeformat
from django.utils.timezone import localdate

from harborops.core.svg import Bar
from harborops.maintenance.models import GCStep

PALETTE = ("#1967d2", "#1e8e3e", "#8430ce", "#b06000", "#c5221f", "#007b83", "#9334e6", "#5f6368")


@dataclass
class FreedChart:
    width: int
    height: int
    bars: list[Bar]
    legend: list[tuple[str, str, str]]  # name, colour, total freed (human)
    total: str
    max_day: str
    first_day: dt.date
    last_day: dt.date


def freed_steps(*, days: int, today: dt.date, instance_id: int | None = None) -> list[GCStep]:
    """Finished GC steps that freed something in the last ``days`` days (succeeded or overrun)."""
    start = today - dt.timedelta(days=days - 1)
    rows = (GCStep.objects.filter(status__in=(GCStep.Status.SUCCEEDED, GCStep.Status.OVERRUN),
                                  finished_at__date__gte=start, freed_bytes__gt=0)
            .exclude(finished_at=None))
    if instance_id is not None:
        rows = rows.filter(instance_id=instance_id)
    return list(rows.only("instance_name", "finished_at", "freed_bytes"))


def freed_trend(steps: Iterable[GCStep], *, days: int, today: dt.date, width: int = 900,
                height: int = 170) -> FreedChart | None:
    """One stacked bar per day (oldest left) over ``days`` days ending ``today``; None when nothing was freed."""
    first = today - dt.timedelta(days=days - 1)
    per_day: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for step in steps:
        assert step.finished_at is not None
        day = localdate(step.finished_at)
        if first <= day <= today and step.freed_bytes:
            per_day[day][step.instance_name] += step.freed_bytes
            totals[step.instance_name] += step.freed_bytes
    if not totals:
        return None
    names = sorted(totals)
    colors = {name: PALETTE[n % len(PALETTE)] for n, name in enumerate(names)}
    top = max(sum(v.values()) for v in per_day.values())
    baseline, slot = height - 20, width / days
    bars: list[Bar] = []
    for n in range(days):
        day = first + dt.timedelta(days=n)
        y = float(baseline)
        for name in names:
            freed = per_day.get(day, {}).get(name, 0)
            if not freed:
                continue
            h = (baseline - 18) * freed / top
            y -= h
            bars.append(Bar(round(n * slot + 1, 1), round(y, 1), round(max(slot - 2, 1), 1), round(h, 1),
                            colors[name], f"{day:%Y-%m-%d} {name}: {filesizeformat(freed)} freed"))
    legend = [(name, colors[name], filesizeformat(totals[name])) for name in names]
    return FreedChart(width, height, bars, legend, filesizeformat(sum(totals.values())), filesizeformat(top),
                      first, today)
