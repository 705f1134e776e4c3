"""Shapes the server-side SVG charts share (events, GC; drawn by templates, no JavaScript library)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Bar:
    """One rectangle of a bar chart, in the chart's own coordinates, with its hover text."""

    x: float
    y: float
    width: float
    height: float
    color: str
    title: str
