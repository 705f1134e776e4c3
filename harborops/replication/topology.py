"""The replication topology: instances as nodes, policies as arrows coloured by health (server-side SVG,
drawn by templates/replication/htmx/topology_svg.html; the same graph as JSON in the API).

Layout is deterministic: fleet instances on a circle in name order (the first at the top, clockwise),
registries that are no fleet instance ("external") after them. An arrow goes the way the data flows
(push: from the policy's instance to its remote; pull: from the remote to the policy's instance). Arrows
between the same two nodes are curves bent to alternating sides by lane, always measured against the
node pair's own order, so the two directions of a two-way pair (and several policies one way) never
cover each other.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.urls import reverse

from harborops.fleet.models import Instance
from harborops.replication.models import Policy

WIDTH, HEIGHT = 760, 560
NODE_R = 24
LANE = 26  # px of bend per lane
LABELS_UP_TO = 14  # edge labels drawn when there are at most this many arrows (tooltips always)

HEALTH_STROKE = {"stuck": "#8e24aa", "failing": "#d93025", "lagging": "#e37400", "healthy": "#188038",
                 "never_run": "#80868b", "disabled": "#9aa0a6"}
LEGEND = (("healthy", "Healthy"), ("lagging", "Lagging"), ("failing", "Failing"), ("stuck", "Stuck"),
          ("never_run", "Never run"), ("disabled", "Disabled"))


@dataclass
class Node:
    key: str  # "instance:<pk>" or "external:<url>"
    name: str
    kind: str  # instance | external
    x: float
    y: float
    link: str
    instance_id: int | None = None
    label_y: float = 0.0
    label_anchor: str = "middle"
    label_x: float = 0.0


@dataclass
class Edge:
    policy_id: int
    name: str
    source: str  # node key the data comes from
    target: str  # node key it goes to
    health: str
    color: str
    direction: str
    trigger: str
    enabled: bool
    link: str
    source_name: str = ""
    target_name: str = ""
    path: str = ""
    label_x: float = 0.0
    label_y: float = 0.0
    title: str = ""


@dataclass
class Graph:
    width: int
    height: int
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    show_labels: bool = True
    legend: list[tuple[str, str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        keep_node = ("key", "name", "kind", "x", "y", "link", "instance_id")
        keep_edge = ("policy_id", "name", "source", "target", "source_name", "target_name", "health", "color",
                     "direction", "trigger", "enabled", "link")
        return {"width": self.width, "height": self.height,
                "nodes": [{k: v for k, v in asdict(n).items() if k in keep_node} for n in self.nodes],
                "edges": [{k: v for k, v in asdict(e).items() if k in keep_edge} for e in self.edges]}


def _norm(url: str) -> str:
    return url.strip().rstrip("/").lower()


def _size(count: int) -> tuple[int, int, float]:
    """Canvas and circle radius: the default canvas up to ~14 nodes; beyond, the circle grows so that
    neighbours stay more than three node radii apart (labels included)."""
    r = max(min(WIDTH, HEIGHT) / 2 - 70, 3.4 * NODE_R * count / (2 * math.pi))
    return max(WIDTH, int(2 * r + 240)), max(HEIGHT, int(2 * r + 140)), r


def _positions(count: int, width: int, height: int, r: float) -> list[tuple[float, float]]:
    cx, cy = width / 2, height / 2
    if count == 1:
        return [(cx, cy)]
    return [(round(cx + r * math.sin(2 * math.pi * i / count), 1), round(cy - r * math.cos(2 * math.pi * i / count), 1))
            for i in range(count)]


def build(instances: Iterable[Instance] | None = None, policies: Iterable[Policy] | None = None) -> Graph:
    """The graph of the given (default: all) instances and the collected policies between them."""
    insts = sorted(instances if instances is not None else Instance.objects.all(), key=lambda i: (i.name, i.pk))
    pols = list(policies if policies is not None
                else Policy.objects.select_related("instance").filter(instance__in=[i.pk for i in insts]))
    by_url = {_norm(i.url): i for i in insts}
    externals = sorted({_norm(p.remote_url) for p in pols if p.remote_url and _norm(p.remote_url) not in by_url})
    keys = [f"instance:{i.pk}" for i in insts] + [f"external:{u}" for u in externals]
    width, height, radius = _size(len(keys))
    pos = dict(zip(keys, _positions(len(keys), width, height, radius), strict=True))
    g = Graph(width, height, legend=[(h, label, HEALTH_STROKE[h]) for h, label in LEGEND])
    listing = reverse("replication:policy_list")
    for i in insts:
        k = f"instance:{i.pk}"
        g.nodes.append(Node(k, i.name, "instance", *pos[k], link=f"{listing}?instance={i.pk}", instance_id=i.pk))
    for u in externals:
        k = f"external:{u}"
        g.nodes.append(Node(k, u.split("://", 1)[-1], "external", *pos[k], link=""))
    for n in g.nodes:
        _place_label(n, width / 2, height / 2)
    for p in sorted(pols, key=lambda p: (p.instance.name, p.name, p.pk)):
        here = f"instance:{p.instance_id}"
        remote_inst = by_url.get(_norm(p.remote_url)) if p.remote_url else None
        there = f"instance:{remote_inst.pk}" if remote_inst else (f"external:{_norm(p.remote_url)}"
                                                                   if p.remote_url else here)
        src, dst = (there, here) if p.direction == "pull" else (here, there)
        g.edges.append(Edge(p.pk, p.name, src, dst, p.health, HEALTH_STROKE.get(p.health, "#80868b"), p.direction,
                            p.trigger_type, p.enabled, reverse("replication:policy_detail", args=[p.pk]),
                            title=f"{p.instance.name}: {p.name} ({p.direction}, {p.trigger_type}) — "
                                  f"{p.get_health_display()}" + (f": {p.health_reason}" if p.health_reason else "")))
    names = {n.key: n.name for n in g.nodes}
    for e in g.edges:
        e.source_name, e.target_name = names[e.source], names[e.target]
    _route(g, pos)
    g.show_labels = len(g.edges) <= LABELS_UP_TO
    return g


def _place_label(n: Node, cx: float, cy: float) -> None:
    """Name outside the circle, away from the centre, so arrows in the middle stay clear."""
    dx, dy = n.x - cx, n.y - cy
    if abs(dx) < 1 and abs(dy) < 1:
        n.label_x, n.label_y = n.x, n.y + NODE_R + 16
        return
    d = math.hypot(dx, dy)
    n.label_x, n.label_y = round(n.x + dx / d * (NODE_R + 12), 1), round(n.y + dy / d * (NODE_R + 12) + 4, 1)
    n.label_anchor = "start" if dx > 20 else "end" if dx < -20 else "middle"
    if n.label_anchor == "middle":
        n.label_y = round(n.y + (NODE_R + 16 if dy > 0 else -(NODE_R + 6)), 1)


def _route(g: Graph, pos: dict[str, tuple[float, float]]) -> None:
    lanes: dict[tuple[str, str], int] = defaultdict(int)
    for e in g.edges:
        if e.source == e.target:  # a policy to its own instance: a small loop above the node
            x, y = pos[e.source]
            lane = lanes[(e.source, e.source)] = lanes[(e.source, e.source)] + 1
            h = NODE_R + 18 * lane
            e.path = (f"M {x - 10:.1f} {y - NODE_R + 2:.1f} C {x - 30:.1f} {y - h - 20:.1f} "
                      f"{x + 30:.1f} {y - h - 20:.1f} {x + 10:.1f} {y - NODE_R + 2:.1f}")
            e.label_x, e.label_y = x, y - h - 10
            continue
        a, b = sorted((e.source, e.target))
        lanes[(a, b)] += 1
        n = lanes[(a, b)]
        # lanes 1, 2, 3, ... bend +1, -1, +2, -2 ... against the pair's order (a -> b); so a->b and b->a of a
        # two-way pair get opposite sides, and more policies fan out
        side = (n + 1) // 2 * (1 if n % 2 else -1)
        (ax, ay), (bx, by) = pos[a], pos[b]
        length = math.hypot(bx - ax, by - ay) or 1.0
        nx, ny = -(by - ay) / length, (bx - ax) / length  # normal of a->b
        mx, my = (ax + bx) / 2 + nx * LANE * side * 2, (ay + by) / 2 + ny * LANE * side * 2  # control point
        (sx, sy), (tx, ty) = pos[e.source], pos[e.target]
        s = _toward(sx, sy, mx, my, NODE_R + 2)
        t = _toward(tx, ty, mx, my, NODE_R + 6)
        e.path = f"M {s[0]:.1f} {s[1]:.1f} Q {mx:.1f} {my:.1f} {t[0]:.1f} {t[1]:.1f}"
        # the curve's midpoint (t = 0.5 of the quadratic)
        e.label_x = round(0.25 * s[0] + 0.5 * mx + 0.25 * t[0], 1)
        e.label_y = round(0.25 * s[1] + 0.5 * my + 0.25 * t[1], 1)


def _toward(x: float, y: float, tx: float, ty: float, dist: float) -> tuple[float, float]:
    d = math.hypot(tx - x, ty - y) or 1.0
    return x + (tx - x) / d * dist, y + (ty - y) / d * dist
