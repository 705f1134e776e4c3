"""Activity chart (events per day, stacked by operation) as server-rendered SVG data."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harborops.core.svg import Bar

OP_COLORS = {"create": "#1e8e3e", "delete": "#c5221f", "pull": "#1967d2", "update": "#b06000",
             "login": "#8430ce", "logout": "#a142f4", "harborops": "#14263b"}
OTHER_COLORS = ("#12b5cb", "#e52592", "#f9ab00", "#5f6368", "#7cb342", "#795548")


@dataclass
class ActivityChart:
    width: int
    height: int
    bars: list[Bar]
    legend: list[tuple[str, str, int]]  # operation, color, total
    max_day: int
    first_day: str
    last_day: str
    total: int


def activity_chart(points: Sequence[tuple[Any, str, int]], width: int = 900, height: int = 140) -> ActivityChart | None:
    if not points:
        return None
    per_day: dict[Any, dict[str, int]] = defaultdict(dict)
    totals: dict[str, int] = defaultdict(int)
    for day, op, n in points:
        per_day[day][op] = per_day[day].get(op, 0) + n
        totals[op] += n
    ops = sorted(totals, key=lambda o: (-totals[o], o))
    colors: dict[str, str] = {}
    for i, op in enumerate(ops):
        colors[op] = OP_COLORS.get(op, OTHER_COLORS[i % len(OTHER_COLORS)])
    days = sorted(per_day)
    max_day = max(sum(v.values()) for v in per_day.values()) or 1
    plot_h = height - 20
    step = width / len(days)
    bar_w = max(1.0, step * 0.8)
    bars: list[Bar] = []
    for i, day in enumerate(days):
        y = float(plot_h)
        for op in ops:
            n = per_day[day].get(op, 0)
            if not n:
                continue
            h = n / max_day * (plot_h - 10)
            y -= h
            bars.append(Bar(round(i * step, 1), round(y, 1), round(bar_w, 1), round(max(h, 0.5), 1), colors[op],
                            f"{day}: {n} {op}"))
    return ActivityChart(width, height, bars, [(op, colors[op], totals[op]) for op in ops], max_day,
                         str(days[0]), str(days[-1]), sum(totals.values()))
